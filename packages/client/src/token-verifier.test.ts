import { generatePrivateJwk, loadKeySet, signToken } from "@cowork/auth";
import { createLocalJWKSet } from "jose";
import { describe, expect, it } from "vitest";
import { createTokenVerifier } from "./token-verifier";

const issuer = "https://portal.test";

describe("createTokenVerifier", async () => {
  const keys = await loadKeySet([await generatePrivateJwk()]);
  const other = await loadKeySet([await generatePrivateJwk()]);
  const verify = createTokenVerifier({ issuer, keys: createLocalJWKSet(keys.jwks) });
  const expiresAt = new Date(Date.now() + 600_000);

  it("accepts an access token of the service and reads the actor", async () => {
    const token = signToken(
      { keys, issuer },
      "access",
      { sub: "4", sid: crypto.randomUUID(), act: { sub: "2" } },
      { expiresAt },
    );
    await expect(verify(token)).resolves.toMatchObject({ userId: 4, actorUserId: 2 });
  });

  it("refuses an impersonation token, another issuer, and another key", async () => {
    const impersonation = signToken(
      { keys, issuer },
      "impersonation",
      { sub: "4", coworker_id: 42, act: { sub: "2" } },
      { expiresAt },
    );
    await expect(verify(impersonation)).rejects.toThrow();
    const foreign = signToken(
      { keys, issuer: "https://evil.test" },
      "access",
      { sub: "4", sid: crypto.randomUUID() },
      { expiresAt },
    );
    await expect(verify(foreign)).rejects.toThrow();
    const forged = signToken(
      { keys: other, issuer },
      "access",
      { sub: "4", sid: crypto.randomUUID() },
      { expiresAt },
    );
    await expect(verify(forged)).rejects.toThrow();
  });
});
