// A token whose exact text this process signed (impersonation) or verified before (access) is
// taken without a second signature check. It must never accept what jose would refuse, and never
// stand in for anything but that very text, of that kind, issuer and key set.
import { randomUUID } from "node:crypto";
import { decodeJwt } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { generatePrivateJwk, loadKeySet, type PrivateJwk } from "./keys";
import {
  CLOCK_TOLERANCE_S,
  InvalidTokenError,
  signToken,
  type TokenSigner,
  verifyAccessToken,
  verifyImpersonationToken,
} from "./tokens";

const ISSUER = "https://portal.test";
const NOW_S = Math.floor(Date.now() / 1000);
const NOW = new Date(NOW_S * 1000);
const at = (seconds: number, ms = 0) => new Date(seconds * 1000 + ms);

let jwk: PrivateJwk;
let signer: TokenSigner;
/** The same key and issuer in a key set of its own: it knows no token, so jose verifies all. */
let twin: TokenSigner;

beforeAll(async () => {
  jwk = await generatePrivateJwk();
  signer = { keys: await loadKeySet([jwk]), issuer: ISSUER };
  twin = { keys: await loadKeySet([jwk]), issuer: ISSUER };
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts the signature checks jose asks WebCrypto for. */
const signatureChecks = () => vi.spyOn(crypto.subtle, "verify");

function impersonationToken(claims: Record<string, unknown> = {}, lifetimeS = 60, iatS = NOW_S) {
  return signToken(
    signer,
    "impersonation",
    { sub: "4", coworker_id: 42, act: { sub: "2" }, ...claims },
    { expiresAt: at(iatS + lifetimeS), jti: randomUUID(), now: at(iatS) },
  );
}

/** What verifying answers: the claims, or the refusal's reason and recorded claims. */
async function outcome(verification: Promise<unknown>) {
  try {
    return { accepted: await verification };
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    const { reason, expiredPayload } = error as InvalidTokenError;
    return { reason, expiredPayload };
  }
}

describe("an impersonation token signed here", () => {
  it("is taken at its first verification without a signature check, and verified by jose after", async () => {
    const token = impersonationToken();
    const checks = signatureChecks();
    const first = await verifyImpersonationToken(signer, token, NOW);
    expect(checks).not.toHaveBeenCalled();
    expect(first).toEqual({
      sub: "4",
      coworker_id: 42,
      act: { sub: "2" },
      jti: decodeJwt(token).jti,
    });
    // Single use is the database's job; a second presentation is verified in full again.
    expect(await verifyImpersonationToken(signer, token, NOW)).toEqual(first);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it("answers exactly as jose does around its expiry", async () => {
    for (const ms of [-1, 0]) {
      const token = impersonationToken();
      const when = at(NOW_S + 60 + CLOCK_TOLERANCE_S, ms);
      const known = await outcome(verifyImpersonationToken(signer, token, when));
      expect(known).toEqual(await outcome(verifyImpersonationToken(twin, token, when)));
      if (ms === -1) expect(known).toHaveProperty("accepted");
      else expect(known).toMatchObject({ reason: "expired", expiredPayload: { sub: "4" } });
    }
  });

  it("is refused for every claim jose or our rules refuse, with the same reason", async () => {
    const cases: [string, string][] = [
      ["a sub that is not a user id", impersonationToken({ sub: "admin" })],
      ["no sub", impersonationToken({ sub: undefined })],
      ["no coworker_id", impersonationToken({ coworker_id: undefined })],
      ["a nested act", impersonationToken({ act: { sub: "2", act: { sub: "3" } } })],
      ["a lifetime over the cap", impersonationToken({}, 3600)],
      ["an iat in the future", impersonationToken({}, 60, NOW_S + CLOCK_TOLERANCE_S + 5)],
      ["an nbf in the future", impersonationToken({ nbf: NOW_S + CLOCK_TOLERANCE_S + 5 })],
    ].map(([name, token]) => [name!, token!]);
    for (const [name, token] of cases) {
      const viaJose = await outcome(verifyImpersonationToken(twin, token, NOW));
      expect(viaJose, name).toHaveProperty("reason");
      expect(await outcome(verifyImpersonationToken(signer, token, NOW)), name).toEqual(viaJose);
    }
  });

  it("never stands in for the other kind, another issuer, or an altered copy", async () => {
    const token = impersonationToken();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const firstChar = signature[0] === "A" ? "B" : "A";
    const altered = [
      `${header}.${payload}.${firstChar}${signature.slice(1)}`,
      `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: "1" })).toString("base64url")}.${signature}`,
    ];
    for (const copy of altered) {
      expect(await outcome(verifyImpersonationToken(signer, copy, NOW))).toMatchObject({
        reason: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
      });
    }
    expect(await outcome(verifyAccessToken(signer, token, NOW))).toMatchObject({
      reason: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
    const otherIssuer = { keys: signer.keys, issuer: "https://elsewhere.test" };
    expect(await outcome(verifyImpersonationToken(otherIssuer, token, NOW))).toMatchObject({
      reason: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
    // None of that used the token up: the genuine text is still known, still without a check.
    const checks = signatureChecks();
    await expect(verifyImpersonationToken(signer, token, NOW)).resolves.toMatchObject({ sub: "4" });
    expect(checks).not.toHaveBeenCalled();
  });

  it("is not known to a key set that did not sign it, even one holding the same key", async () => {
    const checks = signatureChecks();
    await expect(verifyImpersonationToken(twin, impersonationToken(), NOW)).resolves.toMatchObject({
      sub: "4",
    });
    expect(checks).toHaveBeenCalledTimes(1);
    const stranger = { keys: await loadKeySet([await generatePrivateJwk()]), issuer: ISSUER };
    expect(await outcome(verifyImpersonationToken(stranger, impersonationToken(), NOW))).toEqual({
      reason: "unknown key",
      expiredPayload: undefined,
    });
  });
});

describe("an access token", () => {
  const accessToken = () =>
    signToken(
      signer,
      "access",
      { sub: "2", sid: randomUUID() },
      { expiresAt: at(NOW_S + 600), now: NOW },
    );

  it("is checked by jose at its first verification, and known from then on", async () => {
    const token = accessToken();
    const checks = signatureChecks();
    const first = await verifyAccessToken(signer, token, NOW);
    expect(checks).toHaveBeenCalledTimes(1);
    expect(await verifyAccessToken(signer, token, NOW)).toEqual(first);
    expect(await verifyAccessToken(signer, token, NOW)).toEqual(first);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it("is refused from the very second jose would call it expired, with its claims", async () => {
    const token = accessToken();
    await verifyAccessToken(signer, token, NOW);
    const checks = signatureChecks();
    const lastMoment = at(NOW_S + 600 + CLOCK_TOLERANCE_S, -1);
    await expect(verifyAccessToken(signer, token, lastMoment)).resolves.toMatchObject({ sub: "2" });
    expect(checks).not.toHaveBeenCalled();
    const expired = await outcome(
      verifyAccessToken(signer, token, at(NOW_S + 600 + CLOCK_TOLERANCE_S)),
    );
    expect(expired).toMatchObject({ reason: "expired", expiredPayload: { sub: "2" } });
    expect(checks).toHaveBeenCalledTimes(1);
  });
});
