// Ending an impersonation: stopping the impersonated session (with its audit event, in one
// statement), and, in the browser, leaving it for the actor's own session kept aside.
import { verifyAccessToken } from "@cowork/auth";
import { impersonationGrants, preparedRead, queryRows, sessions } from "@cowork/db";
import { desc, eq, sql } from "drizzle-orm";
import { beforeDeadline } from "../deadline";
import { type RequestMeta, type ServiceDeps } from "../deps";
import { loadSession, type SessionContext } from "../sessions";
import { accessTokenFor, type IssuedAccessToken } from "../sign-in";

/** Ends an impersonated session at once; the actor's own session is untouched. */
export async function stopImpersonating(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
): Promise<{ returnPath: string | null; actorSessionId: string } | null> {
  const impersonation = session.impersonation;
  if (!impersonation) return null;
  await queryRows(
    deps.db,
    sql`with s as (
          update sessions set revoked_at = now(), revoked_reason = 'stopped'
          where id = ${session.id} and revoked_at is null and ${beforeDeadline(meta)}
          returning id
        )
        insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, session_id, read_only)
        select 'impersonation.stopped', 'success', ${impersonation.actorUserId}, ${session.coworkerId}, ${session.locationId},
          ${impersonation.kind}, ${impersonation.reason}, ${meta.ip}, ${impersonation.grantJti}, s.id, ${impersonation.readOnly}
        from s`,
  );
  return { returnPath: impersonation.returnPath, actorSessionId: impersonation.actorSessionId };
}

const lastReturnPathRow = preparedRead("impersonation_last_return_path", (db) =>
  db
    .select({ returnPath: impersonationGrants.returnPath })
    .from(sessions)
    .innerJoin(impersonationGrants, eq(impersonationGrants.jti, sessions.grantJti))
    .where(eq(sessions.actorSessionId, sql.placeholder("actorSessionId")))
    .orderBy(desc(sessions.createdAt))
    .limit(1),
);

/** Where the actor's latest impersonation started from, for a browser coming back after it ended. */
export async function lastReturnPath(
  deps: ServiceDeps,
  actorSessionId: string,
): Promise<string | null> {
  const [row] = await lastReturnPathRow(deps.db, { actorSessionId });
  return row?.returnPath ?? null;
}

/** The browser's cookies, as `leave` changes them (the context's BrowserSession). */
export interface LeavingBrowser {
  /** The actor's own access token, kept aside while the browser impersonates. */
  actorToken: string | null;
  setSession(token: IssuedAccessToken): void;
  setActor(token: string | null): void;
  clearSession(): void;
}

/**
 * Browser only: ends the impersonation (if it is still live) and returns to the actor's own
 * session kept aside at exchange — only if the server's record names that session as the actor's.
 * Without a browser, or without a session to return to, nothing is restored.
 */
export async function leave(
  deps: ServiceDeps,
  session: SessionContext | null,
  meta: RequestMeta,
  browser: LeavingBrowser | null,
): Promise<{ restored: boolean; returnPath: string | null }> {
  if (!browser) return { restored: false, returnPath: null };
  const stopped = session?.impersonation ? await stopImpersonating(deps, session, meta) : null;
  let returnTo: { returnPath: string | null } | null = null;
  if (browser.actorToken) {
    const actor = await verifyAccessToken(deps.signer, browser.actorToken)
      .then((claims) => loadSession(deps, claims))
      .catch(() => null);
    const linked = stopped === null || actor?.id === stopped.actorSessionId;
    if (actor && !actor.impersonation && linked) {
      browser.setSession(
        accessTokenFor(deps, {
          id: actor.id,
          userId: actor.userId,
          expiresAt: actor.expiresAt,
          actorUserId: null,
        }),
      );
      // The page the impersonation started from: from the grant, even when its session already ended.
      returnTo = {
        returnPath: stopped ? stopped.returnPath : await lastReturnPath(deps, actor.id),
      };
    }
  }
  if (!returnTo) browser.clearSession();
  browser.setActor(null);
  return { restored: returnTo !== null, returnPath: returnTo?.returnPath ?? null };
}
