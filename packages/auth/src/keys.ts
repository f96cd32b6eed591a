// Signing keys: Ed25519 (EdDSA) JWKs with a kid. The first key signs; every key verifies, so a
// rotated-out key keeps verifying the tokens it signed. Keys are imported once, never per request.
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from "jose";

export const SIGNING_ALG = "EdDSA";

export interface SigningKey {
  kid: string;
  /** A node KeyObject: signing goes through node's one-shot Ed25519 (tokens.ts says why). */
  privateKey: KeyObject;
}

export interface KeySet {
  signing: SigningKey;
  /** Public keys by kid. */
  verifying: ReadonlyMap<string, CryptoKey>;
  /** The public JWKS served at /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
}

export interface PrivateJwk extends JWK {
  kid: string;
}

export class KeyConfigError extends Error {
  override name = "KeyConfigError";
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"] as const;

export function publicPart(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  delete copy.key_ops;
  return { ...(copy as JWK), use: "sig", alg: SIGNING_ALG };
}

export async function generatePrivateJwk(): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: SIGNING_ALG, use: "sig" };
}

/** Builds the key set from private JWKs (first one signs). Refuses anything but Ed25519 OKP keys. */
export async function loadKeySet(privateJwks: readonly JWK[]): Promise<KeySet> {
  const [first] = privateJwks;
  if (!first) throw new KeyConfigError("no signing key");
  const verifying = new Map<string, CryptoKey>();
  const jwks: JWK[] = [];
  let signing: SigningKey | undefined;
  for (const jwk of privateJwks) {
    checkPrivateJwkShape(jwk);
    if (verifying.has(jwk.kid)) throw new KeyConfigError(`duplicate kid ${jwk.kid}`);
    const publicJwk = publicPart(jwk);
    let publicKey: CryptoKey;
    let privateKey: KeyObject;
    try {
      publicKey = (await importJWK(publicJwk, SIGNING_ALG)) as CryptoKey;
      privateKey = createPrivateKey({ key: { ...jwk }, format: "jwk" });
      // A d that does not belong to x would sign tokens no verifier (this service included) accepts.
      if (createPublicKey(privateKey).export({ format: "jwk" }).x !== jwk.x) throw new Error();
    } catch {
      throw new KeyConfigError(`key ${jwk.kid} is not a valid Ed25519 key pair`);
    }
    verifying.set(jwk.kid, publicKey);
    jwks.push(publicJwk);
    signing ??= { kid: jwk.kid, privateKey };
  }
  return { signing: signing!, verifying, jwks: { keys: jwks } };
}

const BASE64URL_32_BYTES = /^[A-Za-z0-9_-]{43}$/;

/** A private Ed25519 JWK with a kid, by shape (importing it proves the rest). */
function checkPrivateJwkShape(jwk: JWK): asserts jwk is PrivateJwk {
  if (typeof jwk !== "object" || jwk === null) throw new KeyConfigError("must hold JWK objects");
  if (
    jwk.kty !== "OKP" ||
    jwk.crv !== "Ed25519" ||
    typeof jwk.d !== "string" ||
    typeof jwk.x !== "string"
  ) {
    throw new KeyConfigError("every signing key must be a private Ed25519 (OKP) JWK with d and x");
  }
  if (!BASE64URL_32_BYTES.test(jwk.d) || !BASE64URL_32_BYTES.test(jwk.x)) {
    throw new KeyConfigError("every signing key must carry 32-byte d and x (base64url)");
  }
  if (typeof jwk.kid !== "string" || !/^[A-Za-z0-9._~-]{1,128}$/.test(jwk.kid)) {
    throw new KeyConfigError("every signing key needs a kid of 1 to 128 URL-safe characters");
  }
}

/** Parses AUTH_SIGNING_KEYS: a JWKS ({"keys":[…]}) or an array of private JWKs. */
export function parseKeyConfig(text: string): JWK[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyConfigError("is not valid JSON");
  }
  const keys = Array.isArray(value) ? value : (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new KeyConfigError("must be a JWKS with at least one key");
  const kids = new Set<string>();
  for (const key of keys as JWK[]) {
    checkPrivateJwkShape(key);
    if (kids.has(key.kid)) throw new KeyConfigError(`has the kid ${key.kid} twice`);
    kids.add(key.kid);
  }
  return keys as JWK[];
}
