// Issue and verify this service's JWTs. Each kind has its own `typ` and `aud`, so no token can
// stand in for another (RFC 8725 §3.11-3.12); verification pins the algorithm and every claim.
import { randomUUID, sign } from "node:crypto";
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { type KeySet, SIGNING_ALG } from "./keys";

export const TOKEN_KINDS = {
  /** RFC 9068 access token naming its server-side session. */
  access: { typ: "at+jwt", audience: (issuer: string) => `${issuer}/api` },
  /** Single-use impersonation token, good only at the exchange (single use: the database, by jti). */
  impersonation: {
    typ: "cowork-impersonation+jwt",
    audience: (issuer: string) => `${issuer}/api/sys/users/exchange`,
  },
} as const;

export type TokenKind = keyof typeof TOKEN_KINDS;

/** Clock skew tolerated between processes, in seconds. */
export const CLOCK_TOLERANCE_S = 30;
export const IMPERSONATION_TOKEN_MAX_S = 300;
/** Longest lifetime any access token of this service may claim (regular sessions). */
export const ACCESS_TOKEN_MAX_S = 12 * 3600;
const MAX_TOKEN_LENGTH = 4096;
/**
 * Ids in claims are the database's ids: PostgreSQL integers, at most 2^31 - 1. A signed token
 * naming a larger one (a key holder's mistake or a forged-but-signed test token) is invalid
 * here, a 401, instead of an "out of range for type integer" from the query, a 500.
 */
const MAX_ID = 2_147_483_647;
const isIdText = (value: unknown): value is string =>
  typeof value === "string" && /^[1-9][0-9]{0,9}$/.test(value) && Number(value) <= MAX_ID;
/** A session id or jti as PostgreSQL's uuid type reads it (other texts would fail the query). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,1024}\.[A-Za-z0-9_-]{2,3000}\.[A-Za-z0-9_-]{2,200}$/;
/** Headers that point at keys: never followed, and a token carrying them is refused. */
const KEY_POINTER_HEADERS = ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "zip", "enc"];

export interface Actor {
  sub: string;
}

export interface AccessClaims {
  sub: string;
  sid: string;
  act?: Actor;
  /** RFC 9449 §6.1: the DPoP key the token is bound to (its RFC 7638 SHA-256 thumbprint). */
  cnf?: { jkt: string };
}

/** An RFC 7638 SHA-256 thumbprint, base64url without padding. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

export interface ImpersonationClaims {
  sub: string;
  coworker_id: number;
  act: Actor;
  jti: string;
  ro?: boolean;
}

export interface TokenSigner {
  keys: KeySet;
  issuer: string;
}

export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
  constructor(
    readonly reason: string,
    /** For a correctly signed token that has only expired: its claims, to tell what ended. */
    readonly expiredPayload?: JWTPayload,
  ) {
    super(`invalid token: ${reason}`);
  }
}

/**
 * Signs a token of one kind. The compact JWS (RFC 7515 §7.1) is put together here and signed with
 * node's one-shot Ed25519: jose's SignJWT cost twice the CPU per token (it clones the claims,
 * encodes base64 through strings and goes through WebCrypto's job queue), and the impersonation
 * flow signs twice. What a token must be to count is decided at verification, which stays with
 * jose (algorithm pinned, typ, iss, aud, lifetimes); the tests verify what is signed here with
 * jose and with the published JWKS.
 */
