// One front door: every verification of every token goes through jose, which asks WebCrypto to
// check the signature with the key imported when the key set was loaded. No token text is taken
// on trust because it was signed or verified here before, and no key is imported per token.
import { randomUUID } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { generatePrivateJwk, loadKeySet } from "./keys";
import {
  CLOCK_TOLERANCE_S,
  InvalidTokenError,
  signToken,
  type TokenSigner,
  verifyAccessToken,
  verifyImpersonationToken,
  verifyToken,
} from "./tokens";

const ISSUER = "https://portal.test";
const NOW_S = Math.floor(Date.now() / 1000);
const NOW = new Date(NOW_S * 1000);
const at = (seconds: number, ms = 0) => new Date(seconds * 1000 + ms);

let signer: TokenSigner;

beforeAll(async () => {
  signer = { keys: await loadKeySet([await generatePrivateJwk()]), issuer: ISSUER };
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The signature checks jose asks WebCrypto for, and any key imported meanwhile. */
function watchWebCrypto() {
  return {
    verify: vi.spyOn(crypto.subtle, "verify"),
    importKey: vi.spyOn(crypto.subtle, "importKey"),
  };
}

const impersonationToken = () =>
  signToken(
    signer,
    "impersonation",
    { sub: "4", coworker_id: 42, act: { sub: "2" } },
    { expiresAt: at(NOW_S + 60), jti: randomUUID(), now: NOW },
  );

const accessToken = () =>
  signToken(
    signer,
    "access",
    { sub: "2", sid: randomUUID() },
    { expiresAt: at(NOW_S + 600), now: NOW },
  );

describe("every verification goes through jose", () => {
  it("checks the signature of an impersonation token signed by this very process", async () => {
    const token = impersonationToken();
    const webCrypto = watchWebCrypto();
    const first = await verifyImpersonationToken(signer, token, NOW);
    expect(webCrypto.verify).toHaveBeenCalledTimes(1);
    // A second presentation of the same text (single use is the database's job) is checked again.
    expect(await verifyImpersonationToken(signer, token, NOW)).toEqual(first);
    expect(webCrypto.verify).toHaveBeenCalledTimes(2);
    expect(webCrypto.importKey).not.toHaveBeenCalled();
  });

  it("checks the signature of an access token at every verification, the same text included", async () => {
    const token = accessToken();
    const webCrypto = watchWebCrypto();
    const first = await verifyAccessToken(signer, token, NOW);
    for (let call = 2; call <= 4; call += 1) {
      expect(await verifyAccessToken(signer, token, NOW)).toEqual(first);
      expect(webCrypto.verify).toHaveBeenCalledTimes(call);
    }
    expect(webCrypto.importKey).not.toHaveBeenCalled();
  });

  it("uses the key imported with the key set, with the algorithm pinned", async () => {
    const token = accessToken();
    const webCrypto = watchWebCrypto();
    await verifyToken(signer, "access", token, NOW);
    const [[algorithm, key]] = webCrypto.verify.mock.calls as unknown as [[unknown, CryptoKey]];
    expect(key).toBe(signer.keys.verifying.get(decodeProtectedHeader(token).kid!));
    expect(algorithm).toMatchObject({ name: "Ed25519" });
  });

  it("checks the signature of a token verified before also at the moment it expires", async () => {
    const token = accessToken();
    const webCrypto = watchWebCrypto();
    await verifyAccessToken(signer, token, NOW);
    await expect(
      verifyAccessToken(signer, token, at(NOW_S + 600 + CLOCK_TOLERANCE_S, -1)),
    ).resolves.toMatchObject({ sub: "2" });
    const expired = await verifyAccessToken(
      signer,
      token,
      at(NOW_S + 600 + CLOCK_TOLERANCE_S),
    ).catch((error: unknown) => error);
    expect(expired).toBeInstanceOf(InvalidTokenError);
    expect(expired).toMatchObject({ reason: "expired", expiredPayload: { sub: "2" } });
    expect(webCrypto.verify).toHaveBeenCalledTimes(3);
  });
});
