// Audit checkpoints (CONTRACT §9): a compact JWS, signed with the service's signing key, saying
// that a location's audit log of `size` events has the Merkle root `root`. Its own `typ`, so it
// can never pass for a token, and no `exp`: a checkpoint states a fact that stays true.
import { sign } from "node:crypto";
import { compactVerify, decodeProtectedHeader } from "jose";
import { type KeySet, SIGNING_ALG } from "./keys";
import { type TokenSigner } from "./tokens";

export const CHECKPOINT_TYP = "audit-checkpoint+jwt";

export interface CheckpointClaims {
  iss: string;
  /** The location's id. */
  loc: number;
  size: number;
  /** The tree's root hash, unpadded base64url. */
  root: string;
  /** When it was signed, in seconds. */
  iat: number;
}

const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/** Signs a checkpoint with the first key of the set (node's one-shot Ed25519, as signToken). */
export function signCheckpoint(
  signer: TokenSigner,
  checkpoint: Omit<CheckpointClaims, "iss">,
): string {
  const header = { alg: SIGNING_ALG, typ: CHECKPOINT_TYP, kid: signer.keys.signing.kid };
  const claims: CheckpointClaims = {
    iss: signer.issuer,
    loc: checkpoint.loc,
    size: checkpoint.size,
    root: checkpoint.root,
    iat: checkpoint.iat,
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign(null, Buffer.from(input), signer.keys.signing.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

export class InvalidCheckpointError extends Error {
  override name = "InvalidCheckpointError";
}

/**
 * Verifies a checkpoint's signature (algorithm pinned, key by kid from the set only) and header,
 * and returns its claims; throws InvalidCheckpointError otherwise.
 */
export async function verifyCheckpoint(
  keys: Pick<KeySet, "verifying">,
  issuer: string,
  jws: string,
): Promise<CheckpointClaims> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new InvalidCheckpointError("malformed");
  }
  if (header.alg !== SIGNING_ALG || header.typ !== CHECKPOINT_TYP)
    throw new InvalidCheckpointError("wrong alg or typ");
  const key = typeof header.kid === "string" ? keys.verifying.get(header.kid) : undefined;
  if (!key) throw new InvalidCheckpointError("unknown key");
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, key, { algorithms: [SIGNING_ALG] }));
  } catch {
    throw new InvalidCheckpointError("bad signature");
  }
  const claims = JSON.parse(new TextDecoder().decode(payload)) as Partial<CheckpointClaims>;
  if (
    claims.iss !== issuer ||
    !Number.isSafeInteger(claims.loc) ||
    !Number.isSafeInteger(claims.size) ||
    typeof claims.root !== "string" ||
    !Number.isSafeInteger(claims.iat)
  )
    throw new InvalidCheckpointError("claims");
  return claims as CheckpointClaims;
}
