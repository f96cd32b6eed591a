// Sender-constrained sessions (RFC 9449, CONTRACT §10): a token endpoint binds the session it
// opens to the key of a valid DPoP proof sent with the request, and every request with a bound
// token must prove, with a fresh proof, that it holds that key. The proof itself is checked by
// @cowork/auth (jose); that its jti was never seen is taken here, in the database, so a proof is
// accepted once across every process.
import {
  type AccessClaims,
  DPOP_IAT_WINDOW_S,
  InvalidDpopProofError,
  verifyDpopProof,
} from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";

/** What a door read of a request for DPoP: its credential's scheme, its proof, method and URL. */
export interface DpopRequest {
  /** The Authorization header's scheme (`Bearer`, `DPoP`), or null without one. */
  scheme: "Bearer" | "DPoP" | null;
  /** The DPoP header as sent (several are joined by a comma, which no proof contains), or null. */
  proof: string | null;
  htm: string;
  /** The URL the request was sent to (scheme, host, path), or null when it cannot be told. */
  htu: string | null;
  /**
   * Set by the server alone, never from the request: the key whose possession this same HTTP
   * request has already proven (a streamed export authorizes each of its pages again, and the
   * request's one proof cannot be taken twice).
   */
  provenJkt?: string;
}

/**
 * The credential of an Authorization header: `Bearer <token>` or `DPoP <token>` (RFC 9449 §7.1),
 * the scheme in any case; anything else is no credential.
 */
export function credentialOf(
  header: string | null,
): { scheme: "Bearer" | "DPoP"; token: string } | null {
  const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(header ?? "");
  if (!match) return null;
  return { scheme: match[1]!.toLowerCase() === "dpop" ? "DPoP" : "Bearer", token: match[2]! };
}

/** The DPoP side of a request from its parts, as each door has them. */
export function dpopRequest(parts: {
  method: string;
  /** The request target as sent: a path (with query), or an absolute URL. */
  url: string;
  /** `scheme://host` the request was sent to, or null when it cannot be told. */
  origin: string | null;
  authorization: string | null;
  proof: string | null;
}): DpopRequest {
  let htu: string | null = null;
  if (parts.origin) {
    try {
      const url = new URL(parts.url, parts.origin);
      htu = `${url.protocol}//${url.host}${url.pathname}`;
    } catch {
      htu = null;
    }
  }
  return {
    scheme: credentialOf(parts.authorization)?.scheme ?? null,
    proof: parts.proof,
    htm: parts.method,
    htu,
  };
}

const challenge = (error: string) => `DPoP error="${error}"`;

/** 401 to a request with a bound token whose proof is missing, invalid or replayed. */
export const invalidProof = (why: string) =>
  new DomainError("invalid_dpop_proof", `The DPoP proof is not valid (${why}).`, undefined, {
    challenge: challenge("invalid_dpop_proof"),
  });

/** 401 to a bound token sent as Bearer, with another key's proof, or an unbound one as DPoP. */
export const misusedToken = (why: string) =>
  new DomainError("invalid_token", `The access token cannot be used so (${why}).`, undefined, {
    challenge: challenge("invalid_token"),
  });

/**
 * How long a taken jti is kept: a proof is accepted while its iat is within 60 s of the clock,
 * and iat may lie 60 s ahead, so no proof stays acceptable longer than 120 s after it is first
 * seen; a little more covers clocks between processes.
 */
const KEEP_JTI_S = 2 * DPOP_IAT_WINDOW_S + 30;

/** Takes a proof's jti for its key: true the first time, in any process, false ever after. */
async function takeJti(
  deps: ServiceDeps,
  jkt: string,
  jti: string,
  meta: RequestMeta,
): Promise<boolean> {
  if (Math.random() < 0.01) {
    await queryRows(deps.db, sql`delete from dpop_proofs where expires_at < now()`);
  }
  // An expired row (kept past its time until the next prune) no longer stands in the way.
  const rows = await queryRows<{ jti: string }>(
    deps.db,
    sql`insert into dpop_proofs (jkt, jti, expires_at)
        select ${jkt}, ${jti}, now() + make_interval(secs => ${KEEP_JTI_S}) where ${beforeDeadline(meta)}
        on conflict (jkt, jti) do update set expires_at = excluded.expires_at
          where dpop_proofs.expires_at < now()
        returning jti`,
  );
  return rows.length > 0;
}

/**
 * At a token endpoint: the key the new session is to be bound to, or null when no proof came.
 * A proof that does not hold (or whose jti was seen) is 400 invalid_dpop_proof (RFC 9449 §5),
 * before anything is issued or used up.
 */
export async function bindingKey(
  deps: ServiceDeps,
  dpop: DpopRequest | null,
  meta: RequestMeta,
): Promise<string | null> {
  if (!dpop?.proof) return null;
  const refused = (why: string) =>
    new DomainError("invalid_dpop_proof", `The DPoP proof is not valid (${why}).`, undefined, {
      status: 400,
    });
  if (!dpop.htu) throw refused("the request's URL cannot be told");
  let proof;
  try {
    proof = await verifyDpopProof(dpop.proof, { htm: dpop.htm, htu: dpop.htu });
  } catch (error) {
    throw refused(error instanceof InvalidDpopProofError ? error.reason : "malformed");
  }
  if (!(await takeJti(deps, proof.jkt, proof.jti, meta))) throw refused("replayed");
  return proof.jkt;
}

/**
 * On a request with an access token: whether its credential is used as its binding says. A bound
 * token (cnf.jkt) needs the DPoP scheme and a fresh proof of its key (with `ath`); an unbound one
 * the Bearer scheme. Throws the 401 to answer.
 */
export async function proveBinding(
  deps: ServiceDeps,
  claims: Pick<AccessClaims, "cnf">,
  token: string,
  dpop: DpopRequest | null,
  meta: RequestMeta,
): Promise<void> {
  const jkt = claims.cnf?.jkt;
  if (!jkt) {
    if (dpop?.scheme === "DPoP") throw misusedToken("it is not DPoP-bound: send it as Bearer");
    return;
  }
  if (dpop?.scheme !== "DPoP") throw misusedToken("it is DPoP-bound: send it as DPoP");
  if (dpop.provenJkt === jkt) return;
  if (!dpop.proof) throw invalidProof("no DPoP header");
  if (!dpop.htu) throw invalidProof("the request's URL cannot be told");
  let proof;
  try {
    proof = await verifyDpopProof(dpop.proof, { htm: dpop.htm, htu: dpop.htu, accessToken: token });
  } catch (error) {
    throw invalidProof(error instanceof InvalidDpopProofError ? error.reason : "malformed");
  }
  if (proof.jkt !== jkt) throw misusedToken("the proof is made by another key");
  if (!(await takeJti(deps, proof.jkt, proof.jti, meta))) throw invalidProof("replayed");
}
