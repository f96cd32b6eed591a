// Password hashing: format, verification, salts, stored parameters, and the dummy check that
// makes an unknown email cost as much as a wrong password.
import { randomBytes, scryptSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashPassword, verifyAgainstDummy, verifyPassword } from "./password";

const FORMAT = /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

describe("hashPassword", () => {
  it("stores scheme, parameters, a 16-byte salt and a 32-byte key in base64url", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(FORMAT);
    expect(hash).not.toContain("correct horse");
  });

  it("salts every hash differently", async () => {
    const [first, second] = await Promise.all([
      hashPassword("same-password"),
      hashPassword("same-password"),
    ]);
    expect(first).not.toBe(second);
    expect(first.split("$")[4]).not.toBe(second.split("$")[4]);
    expect(await verifyPassword("same-password", first)).toBe(true);
    expect(await verifyPassword("same-password", second)).toBe(true);
  });
});

describe("verifyPassword", () => {
  it("accepts the password and refuses anything else", async () => {
    const hash = await hashPassword("demo-member-pass");
    expect(await verifyPassword("demo-member-pass", hash)).toBe(true);
    for (const wrong of [
      "demo-member-pas",
      "demo-member-pass ",
      "DEMO-MEMBER-PASS",
      "",
      "demo-admin-pass",
    ]) {
      expect(await verifyPassword(wrong, hash), JSON.stringify(wrong)).toBe(false);
    }
  });

  it("refuses against a tampered key or salt", async () => {
    const hash = await hashPassword("secret-pass");
    const parts = hash.split("$");
    const key = Buffer.from(parts[5]!, "base64url");
    key[0] = key[0]! ^ 1;
    expect(
      await verifyPassword(
        "secret-pass",
        [...parts.slice(0, 5), key.toString("base64url")].join("$"),
      ),
    ).toBe(false);
    const otherSalt = randomBytes(16).toString("base64url");
    expect(
      await verifyPassword("secret-pass", [...parts.slice(0, 4), otherSalt, parts[5]].join("$")),
    ).toBe(false);
    expect(
      await verifyPassword(
        "secret-pass",
        [...parts.slice(0, 5), key.subarray(0, 16).toString("base64url")].join("$"),
      ),
    ).toBe(false);
  });

  it("refuses stored values of another scheme or shape", async () => {
    for (const stored of [
      "",
      "plain-text-password",
      "bcrypt$2b$10$abc",
      "scrypt$32768$8$1$salt",
      "$$$$$",
    ]) {
      expect(await verifyPassword("plain-text-password", stored), stored).toBe(false);
    }
  });

  it("uses the parameters stored with each hash, so they can be raised later", async () => {
    const salt = randomBytes(16);
    const key = scryptSync("older-pass", salt, 32, { N: 1024, r: 8, p: 1 });
    const stored = `scrypt$1024$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
    expect(await verifyPassword("older-pass", stored)).toBe(true);
    expect(await verifyPassword("other-pass", stored)).toBe(false);
  });

  it("matches the same password however its Unicode is composed", async () => {
    const hash = await hashPassword("caf\u00e9-pass");
    expect(await verifyPassword("cafe\u0301-pass", hash)).toBe(true);
  });
});

describe("verifyAgainstDummy", () => {
  it("always answers false, whatever the password", async () => {
    for (const password of ["demo-member-pass", "", "x".repeat(1024)]) {
      expect(await verifyAgainstDummy(password)).toBe(false);
    }
  });

  it("does the same work as a real verification", async () => {
    const hash = await hashPassword("timing-pass");
    await verifyAgainstDummy("warm-up");
    await verifyPassword("warm-up", hash);
    const time = async (run: () => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < 3; i++) await run();
      return performance.now() - started;
    };
    const real = await time(() => verifyPassword("wrong-pass", hash));
    const dummy = await time(() => verifyAgainstDummy("wrong-pass"));
    // Generous bounds: the point is that the dummy path runs scrypt too, not that timings are exact.
    expect(dummy).toBeGreaterThan(real * 0.3);
    expect(dummy).toBeLessThan(real * 3);
  });
});
