// DPoP proofs (RFC 9449 §4.3) as verifyDpopProof checks them, with the clock held still: the iat
// window's edges exactly, htu's normalisation, and each header and claim an attacker could bend.
import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { accessTokenHash, normaliseHtu, verifyDpopProof } from "./dpop";

const NOW = new Date("2026-12-07T12:00:00.000Z");
const NOW_S = NOW.getTime() / 1000;
const HTU = "https://portal.example.com/api/sys/users/me";

let privateKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
});

const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  new SignJWT({ jti: randomUUID(), htm: "GET", htu: HTU, iat: NOW_S, ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk, ...header })
    .sign(privateKey);

const verify = async (text: string, expected: { htu?: string; accessToken?: string } = {}) =>
  verifyDpopProof(text, { htm: "GET", htu: expected.htu ?? HTU, now: NOW, ...expected });

const reason = (promise: Promise<unknown>) =>
  promise.then(
    () => "accepted",
    (error: { reason?: string }) => error.reason ?? "thrown",
  );

describe("verifyDpopProof", () => {
  it("gives the key's RFC 7638 thumbprint and the jti of a valid proof", async () => {
    const jti = randomUUID();
    expect(await verify(await proof({ jti }))).toEqual({
      jkt: await calculateJwkThumbprint(jwk, "sha256"),
      jti,
      iat: NOW_S,
    });
  });

  it("takes iat within 60 s either way, not a second more", async () => {
    for (const offset of [-60, -59, 0, 5, 60]) {
      expect(await reason(verify(await proof({ iat: NOW_S + offset }))), String(offset)).toBe(
        "accepted",
      );
    }
    for (const offset of [-61, 61, -3600]) {
      expect(await reason(verify(await proof({ iat: NOW_S + offset }))), String(offset)).toBe(
        "iat",
      );
    }
    expect(await reason(verify(await proof({ iat: "now" })))).toBe("signature");
  });

  it("compares htu without query and fragment, after normalising scheme, host and port", async () => {
    for (const htu of [
      `${HTU}?a=1`,
      `${HTU}#f`,
      "HTTPS://Portal.Example.COM:443/api/sys/users/me",
      "https://portal.example.com/api/sys/./users/me",
    ]) {
      expect(await reason(verify(await proof({ htu }))), htu).toBe("accepted");
    }
    for (const htu of [
      "http://portal.example.com/api/sys/users/me",
      "https://portal.example.com:8443/api/sys/users/me",
      "https://other.example.com/api/sys/users/me",
      "https://portal.example.com/api/sys/users/me/",
      "/api/sys/users/me",
    ]) {
      expect(await reason(verify(await proof({ htu }))), htu).toBe("htu");
    }
    expect(normaliseHtu("ftp://portal.example.com/x")).toBeNull();
  });

  it("checks ath against the access token when one is sent, and wants none otherwise", async () => {
    const token = "a.b.c";
    expect(
      await reason(verify(await proof({ ath: accessTokenHash(token) }), { accessToken: token })),
    ).toBe("accepted");
    expect(await reason(verify(await proof(), { accessToken: token }))).toBe("ath");
    expect(
      await reason(verify(await proof({ ath: accessTokenHash("x.y.z") }), { accessToken: token })),
    ).toBe("ath");
    expect(await reason(verify(await proof({ ath: accessTokenHash(token) })))).toBe("ath");
  });

  it("refuses other types, algorithms, key pointers, private keys and wrong methods", async () => {
    const other = await exportJWK(
      (await generateKeyPair("ES256", { extractable: true })).publicKey,
    );
    const withPrivate = await exportJWK(privateKey);
    const cases: [string, Promise<string>, string][] = [
      ["typ", proof({}, { typ: "JWT" }), "typ"],
      ["kid", proof({}, { kid: "k1" }), "header"],
      ["jku", proof({}, { jku: "https://evil.test/jwks" }), "header"],
      ["another key in jwk", proof({}, { jwk: other }), "signature"],
      ["a private jwk", proof({}, { jwk: withPrivate }), "jwk"],
      ["no jwk", proof({}, { jwk: undefined }), "jwk"],
      ["htm", proof({ htm: "POST" }), "htm"],
      ["no jti", proof({ jti: undefined }), "jti"],
      ["jti too long", proof({ jti: "x".repeat(257) }), "jti"],
    ];
    for (const [label, text, why] of cases) {
      expect(await reason(verify(await text)), label).toBe(why);
    }
    const hs = await new SignJWT({ jti: "1", htm: "GET", htu: HTU, iat: NOW_S })
      .setProtectedHeader({ alg: "HS256", typ: "dpop+jwt", jwk })
      .sign(new TextEncoder().encode("a shared secret of 32 bytes!!!!!"));
    expect(await reason(verify(hs))).toBe("alg");
    const [head, body] = (await proof()).split(".");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "dpop+jwt", jwk })).toString("base64url")}.${body}.`;
    expect(await reason(verify(none))).toBe("malformed");
    expect(await reason(verify(`${head}.${body}.AAAA`))).toBe("signature");
  });

  it("takes EdDSA (Ed25519) proofs too", async () => {
    const pair = await generateKeyPair("EdDSA", { extractable: true });
    const edJwk = await exportJWK(pair.publicKey);
    const text = await new SignJWT({ jti: "e1", htm: "GET", htu: HTU, iat: NOW_S })
      .setProtectedHeader({ alg: "EdDSA", typ: "dpop+jwt", jwk: edJwk })
      .sign(pair.privateKey);
    expect((await verify(text)).jkt).toBe(await calculateJwkThumbprint(edJwk, "sha256"));
  });
});
