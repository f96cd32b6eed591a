// RFC 6238 one-time codes as CONTRACT §10 fixes them: 6 digits, 30 s steps, HMAC-SHA-1, and the
// codes of the previous, current and next step accepted (clock drift between phone and server).
// The codes themselves are otpauth's; which step a code was for is what single use is keyed by.
import { Secret, TOTP } from "otpauth";

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** 160 bits, RFC 4226 §4's recommended length (and SHA-1's output). */
export const SECRET_BYTES = 20;
const ISSUER = "Cowork Portal";

const totpOf = (secret: Uint8Array, label = "account") =>
  new TOTP({
    issuer: ISSUER,
    label,
    algorithm: "SHA1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    secret: new Secret({ buffer: Uint8Array.from(secret).buffer }),
  });

/** A fresh secret, its base32 text and the otpauth:// URI an authenticator app reads. */
export function newSecret(label: string): { bytes: Uint8Array; base32: string; uri: string } {
  const secret = new Secret({ size: SECRET_BYTES });
  const bytes = new Uint8Array(secret.bytes);
  return { bytes, base32: secret.base32, uri: totpOf(bytes, label).toString() };
}

/**
 * The time step `code` belongs to (previous, current or next at `now`), or null when it is not
 * a code of any of them. Anything but six digits is no code.
 */
export function stepOfCode(secret: Uint8Array, code: string, now = Date.now()): number | null {
  if (!/^[0-9]{6}$/.test(code)) return null;
  const delta = totpOf(secret).validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  return TOTP.counter({ period: TOTP_PERIOD_S, timestamp: now }) + delta;
}

/** The code of the step that holds `at` (tests, the portal's own checks). */
export const codeAt = (secret: Uint8Array, at: number): string =>
  totpOf(secret).generate({ timestamp: at });
