// The request context: built explicitly from { deps, credential, request meta }. It never throws:
// a missing or bad credential yields `session: null`, an unreachable database `sessionError`.
import {
  type AccessClaims,
  CLOCK_TOLERANCE_S,
  InvalidTokenError,
  type KeySet,
  type TokenSigner,
  verifyAccessToken,
} from "@cowork/auth";
import { decodeJwt } from "jose";
import { domainErrorOf, type DomainError } from "./errors";
import { type RequestMeta, type ServiceDeps } from "./services/deps";
import { loadSession, recordExpiryIfDue, type SessionContext } from "./services/sessions";
import { type IssuedAccessToken } from "./services/sign-in";

/** The browser's cookies, when the call came from the portal UI (never for REST or bearer calls). */
export interface BrowserSession {
  /** The access token in the session cookie, as sent. */
  sessionToken: string | null;
  /** The actor's own access token, kept aside while the browser impersonates. */
  actorToken: string | null;
  setSession(token: IssuedAccessToken): void;
  setActor(token: string | null, expiresAt?: Date): void;
  clearSession(): void;
}

export interface Context {
  deps: ServiceDeps;
  session: SessionContext | null;
  /** Why the session could not be resolved, when that was our fault (database down). */
  sessionError: DomainError | null;
  meta: RequestMeta;
  browser: BrowserSession | null;
}

/** Access tokens already verified, per key set: the exact token text and what it says. */
const verifiedTokens = new WeakMap<
  KeySet,
  Map<string, { claims: AccessClaims; usableUntilMs: number }>
>();
const VERIFIED_TOKENS_MAX = 10_000;

/**
 * verifyAccessToken, once per token text. A client sends the same access token on every request;
 * its signature and claims do not change, and of the checks only expiry depends on the time, so
 * a token that verified is taken again, as it is, until the moment verification would call it
 * expired (exp + the clock tolerance); from then on it is verified afresh (and refused as expired,
 * as before). Only tokens that verified are kept, at most VERIFIED_TOKENS_MAX (oldest dropped).
 * Whether the session still lives is not cached: loadSession asks the database every time.
 */
async function verifyAccessTokenOnce(signer: TokenSigner, token: string): Promise<AccessClaims> {
  let cache = verifiedTokens.get(signer.keys);
  if (!cache)
    verifiedTokens.set(
      signer.keys,
      (cache = new Map<string, { claims: AccessClaims; usableUntilMs: number }>()),
    );
  const known = cache.get(token);
  if (known && Date.now() < known.usableUntilMs) return known.claims;
  cache.delete(token);
  const claims = await verifyAccessToken(signer, token);
  const { exp } = decodeJwt(token);
  if (typeof exp === "number") {
    if (cache.size >= VERIFIED_TOKENS_MAX) cache.delete(cache.keys().next().value!);
    // jose refuses a token once exp <= now - tolerance (in whole seconds).
    cache.set(token, { claims, usableUntilMs: (exp + CLOCK_TOLERANCE_S) * 1000 });
  }
  return claims;
}

export async function resolveSession(
  deps: ServiceDeps,
  token: string | null,
  meta: RequestMeta,
): Promise<{ session: SessionContext | null; sessionError: DomainError | null }> {
  if (!token) return { session: null, sessionError: null };
  try {
    const claims = await verifyAccessTokenOnce(deps.signer, token);
    return { session: await loadSession(deps, claims), sessionError: null };
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      const expired = error.expiredPayload;
      if (expired?.act && typeof expired.sid === "string") {
        await recordExpiryIfDue(deps, expired.sid, meta).catch(() => false);
      }
      return { session: null, sessionError: null };
    }
    return { session: null, sessionError: domainErrorOf(error) };
  }
}

export async function createContext(options: {
  deps: ServiceDeps;
  token: string | null;
  meta: RequestMeta;
  browser?: BrowserSession | null;
}): Promise<Context> {
  const resolved = await resolveSession(options.deps, options.token, options.meta);
  return { deps: options.deps, meta: options.meta, browser: options.browser ?? null, ...resolved };
}
