// Secrets at rest (one-time-code secrets, webhook keys): sealed with AES-256-GCM under the
// service's key (OTP_ENCRYPTION_KEY), bound to what they belong to (the additional data), so a
// database dump alone yields no secret and a sealed secret copied to another row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

const otpOwner = (userId: number) => `otp-secret:user:${userId}`;

/** `v1.` + base64url(iv ‖ tag ‖ ciphertext), bound to `owner`. */
export function sealBound(key: Buffer, owner: string, secret: Uint8Array): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(owner, "utf8"));
  const sealed = Buffer.concat([cipher.update(secret), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url")}`;
}

/** The secret, or null when it does not open under this key for this owner (never a guess). */
export function openBound(key: Buffer, owner: string, text: string): Uint8Array | null {
  const [version, payload] = text.split(".");
  if (version !== VERSION || !payload) return null;
  const bytes = Buffer.from(payload, "base64url");
  if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES))
      .setAAD(Buffer.from(owner, "utf8"))
      .setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

/** A user's one-time-code secret, sealed. */
export const sealSecret = (key: Buffer, userId: number, secret: Uint8Array): string =>
  sealBound(key, otpOwner(userId), secret);

/** A user's one-time-code secret, or null when it does not open for this user. */
export const openSecret = (key: Buffer, userId: number, text: string): Uint8Array | null =>
  openBound(key, otpOwner(userId), text);
