// The request context: built explicitly from { deps, credential, request meta }. It never throws:
// a missing or bad credential yields `session: null`, an unreachable database `sessionError`.
import { InvalidTokenError, verifyAccessToken } from "@cowork/auth";
import { DomainError, domainErrorOf } from "./errors";
import { metrics } from "./observability/metrics";
import { withinAnswerTime } from "./services/deadline";
import { type RequestMeta, type ServiceDeps } from "./services/deps";
import { type DpopRequest, proveBinding } from "./services/dpop";
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
  /** The request's DPoP side (a service's call; never the browser's), for the token endpoints. */
  dpop: DpopRequest | null;
}

export async function resolveSession(
  deps: ServiceDeps,
  token: string | null,
  meta: RequestMeta,
  dpop: DpopRequest | null = null,
): Promise<{ session: SessionContext | null; sessionError: DomainError | null }> {
  if (!token) return { session: null, sessionError: null };
  try {
    // jose checks the signature at every request, and the session is asked every time.
    const claims = await verifyAccessToken(deps.signer, token);
    // A DPoP-bound token counts only with a fresh proof of its key (RFC 9449 §7): refused with
    // the 401 that names what was wrong, before the session is looked at.
    try {
      await proveBinding(deps, claims, token, dpop, meta);
    } catch (error) {
      if (error instanceof DomainError && error.status === 401) {
        // Where no DPoP can come (the browser's cookie, the pages), a bound token is simply no
        // session; a service's call is told why, with the challenge.
        return { session: null, sessionError: dpop ? error : null };
      }
      throw error;
    }
    return { session: await loadSession(deps, claims), sessionError: null };
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      // A token that does not verify names no location to audit under: counted for operators.
      metrics.tokenRefused("access", error.reason);
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
  dpop?: DpopRequest | null;
}): Promise<Context> {
  const dpop = options.dpop ?? null;
  // Bounded by the answer time: a session that cannot be looked up in time is an outage.
  const resolved = await withinAnswerTime(
    options.meta,
    resolveSession(options.deps, options.token, options.meta, dpop),
  ).catch((error: unknown) => ({ session: null, sessionError: domainErrorOf(error) }));
  return {
    deps: options.deps,
    meta: options.meta,
    browser: options.browser ?? null,
    dpop,
    ...resolved,
  };
}
