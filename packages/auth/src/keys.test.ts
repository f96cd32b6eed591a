// Signing keys: what loadKeySet accepts, what the JWKS exposes, and rotation.
import { randomUUID } from "node:crypto";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  generateSecret,
  jwtVerify,
  type JWK,
} from "jose";
import { describe, expect, it } from "vitest";
import { generatePrivateJwk, KeyConfigError, loadKeySet, parseKeyConfig, publicPart } from "./keys";
import {
  InvalidTokenError,
  signToken,
  TOKEN_KINDS,
  verifyAccessToken,
  verifyImpersonationToken,
} from "./tokens";

const ISSUER = "https://portal.test";
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

function impersonationToken(keys: Awaited<ReturnType<typeof loadKeySet>>): string {
  return signToken(
    { keys, issuer: ISSUER },
    "impersonation",
    { sub: "4", coworker_id: 42, act: { sub: "2" } },
    {
      expiresAt: new Date(Date.now() + 60_000),
      jti: randomUUID(),
    },
  );
}

async function privateJwkOf(alg: "RS256" | "ES256" | "ECDH-ES"): Promise<JWK> {
  const options = alg === "ECDH-ES" ? { crv: "X25519", extractable: true } : { extractable: true };
  const { privateKey } = await generateKeyPair(alg, options);
  return { ...(await exportJWK(privateKey)), kid: `${alg}-key` };
}

describe("generatePrivateJwk", () => {
  it("generates a private Ed25519 JWK whose kid is its RFC 7638 thumbprint", async () => {
    const jwk = await generatePrivateJwk();
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(typeof jwk.d).toBe("string");
    expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk));
    expect((await generatePrivateJwk()).kid).not.toBe(jwk.kid);
  });
});

