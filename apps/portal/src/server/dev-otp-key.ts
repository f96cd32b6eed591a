// Outside production, without OTP_ENCRYPTION_KEY: a key generated once and kept in a file beside
// the embedded database (`<PGLITE_DIR>.otp-key`, readable by this user only), so that restarts and
// every development process on this machine open the same secrets. Production never gets here:
// its configuration refuses to start without the variable.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseOtpKey } from "@cowork/api";

export function developmentOtpKey(pgliteDir: string): {
  key: Buffer;
  path: string;
  created: boolean;
} {
  const path = `${pgliteDir.replace(/\/+$/, "")}.otp-key`;
  try {
    const key = parseOtpKey(readFileSync(path, "utf8"));
    if (key) return { key, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  // `wx`: of two processes starting at once, one writes; the other reads what it wrote.
  try {
    writeFileSync(path, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    return { key, path, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return { key: parseOtpKey(readFileSync(path, "utf8"))!, path, created: false };
  }
}