export function signToken(
  signer: TokenSigner,
  kind: TokenKind,
  claims: JWTPayload,
  options: { expiresAt: Date; jti?: string; now?: Date },
): string {
  const header = { alg: SIGNING_ALG, typ: TOKEN_KINDS[kind].typ, kid: signer.keys.signing.kid };
  const payload: JWTPayload = {
    ...claims,
    iss: signer.issuer,
    aud: TOKEN_KINDS[kind].audience(signer.issuer),
    iat: Math.floor((options.now ?? new Date()).getTime() / 1000),
    exp: Math.floor(options.expiresAt.getTime() / 1000),
    jti: options.jti ?? randomUUID(),
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // Ed25519 takes no digest (null): the algorithm is the key's own.
  const signature = sign(null, Buffer.from(input), signer.keys.signing.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}

const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/**
 * Verifies a token of one kind. Everything that costs nothing is checked before the signature
 * (size, compact form, header), and nothing here touches the database. Every call, of any token
 * seen before or not, has its signature and claims checked by jose with the algorithm pinned;
 * the keys were imported once, when the key set was loaded.
 */
export async function verifyToken(
  signer: TokenSigner,
  kind: TokenKind,
  token: string,
  now: Date = new Date(),
): Promise<JWTPayload & { sub: string; jti: string; exp: number; iat: number }> {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token))
    throw new InvalidTokenError("malformed");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new InvalidTokenError("malformed");
  }
  if (header.alg !== SIGNING_ALG) throw new InvalidTokenError("algorithm");
  if (KEY_POINTER_HEADERS.some((name) => name in header)) throw new InvalidTokenError("header");
  const key = typeof header.kid === "string" ? signer.keys.verifying.get(header.kid) : undefined;
  if (!key) throw new InvalidTokenError("unknown key");
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [SIGNING_ALG],
      typ: TOKEN_KINDS[kind].typ,
      issuer: signer.issuer,
      audience: TOKEN_KINDS[kind].audience(signer.issuer),
      requiredClaims: ["exp", "iat", "jti", "sub"],
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: now,
    });
    const { exp, iat, jti, sub } = payload as {
      exp: number;
      iat: number;
      jti: unknown;
      sub: unknown;
    };
    const nowS = now.getTime() / 1000;
    if (typeof jti !== "string" || !isIdText(sub)) {
      throw new InvalidTokenError("claims");
    }
    if (iat > nowS + CLOCK_TOLERANCE_S) throw new InvalidTokenError("issued in the future");
    const maxLifetime = kind === "impersonation" ? IMPERSONATION_TOKEN_MAX_S : ACCESS_TOKEN_MAX_S;
    if (exp - iat > maxLifetime) throw new InvalidTokenError("lifetime");
    if ("act" in payload && !isActor(payload.act)) throw new InvalidTokenError("act");
    return payload as JWTPayload & { sub: string; jti: string; exp: number; iat: number };
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error;
    // jose checks the signature before the claims, so an expired token here is genuine.
    if (error instanceof errors.JWTExpired) throw new InvalidTokenError("expired", error.payload);
    if (error instanceof errors.JOSEError) throw new InvalidTokenError(error.code);
    throw new InvalidTokenError("malformed");
  }
}

/** One level of RFC 8693 `act`, naming a user: this service never nests actors. */
function isActor(value: unknown): value is Actor {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "sub" && isIdText((value as Actor).sub);
}

export async function verifyAccessToken(
  signer: TokenSigner,
  token: string,
  now?: Date,
): Promise<AccessClaims> {
  const payload = await verifyToken(signer, "access", token, now);
  if (typeof payload.sid !== "string" || !UUID.test(payload.sid)) {
    throw new InvalidTokenError("claims");
  }
  let cnf: { jkt: string } | undefined;
  if ("cnf" in payload) {
    const jkt = (payload.cnf as { jkt?: unknown } | null)?.jkt;
    if (typeof jkt !== "string" || !JKT.test(jkt)) throw new InvalidTokenError("cnf");
    cnf = { jkt };
  }
  return {
    sub: payload.sub,
    sid: payload.sid,
    ...(payload.act ? { act: payload.act as Actor } : {}),
    ...(cnf ? { cnf } : {}),
  };
}

export async function verifyImpersonationToken(
  signer: TokenSigner,
  token: string,
  now?: Date,
): Promise<ImpersonationClaims> {
  const payload = await verifyToken(signer, "impersonation", token, now);
  const coworkerId = payload.coworker_id;
  if (
    !payload.act ||
    typeof coworkerId !== "number" ||
    !Number.isInteger(coworkerId) ||
    coworkerId < 1 ||
    coworkerId > MAX_ID
  ) {
    throw new InvalidTokenError("claims");
  }
  if (!UUID.test(payload.jti)) throw new InvalidTokenError("claims");
  return {
    sub: payload.sub,
    coworker_id: coworkerId,
    act: payload.act as Actor,
    jti: payload.jti,
    ...(payload.ro === true ? { ro: true } : {}),
  };
}
