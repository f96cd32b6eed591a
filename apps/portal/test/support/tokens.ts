// JWT helpers for the attack suites: a test-owned signing key the portal is started with, so a
// test can mint tokens that are valid in every respect but one.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";

export interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The private JWK, as AUTH_SIGNING_KEYS takes it. */
  privateJwk: JWK & { kid: string };
  publicJwk: JWK & { kid: string };
}

export async function generateTestKey(kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", {
    crv: "Ed25519",
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    kid: id,
    privateKey,
    publicKey,
    privateJwk: { ...(await exportJWK(privateKey)), kid: id, alg: "EdDSA", use: "sig" },
    publicJwk: { ...publicJwk, kid: id },
  };
}

/** The AUTH_SIGNING_KEYS value for these keys: the first one signs, all verify. */
export const signingKeysEnv = (...keys: TestKey[]) =>
  JSON.stringify({ keys: keys.map((key) => key.privateJwk) });

export const b64url = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");
export const b64json = (value: unknown) => b64url(JSON.stringify(value));

export interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
}

export function decodeJwt(token: string): Decoded {
  const [header, payload, signature] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header!, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >,
    payload: JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >,
    signature: signature ?? "",
  };
}

/** Signs exactly the given header and payload (no claim added or checked) with an Ed25519 key. */
export async function signEdDSA(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
): Promise<string> {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const signature = await crypto.subtle.sign(
    { name: "Ed25519" },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** HMAC-signs the given header and payload with a secret (the key-confusion attack). */
export async function signHmac(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: Uint8Array<ArrayBuffer>,
  hash: "SHA-256" | "SHA-384" | "SHA-512",
): Promise<string> {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash }, false, ["sign"]);
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input));
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

export const nowS = () => Math.floor(Date.now() / 1000);
