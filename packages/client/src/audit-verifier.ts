// Checks the portal's audit log without trusting the portal (CONTRACT §9): the leaf hash of an
// audit item, the root an RFC 9162 inclusion proof leads to, and a signed checkpoint against the
// published JWKS. Written from the RFCs, apart from the server's code: WebCrypto for SHA-256,
// jose for the signature, and the RFC 8785 serializer `canonicalize`.
import canonicalize from "canonicalize";
import {
  base64url,
  compactVerify,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
} from "jose";

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", joined));
}

/**
 * The leaf hash of an audit item as `GET /api/sys/audit` (or the NDJSON export) returns it:
 * SHA-256(0x00 ‖ RFC 8785 JSON of the item without `seq` and `leafHash`), unpadded base64url.
 */
export async function auditLeafHash(item: Record<string, unknown>): Promise<string> {
  const { seq: _seq, leafHash: _leafHash, ...hashed } = item;
  const text = canonicalize(hashed);
  if (text === undefined) throw new TypeError("the item does not serialize to JSON");
  return base64url.encode(await sha256(Uint8Array.of(0), new TextEncoder().encode(text)));
}

/** An interior node: SHA-256(0x01 ‖ left ‖ right), unpadded base64url. */
export async function auditNodeHash(left: string, right: string): Promise<string> {
  return base64url.encode(
    await sha256(Uint8Array.of(1), base64url.decode(left), base64url.decode(right)),
  );
}

export interface AuditInclusionProof {
  /** The event's seq (leaf seq − 1 of RFC 9162). */
  seq: number;
  size: number;
  leafHash: string;
  path: string[];
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2); compare it with a checkpoint's
 * root. Throws when the proof cannot belong to a tree of that size.
 */
export async function auditRootFromProof(proof: AuditInclusionProof): Promise<string> {
  const { seq, size, leafHash, path } = proof;
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(size) || seq < 1 || seq > size)
    throw new RangeError("seq must be between 1 and size");
  let fn = seq - 1;
  let sn = size - 1;
  let root = leafHash;
  for (const sibling of path) {
    if (sn === 0) throw new RangeError("the proof is longer than the tree is deep");
    if (fn % 2 === 1 || fn === sn) {
      root = await auditNodeHash(sibling, root);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      root = await auditNodeHash(root, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new RangeError("the proof is shorter than the tree is deep");
  return root;
}

export interface AuditCheckpoint {
  iss: string;
  /** The location's id. */
  loc: number;
  size: number;
  root: string;
  /** Seconds. */
  iat: number;
}

export interface CheckpointVerifierOptions {
  /** The portal's AUTH_ISSUER. */
  issuer: string;
  /** The portal's JWKS, or where to fetch it (default `${issuer}/.well-known/jwks.json`). */
  jwks?: JSONWebKeySet | URL;
}

/**
 * Verifies a checkpoint's compact JWS (EdDSA only, typ audit-checkpoint+jwt, a kid of the JWKS,
 * the issuer) and returns what it states. Throws when it does not verify.
 */
export function createCheckpointVerifier(options: CheckpointVerifierOptions) {
  const issuer = options.issuer.replace(/\/+$/, "");
  const jwks = options.jwks ?? new URL(`${issuer}/.well-known/jwks.json`);
  const keys = jwks instanceof URL ? createRemoteJWKSet(jwks) : createLocalJWKSet(jwks);
  return async function verify(jws: string): Promise<AuditCheckpoint> {
    const header = decodeProtectedHeader(jws);
    if (header.typ !== "audit-checkpoint+jwt") throw new Error("not an audit checkpoint");
    const { payload } = await compactVerify(jws, keys, { algorithms: ["EdDSA"] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Partial<AuditCheckpoint>;
    if (
      claims.iss !== issuer ||
      !Number.isSafeInteger(claims.loc) ||
      !Number.isSafeInteger(claims.size) ||
      typeof claims.root !== "string" ||
      !Number.isSafeInteger(claims.iat)
    )
      throw new Error("the checkpoint's claims are not valid");
    return claims as AuditCheckpoint;
  };
}