describe("loadKeySet", () => {
  it("signs with the first key and publishes only public members", async () => {
    const first = await generatePrivateJwk();
    const second = await generatePrivateJwk();
    const keys = await loadKeySet([first, second]);
    expect(keys.signing.kid).toBe(first.kid);
    expect([...keys.verifying.keys()]).toEqual([first.kid, second.kid]);
    expect(keys.jwks.keys.map((key) => key.kid)).toEqual([first.kid, second.kid]);
    for (const key of keys.jwks.keys) {
      for (const member of PRIVATE_MEMBERS) expect(key, member).not.toHaveProperty(member);
      expect(key).not.toHaveProperty("key_ops");
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", use: "sig", alg: "EdDSA" });
    }
    expect(new Set(keys.jwks.keys.map((key) => key.kid)).size).toBe(keys.jwks.keys.length);
    expect(JSON.stringify(keys.jwks)).not.toContain(first.d!);
    expect(JSON.stringify(keys.jwks)).not.toContain(second.d!);
  });

  it("publishes a JWKS that verifies the tokens it signs, by kid", async () => {
    const keys = await loadKeySet([await generatePrivateJwk(), await generatePrivateJwk()]);
    const token = impersonationToken(keys);
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys.jwks), {
      algorithms: ["EdDSA"],
      typ: TOKEN_KINDS.impersonation.typ,
    });
    expect(protectedHeader.kid).toBe(keys.signing.kid);
  });

  it("rotates: loadKeySet([new, old]) signs with the new key and still verifies tokens of the old one", async () => {
    const old = await generatePrivateJwk();
    const fresh = await generatePrivateJwk();
    const before = await loadKeySet([old]);
    const oldToken = impersonationToken(before);
    const rotated = await loadKeySet([fresh, old]);
    const newToken = impersonationToken(rotated);
    const signer = { keys: rotated, issuer: ISSUER };
    await expect(verifyImpersonationToken(signer, oldToken)).resolves.toMatchObject({ sub: "4" });
    await expect(verifyImpersonationToken(signer, newToken)).resolves.toMatchObject({ sub: "4" });
    expect(JSON.parse(Buffer.from(newToken.split(".")[0]!, "base64url").toString())).toMatchObject({
      kid: fresh.kid,
    });
    // Once the old key is retired its tokens stop verifying; the new key's tokens do not verify under the old set.
    const retired = { keys: await loadKeySet([fresh]), issuer: ISSUER };
    await expect(verifyImpersonationToken(retired, oldToken)).rejects.toMatchObject({
      reason: "unknown key",
    });
    await expect(
      verifyImpersonationToken({ keys: before, issuer: ISSUER }, newToken),
    ).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it("keeps verifying an access token across a rotation", async () => {
    const old = await generatePrivateJwk();
    const before = await loadKeySet([old]);
    const token = signToken(
      { keys: before, issuer: ISSUER },
      "access",
      { sub: "2", sid: randomUUID() },
      { expiresAt: new Date(Date.now() + 60_000) },
    );
    const rotated = await loadKeySet([await generatePrivateJwk(), old]);
    await expect(
      verifyAccessToken({ keys: rotated, issuer: ISSUER }, token),
    ).resolves.toMatchObject({ sub: "2" });
  });

  it("refuses an empty key list", async () => {
    await expect(loadKeySet([])).rejects.toBeInstanceOf(KeyConfigError);
  });

  it("refuses RSA, EC, X25519 and HMAC keys", async () => {
    const secret = await exportJWK(await generateSecret("HS256", { extractable: true }));
    const candidates: Record<string, JWK> = {
      RSA: await privateJwkOf("RS256"),
      "EC P-256": await privateJwkOf("ES256"),
      X25519: await privateJwkOf("ECDH-ES"),
      HMAC: { ...secret, kid: "hmac" },
    };
    for (const [name, jwk] of Object.entries(candidates)) {
      await expect(loadKeySet([jwk]), name).rejects.toBeInstanceOf(KeyConfigError);
      // A bad key anywhere in the list is refused, not only in the signing slot.
      await expect(loadKeySet([await generatePrivateJwk(), jwk]), name).rejects.toBeInstanceOf(
        KeyConfigError,
      );
    }
  });

  it("refuses a public-only Ed25519 key", async () => {
    const jwk = await generatePrivateJwk();
    await expect(loadKeySet([publicPart(jwk)])).rejects.toBeInstanceOf(KeyConfigError);
    await expect(loadKeySet([{ ...jwk, d: undefined }])).rejects.toBeInstanceOf(KeyConfigError);
  });

  it("refuses a missing, empty, overlong or duplicate kid", async () => {
    const jwk = await generatePrivateJwk();
    await expect(loadKeySet([{ ...jwk, kid: undefined }])).rejects.toBeInstanceOf(KeyConfigError);
    await expect(loadKeySet([{ ...jwk, kid: "" }])).rejects.toBeInstanceOf(KeyConfigError);
    await expect(loadKeySet([{ ...jwk, kid: "k".repeat(129) }])).rejects.toBeInstanceOf(
      KeyConfigError,
    );
    await expect(
      loadKeySet([jwk, { ...(await generatePrivateJwk()), kid: jwk.kid }]),
    ).rejects.toBeInstanceOf(KeyConfigError);
  });

  it("refuses a key whose private part does not belong to its public part", async () => {
    // A mismatched pair would sign tokens that no verifier (this service included) accepts.
    const first = await generatePrivateJwk();
    const second = await generatePrivateJwk();
    await expect(loadKeySet([{ ...first, d: second.d }])).rejects.toThrow(
      new KeyConfigError(`key ${first.kid} is not a valid Ed25519 key pair`),
    );
  });
});

describe("publicPart", () => {
  it("drops every private member and key_ops, and pins use and alg", () => {
    const jwk: JWK = {
      kty: "OKP",
      crv: "Ed25519",
      x: "x",
      d: "d",
      p: "p",
      q: "q",
      dp: "dp",
      dq: "dq",
      qi: "qi",
      k: "k",
      key_ops: ["sign"],
      kid: "a",
      alg: "ES256",
      use: "enc",
    };
    expect(publicPart(jwk)).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: "x",
      kid: "a",
      alg: "EdDSA",
      use: "sig",
    });
  });
});

describe("parseKeyConfig", () => {
  it("reads a JWKS or a bare array of JWKs", async () => {
    const jwk = await generatePrivateJwk();
    expect(parseKeyConfig(JSON.stringify({ keys: [jwk] }))).toEqual([jwk]);
    expect(parseKeyConfig(JSON.stringify([jwk]))).toEqual([jwk]);
  });

  it("refuses bad JSON, empty sets and other shapes with a KeyConfigError", () => {
    for (const text of [
      "{",
      "",
      "null",
      "42",
      '"keys"',
      "{}",
      '{"keys":[]}',
      "[]",
      '{"keys":{}}',
    ]) {
      expect(() => parseKeyConfig(text), text).toThrow(KeyConfigError);
    }
  });
});
