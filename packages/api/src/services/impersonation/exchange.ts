// Exchanging an impersonation token for a session of its target: the grant is consumed, the
// session created, the event written and the member's notice (and its mail) queued in one
// statement that re-checks the grant's rules.
import { verifyImpersonationToken, InvalidTokenError } from "@cowork/auth";
import { impersonationGrants, preparedRead, queryRows } from "@cowork/db";
import { eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { DomainError } from "../../errors";
import { metrics } from "../../observability/metrics";
import { recordAudit } from "../audit";
import { beforeDeadline } from "../deadline";
import { type RequestMeta, type ServiceDeps } from "../deps";
import { grantStillValid } from "../grant-rules";
import { noticeOfEntry } from "../notices/impersonation-notice";
import { impersonatedSessionMaxInterval } from "../sessions";
import { accessTokenFor, type IssuedAccessToken } from "../sign-in";
import { refusalRecord, refuse } from "./refusals";

/** The row of the exchange's statement (checked against the schema in row-types.test.ts). */
export interface ExchangedRow {
  session_id: string;
  expires_at: Date;
  target_user_id: number;
  actor_user_id: number;
  return_path: string | null;
  actor_session_id: string;
}

// Aliased as the rule's fragment (grantStillValid, grant-rules.ts) names the grant: g.
const g = alias(impersonationGrants, "g");

/** What decides why a grant could not be exchanged (built once). */
const refusalFacts = preparedRead("exchange_refusal_reason", (db) =>
  db
    .select({
      consumed: sql<boolean>`${g.consumedAt} is not null`,
      live: sql<boolean>`${g.expiresAt} > now()`,
      valid: sql<boolean>`${grantStillValid}`,
      // Raw `g.` names: in a one-table select Drizzle leaves its columns unqualified, which the
      // subqueries' own tables would capture.
      policyOn: sql<boolean>`coalesce((select p.impersonation from location_policies p where p.location_id = g.location_id), true)`,
      consentOk: sql<boolean>`not coalesce((select case g.kind when 'staff' then p.staff_consent_required else p.team_consent_required end
          from location_policies p where p.location_id = g.location_id), false)
        or exists (select 1 from support_access_grants cg where cg.coworker_id = g.coworker_id
          and cg.granted_to = g.kind and cg.revoked_at is null and cg.expires_at > now()
          and (g.read_only or not cg.read_only))`,
      actorUserId: g.actorUserId,
      coworkerId: g.coworkerId,
      locationId: g.locationId,
    })
    .from(g)
    .where(eq(g.jti, sql.placeholder("jti"))),
);

/**
 * Exchanges an impersonation token for a session of its target. The grant is consumed, the
 * session created, the event written and the member's notice and its mail queued in one
 * statement whose WHERE re-checks every condition of the issue: of any number of concurrent
 * exchanges, across processes, exactly one succeeds (and so does one notice).
 */
export async function exchange(
  deps: ServiceDeps,
  token: string,
  meta: RequestMeta,
  /** The DPoP key the new session is bound to (a valid proof came with the request), or null. */
  dpopJkt: string | null = null,
): Promise<IssuedAccessToken & { returnPath: string | null; actorSessionId: string }> {
  const invalid = (why: string) =>
    new DomainError("invalid_token", `The impersonation token is not valid (${why}).`);
  // Refusals of tokens that never verified are recorded, but the answer (401) does not depend on
  // the database: a failed write is dropped, and an unreachable database delays it by 1 s at most.
  const recordOnTheSide = (detail: string) =>
    Promise.race([
      recordAudit(
        deps.db,
        refusalRecord({ type: "impersonation.exchanged" }, meta, detail),
        meta,
      ).catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
  if (!deps.config.impersonationEnabled) {
    await recordOnTheSide("impersonation_disabled");
    metrics.refused("impersonation.exchanged", "impersonation_disabled");
    throw invalid("impersonation is switched off");
  }
  let claims;
  try {
    claims = await verifyImpersonationToken(deps.signer, token);
  } catch (error) {
    const reason = error instanceof InvalidTokenError ? error.reason : "malformed";
    metrics.tokenRefused("impersonation", reason);
    await recordOnTheSide(reason === "expired" ? "expired" : "bad_token");
    metrics.refused("impersonation.exchanged", reason === "expired" ? "expired" : "bad_token");
    throw invalid(reason === "expired" ? "expired" : "bad token");
  }
  // The location's policy row and the consent grant the session will stand on are locked (FOR
  // SHARE) by the statement that consumes the grant: a policy change or a revocation committing
  // meanwhile waits for this exchange, or this exchange waits for it and then sees it (PostgreSQL
  // re-reads a row it waited for). Either way no exchange succeeds after the change commits.
  const [row] = await queryRows<ExchangedRow>(
    deps.db,
    sql`with pending as (
          select g0.location_id, g0.coworker_id, g0.kind, g0.read_only from impersonation_grants g0
          where g0.jti = ${claims.jti}
        ), pol as (
          select p.max_session_minutes,
            case pending.kind when 'staff' then p.staff_consent_required else p.team_consent_required end as consent_required
          from location_policies p join pending on p.location_id = pending.location_id
          where p.impersonation
          for share of p
        ), consent as (
          select cg.id from support_access_grants cg join pending on cg.coworker_id = pending.coworker_id
          where cg.granted_to = pending.kind and cg.revoked_at is null and cg.expires_at > now()
            and (pending.read_only or not cg.read_only)
          order by cg.expires_at desc
          limit 1
          for share of cg
        ), g as (
          update impersonation_grants g set consumed_at = now(),
            consent_grant_id = case when (select consent_required from pol) then (select id from consent) end
          where g.jti = ${claims.jti} and g.consumed_at is null and g.expires_at > now()
            and g.target_user_id = ${Number(claims.sub)} and g.actor_user_id = ${Number(claims.act.sub)}
            and g.coworker_id = ${claims.coworker_id}
            and exists (select 1 from pol)
            and (not (select consent_required from pol) or exists (select 1 from consent))
            and ${grantStillValid}
            and ${beforeDeadline(meta)}
          returning g.*
        ), s as (
          insert into sessions (user_id, location_id, coworker_id, grant_jti, actor_user_id, actor_session_id, expires_at, dpop_jkt)
          select g.target_user_id, g.location_id, g.coworker_id, g.jti, g.actor_user_id, g.actor_session_id,
            least(now() + ${impersonatedSessionMaxInterval},
              now() + make_interval(mins => (select max_session_minutes from pol)),
              (select a.expires_at from sessions a where a.id = g.actor_session_id)),
            ${dpopJkt}
          from g
          returning id, expires_at
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, session_id, read_only, reason_category, ticket)
          select 'impersonation.exchanged', 'success', g.actor_user_id, g.coworker_id, g.location_id, g.kind, g.reason, ${meta.ip}, g.jti, s.id, g.read_only, g.reason_category, g.ticket
          from g, s
        ), ${noticeOfEntry}
        select s.id as session_id, s.expires_at, g.target_user_id, g.actor_user_id, g.return_path, g.actor_session_id from s, g`,
  );
  if (!row) {
    const why = await whyNotExchangeable(deps, claims.jti);
    return refuse(
      deps,
      meta,
      {
        type: "impersonation.exchanged",
        actorUserId: why.actorUserId,
        coworkerId: why.coworkerId,
        locationId: why.locationId,
        jti: why.actorUserId === null ? null : claims.jti,
      },
      invalid(why.detail.replace("_", " ")),
      why.detail,
    );
  }
  const issued = accessTokenFor(deps, {
    id: row.session_id,
    userId: row.target_user_id,
    expiresAt: row.expires_at,
    actorUserId: row.actor_user_id,
    dpopJkt,
  });
  metrics.exchanged();
  return { ...issued, returnPath: row.return_path, actorSessionId: row.actor_session_id };
}

async function whyNotExchangeable(deps: ServiceDeps, jti: string) {
  const [grant] = await refusalFacts(deps.db, { jti });
  if (!grant)
    return { detail: "unknown_grant", actorUserId: null, coworkerId: null, locationId: null };
  const detail = grant.consumed
    ? "already_used"
    : !grant.live
      ? "expired"
      : !grant.policyOn
        ? "policy_off"
        : !grant.consentOk
          ? "consent_required"
          : !grant.valid
            ? "revoked"
            : "mismatch";
  return {
    detail,
    actorUserId: grant.actorUserId,
    coworkerId: grant.coworkerId,
    locationId: grant.locationId,
  };
}
