// DPoP proofs (RFC 9449 §4.3), verified with jose: what a proof must be to bind a token to its
// key, or to show that the caller holds the key a token is bound to. Stateless: whether a
// proof's jti was seen before is the database's to say (the caller's part).
import { createHash } from "node:crypto";
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  jwtVerify,
} from "jose";

/** The proof's algorithms this service takes: ES256 and EdDSA (Ed25519), asymmetric only. */
export const DPOP_ALGS = ["ES256", "EdDSA"] as const;
/** How far a proof's `iat` may be from this server's clock, either way. */
export const DPOP_IAT_WINDOW_S = 60;
const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;
/** The members of a public key of each accepted type; a private part (`d`) is refused. */
const PUBLIC_MEMBERS: Record<string, { kty: string; crv: string; members: string[] }> = {
  ES256: { kty: "EC", crv: "P-256", members: ["x", "y"] },
  EdDSA: { kty: "OKP", crv: "Ed25519", members: ["x"] },
};

export class InvalidDpopProofError extends Error {
  override name = "InvalidDpopProofError";
  constructor(readonly reason: string) {
    super(`invalid DPoP proof: ${reason}`);
  }
}

export interface DpopExpectation {
  /** The request's method. */
  htm: string;
  /** The URL the request was sent to (its query and fragment are ignored). */
  htu: string;
  /** The access token sent with the proof (its hash must be `ath`); none at a token endpoint. */
  accessToken?: string | null;
  now?: Date;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key. */
  jkt: string;
  jti: string;
  iat: number;
}

/**
 * RFC 9449 §4.3 step 9: `htu` compared without query and fragment, after RFC 3986 §6's
 * syntax- and scheme-based normalisation (case of scheme and host, default port, dot segments),
 * as WHATWG URL parsing does. Null for anything that is not an absolute http(s) URL.
 */
export function normaliseHtu(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII text. */
export const accessTokenHash = (token: string): string =>
  createHash("sha256").update(token, "ascii").digest("base64url");

/**
 * Verifies one DPoP proof against the request it came with: `typ: dpop+jwt`, ES256 or EdDSA,
 * a public key in `jwk` (no private part, nothing else pointing at keys) that verifies the
 * signature, `htm` and `htu` of this request, `iat` within 60 s of now either way, a `jti`, and
 * `ath` the hash of the access token when one is sent (and none when not).
 */
export async function verifyDpopProof(
  proof: string,
  expected: DpopExpectation,
): Promise<VerifiedDpopProof> {
  if (
    proof.length > MAX_PROOF_LENGTH ||
    !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)
  )
    throw new InvalidDpopProofError("malformed");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new InvalidDpopProofError("malformed");
  }
  if (header.typ !== "dpop+jwt") throw new InvalidDpopProofError("typ");
  const alg = header.alg;
  const shape = typeof alg === "string" ? PUBLIC_MEMBERS[alg] : undefined;
  if (!alg || !shape) throw new InvalidDpopProofError("alg");
  for (const pointer of ["jku", "x5u", "x5c", "kid", "crit"])
    if (pointer in header) throw new InvalidDpopProofError("header");
  const jwk = header.jwk;
  if (
    typeof jwk !== "object" ||
    jwk === null ||
    "d" in jwk ||
    jwk.kty !== shape.kty ||
    jwk.crv !== shape.crv ||
    !shape.members.every((member) => typeof (jwk as Record<string, unknown>)[member] === "string")
  )
    throw new InvalidDpopProofError("jwk");
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  if (jwk.kty === "EC") publicJwk.y = jwk.y;
  let payload;
  try {
    const key = await importJWK(publicJwk, alg);
    ({ payload } = await jwtVerify(proof, key, {
      algorithms: [alg],
      typ: "dpop+jwt",
      // iat is checked below, both ways; jose's own checks (exp, nbf) still apply when present.
      currentDate: expected.now ?? new Date(),
    }));
  } catch {
    throw new InvalidDpopProofError("signature");
  }
  const { jti, htm, htu, iat, ath } = payload as Record<string, unknown>;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH)
    throw new InvalidDpopProofError("jti");
  if (htm !== expected.htm) throw new InvalidDpopProofError("htm");
  const wanted = normaliseHtu(expected.htu);
  if (typeof htu !== "string" || wanted === null || normaliseHtu(htu) !== wanted)
    throw new InvalidDpopProofError("htu");
  const nowS = (expected.now ?? new Date()).getTime() / 1000;
  if (typeof iat !== "number" || !Number.isFinite(iat) || Math.abs(nowS - iat) > DPOP_IAT_WINDOW_S)
    throw new InvalidDpopProofError("iat");
  if (expected.accessToken) {
    if (ath !== accessTokenHash(expected.accessToken)) throw new InvalidDpopProofError("ath");
  } else if (ath !== undefined) {
    throw new InvalidDpopProofError("ath");
  }
  return { jkt: await calculateJwkThumbprint(publicJwk, "sha256"), jti, iat };
}
