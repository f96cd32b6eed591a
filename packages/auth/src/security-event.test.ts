// CAEP Security Event Tokens: what a receiver verifies with the JWKS, and that a SET never passes
// for a token of another kind (access, impersonation, checkpoint), whose verifiers pin their typ.
import { randomUUID } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyCheckpoint } from "./checkpoint";
import { generatePrivateJwk, loadKeySet } from "./keys";
import { CAEP_SESSION_REVOKED, signSessionRevoked } from "./security-event";
import { type TokenSigner, verifyAccessToken } from "./tokens";

let signer: TokenSigner;
const AUDIENCE = "https://receiver.example.com/caep";

beforeAll(async () => {
  signer = { keys: await loadKeySet([await generatePrivateJwk()]), issuer: "https://portal.test" };
});

const sign = (sessionId = randomUUID()) =>
  signSessionRevoked(signer, {
    jti: randomUUID(),
    iat: 1_800_000_000,
    audience: AUDIENCE,
    event: { sessionId, eventTimestamp: 1_799_999_990, reasonAdmin: "stopped" },
  });

describe("signSessionRevoked", () => {
  it("verifies against the JWKS with typ secevent+jwt and the CAEP claims", async () => {
    const sessionId = randomUUID();
    const set = sign(sessionId);
    expect(decodeProtectedHeader(set)).toEqual({
      alg: "EdDSA",
      typ: "secevent+jwt",
      kid: signer.keys.signing.kid,
    });
    const { payload } = await jwtVerify(set, createLocalJWKSet(signer.keys.jwks), {
      issuer: "https://portal.test",
      audience: AUDIENCE,
      typ: "secevent+jwt",
      algorithms: ["EdDSA"],
      currentDate: new Date(1_800_000_000_000),
    });
    expect(payload).toEqual({
      iss: "https://portal.test",
      iat: 1_800_000_000,
      jti: expect.any(String) as string,
      aud: AUDIENCE,
      events: {
        [CAEP_SESSION_REVOKED]: {
          subject: { format: "opaque", id: sessionId },
          event_timestamp: 1_799_999_990,
          reason_admin: { en: "stopped" },
        },
      },
    });
  });

  it("is refused by the access-token and checkpoint verifiers", async () => {
    const set = sign();
    await expect(verifyAccessToken(signer, set)).rejects.toThrow();
    await expect(verifyCheckpoint(signer.keys, signer.issuer, set)).rejects.toThrow();
  });

  it("does not verify under another key", async () => {
    const other = await loadKeySet([await generatePrivateJwk()]);
    await expect(
      jwtVerify(sign(), createLocalJWKSet(other.jwks), { typ: "secevent+jwt" }),
    ).rejects.toThrow();
  });
});
