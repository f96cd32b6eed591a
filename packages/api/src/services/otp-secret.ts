// One-time-code secrets at rest: sealed with AES-256-GCM under the service's key
// (OTP_ENCRYPTION_KEY), bound to their user, so a database dump alone yields no secret and a
// sealed secret copied to another user's row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

const aad = (userId: number) => Buffer.from(`otp-secret:user:${userId}`, "utf8");

/** `v1.` + base64url(iv ‖ tag ‖ ciphertext). */
export function sealSecret(key: Buffer, userId: number, secret: Uint8Array): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad(userId));
  const sealed = Buffer.concat([cipher.update(secret), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url")}`;
}

/** The secret, or null when it does not open under this key for this user (never a guess). */
export function openSecret(key: Buffer, userId: number, text: string): Uint8Array | null {
  const [version, payload] = text.split(".");
  if (version !== VERSION || !payload) return null;
  const bytes = Buffer.from(payload, "base64url");
  if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES))
      .setAAD(aad(userId))
      .setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}
