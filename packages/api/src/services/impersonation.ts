// Impersonation: issue a single-use token (staff or team admin), exchange it for a session of
// the target, stop that session. Each change and its audit event are one SQL statement.
import {
  signToken,
  STAFF_RANK,
  verifyImpersonationToken,
  InvalidTokenError,
  type StaffRole,
} from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { metrics } from "../observability/metrics";
import { asyncCommit } from "./async-commit";
import { recordAudit } from "./audit";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { grantStillValid, rankOf } from "./grant-rules";
import { impersonatedSessionMaxInterval, type SessionContext } from "./sessions";
import { accessTokenFor, type IssuedAccessToken } from "./sign-in";
import { take } from "./throttle";

export interface IssueRequest {
  coworkerId: number;
  reason?: string | null | undefined;
  readOnly?: boolean | undefined;
  returnPath?: string | undefined;
}

export interface ImpersonationTarget {
  coworkerId: number;
  userId: number;
  fullName: string;
  locationId: number;
  /** Highest staff rank the target holds in any location (0: none). */
  rank: number;
  teamId: number | null;
}

/** Writes a refusal to the audit log and throws it. */
export async function refuse(
  deps: ServiceDeps,
  meta: RequestMeta,
  event: {
    type: "impersonation.issued" | "impersonation.exchanged";
    actorUserId?: number | null;
    coworkerId?: number | null;
    locationId?: number | null;
    kind?: "staff" | "team" | null;
    reason?: string | null;
    jti?: string | null;
  },
  error: DomainError,
  /** The reason code kept in the event's `detail`; defaults to the error's code. */
  detail: string = error.code,
): Promise<never> {
  await recordAudit(
    deps.db,
    {
      type: event.type,
      outcome: "refused",
      actorUserId: event.actorUserId ?? null,
      targetCoworkerId: event.coworkerId ?? null,
      locationId: event.locationId ?? null,
      kind: event.kind ?? null,
      reason: event.reason ?? null,
      jti: event.jti ?? null,
      ip: meta.ip,
      detail,
    },
    meta,
  );
  metrics.refused(event.type, detail);
  throw error;
}

/** How an issue route finds its target: one read, and what its row (or no row) means. */
export interface TargetLookup<Found> {
  query: SQL;
  read(row: TargetRow | null): Found;
}

interface TargetRow {
  team_id: number | null;
  target_id: number | null;
  user_id: number | null;
  full_name: string | null;
  location_id: number | null;
  rank: number | null;
}

/**
 * The feature switch and the per-actor limit, checked before any target is considered; the
 * target's lookup rides in the limit's statement (one round trip), and its answer is used only
 * once the limit has admitted the caller.
 */
export async function admitIssuer<Found>(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  kind: "staff" | "team",
  lookup: TargetLookup<Found>,
): Promise<Found> {
  const event = {
    type: "impersonation.issued" as const,
    actorUserId: session.userId,
    coworkerId: request.coworkerId,
    locationId: session.locationId,
    kind,
    reason: request.reason ?? null,
  };
  if (!deps.config.impersonationEnabled) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("impersonation_disabled", "Impersonation is switched off."),
    );
  }
  // Every admitted attempt counts, refused ones included, so sweeping ids runs into the limit
  // too; an attempt the limit refuses takes no place (it is not let in). Any 60 s, not a
  // calendar minute (throttle.ts).
  const taken = await take<TargetRow>(
    deps.db,
    [`impersonate:user:${session.userId}`],
    { windowS: 60, limit: deps.config.impersonateLimitPerMinute },
    lookup.query,
  );
  if (!taken.admitted) {
    metrics.throttled("impersonate");
    await refuse(
      deps,
      meta,
      event,
      new DomainError(
        "throttled",
        "Too many impersonation requests. Try again in a minute.",
        taken.retryAfterS,
      ),
    );
  }
  return lookup.read(taken.row);
}

const targetOf = (row: TargetRow): ImpersonationTarget => ({
  coworkerId: row.target_id!,
  userId: row.user_id!,
  fullName: row.full_name!,
  locationId: row.location_id!,
  rank: row.rank ?? 0,
  teamId: row.team_id,
});

/** Staff route: a coworker of the caller's active location. */
export const locationTarget = (
  session: SessionContext,
  coworkerId: number,
): TargetLookup<ImpersonationTarget | null> => ({
  query: sql`select null::int as team_id, c.id as target_id, c.user_id, c.full_name, c.location_id,
      coalesce((select max(${rankOf("r.role")}) from staff_roles r where r.user_id = c.user_id), 0)::int as rank
    from coworkers c where c.id = ${coworkerId} and c.location_id = ${session.locationId}`,
  read: (row) => (row ? targetOf(row) : null),
});

/**
 * Team route: whether the caller administers a team in the active location, and the member of
 * such a team (no row: not a team admin; a row without target: no such member).
 */
export const teamTarget = (
  session: SessionContext,
  coworkerId: number,
): TargetLookup<{ isTeamAdmin: boolean; target: ImpersonationTarget | null }> => ({
  query: sql`select am.team_id, c.id as target_id, c.user_id, c.full_name, c.location_id,
      coalesce((select max(${rankOf("r.role")}) from staff_roles r where r.user_id = c.user_id), 0)::int as rank
    from team_members am
    left join team_members tm on tm.team_id = am.team_id and tm.coworker_id = ${coworkerId}
    left join coworkers c on c.id = tm.coworker_id
    where am.coworker_id = ${session.coworkerId} and am.team_admin and am.location_id = ${session.locationId}
    order by (c.id is null), am.team_id
    limit 1`,
  read: (row) => ({
    isTeamAdmin: row !== null,
    target: row?.target_id == null ? null : targetOf(row),
  }),
});

/** Staff route: the caller's rank must be above the target's highest rank in any location. */
export async function issueForStaff(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  target: ImpersonationTarget | null,
): Promise<{ token: string; expiresAt: Date }> {
  const event = {
    type: "impersonation.issued" as const,
    actorUserId: session.userId,
    coworkerId: request.coworkerId,
    locationId: session.locationId,
    kind: "staff" as const,
    reason: request.reason ?? null,
  };
  if (!target) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("not_found", "No such coworker in this location."),
    );
    return never();
  }
  if (target.userId === session.userId) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("forbidden", "You cannot impersonate yourself."),
      "self",
    );
  }
  const callerRank = STAFF_RANK[session.staffRole as StaffRole];
  if (target.rank >= callerRank) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("forbidden", "You cannot impersonate staff of equal or higher rank."),
      "rank",
    );
  }
  return issue(deps, session, meta, request, target, "staff");
}

/** Team route: the target was resolved by the team-admin middleware; staff and self are refused. */
export async function issueForTeam(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  target: ImpersonationTarget,
): Promise<{ token: string; expiresAt: Date }> {
  const event = {
    type: "impersonation.issued" as const,
    actorUserId: session.userId,
    coworkerId: target.coworkerId,
    locationId: session.locationId,
    kind: "team" as const,
    reason: request.reason ?? null,
  };
  if (target.userId === session.userId) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("forbidden", "You cannot impersonate yourself."),
      "self",
    );
  }
  if (target.rank > 0) {
    await refuse(
      deps,
      meta,
      event,
      new DomainError("forbidden", "Team admins cannot impersonate staff."),
      "staff_target",
    );
  }
  return issue(deps, session, meta, request, target, "team");
}

/**
 * Writes the grant and its audit event, and signs the token. The commit does not wait for the
 * WAL flush (`asyncCommit`): a grant is worth nothing until it is exchanged, and the exchange
 * commits synchronously, which flushes the log up to and past the grant's own commit (the WAL is
 * one ordered log). So a crash of PostgreSQL can only lose grants never exchanged, together with
 * their `issued` events, and their tokens then fail at the exchange (`unknown_grant`); no session
 * can stand on a lost grant.
 */
async function issue(
  deps: ServiceDeps,
  session: SessionContext,
  meta: RequestMeta,
  request: IssueRequest,
  target: ImpersonationTarget,
  kind: "staff" | "team",
): Promise<{ token: string; expiresAt: Date }> {
  const readOnly = request.readOnly ?? false;
  const [grant] = await queryRows<{ jti: string; issued_at: Date; expires_at: Date }>(
    deps.db,
    sql`with g as (
          insert into impersonation_grants (kind, actor_user_id, actor_session_id, target_user_id, coworker_id, location_id, team_id, reason, read_only, return_path, expires_at)
          select ${kind}, ${session.userId}, ${session.id}, ${target.userId}, ${target.coworkerId}, ${target.locationId},
            ${target.teamId}, ${request.reason ?? null}, ${readOnly}, ${request.returnPath ?? null},
            now() + make_interval(secs => ${deps.config.impersonationTokenTtlS})
          where ${beforeDeadline(meta)}
          returning jti, issued_at, expires_at
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, read_only)
          select 'impersonation.issued', 'success', ${session.userId}, ${target.coworkerId}, ${target.locationId}, ${kind},
            ${request.reason ?? null}, ${meta.ip}, g.jti, ${readOnly} from g
        )
        select jti, issued_at, expires_at from g, ${asyncCommit} as commit_mode`,
  );
  const token = signToken(
    deps.signer,
    "impersonation",
    {
      sub: String(target.userId),
      coworker_id: target.coworkerId,
      act: { sub: String(session.userId) },
      ...(readOnly ? { ro: true } : {}),
    },
    { expiresAt: grant!.expires_at, jti: grant!.jti, now: grant!.issued_at },
  );
  metrics.tokenIssued(kind);
  return { token, expiresAt: grant!.expires_at };
}

function never(): never {
  throw new Error("unreachable");
}

interface ExchangedRow {
  session_id: string;
  expires_at: Date;
  target_user_id: number;
  actor_user_id: number;
}

/**
 * Exchanges an impersonation token for a session of its target. The grant is consumed, the
 * session created and the event written in one statement whose WHERE re-checks every condition
 * of the issue: of any number of concurrent exchanges, across processes, exactly one succeeds.
 */
export async function exchange(
  deps: ServiceDeps,
  token: string,
  meta: RequestMeta,
): Promise<IssuedAccessToken & { returnPath: string | null; actorSessionId: string }> {
  const invalid = (why: string) =>
    new DomainError("invalid_token", `The impersonation token is not valid (${why}).`);
  // Refusals of tokens that never verified are recorded, but the answer (401) does not depend on
  // the database: a failed write is dropped, and an unreachable database delays it by 1 s at most.
  const recordOnTheSide = (detail: string) =>
    Promise.race([
      recordAudit(
        deps.db,
        {
          type: "impersonation.exchanged",
          outcome: "refused",
          ip: meta.ip,
          detail,
        },
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
  const [row] = await queryRows<
    ExchangedRow & { return_path: string | null; actor_session_id: string }
  >(
    deps.db,
    sql`with g as (
          update impersonation_grants g set consumed_at = now()
          where g.jti = ${claims.jti} and g.consumed_at is null and g.expires_at > now()
            and g.target_user_id = ${Number(claims.sub)} and g.actor_user_id = ${Number(claims.act.sub)}
            and g.coworker_id = ${claims.coworker_id}
            and ${grantStillValid}
            and ${beforeDeadline(meta)}
          returning g.*
        ), s as (
          insert into sessions (user_id, location_id, coworker_id, grant_jti, actor_user_id, actor_session_id, expires_at)
          select g.target_user_id, g.location_id, g.coworker_id, g.jti, g.actor_user_id, g.actor_session_id,
            least(now() + ${impersonatedSessionMaxInterval}, (select a.expires_at from sessions a where a.id = g.actor_session_id))
          from g
          returning id, expires_at
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, session_id, read_only)
          select 'impersonation.exchanged', 'success', g.actor_user_id, g.coworker_id, g.location_id, g.kind, g.reason, ${meta.ip}, g.jti, s.id, g.read_only
          from g, s
        )
        select s.id as session_id, s.expires_at, g.target_user_id, g.actor_user_id, g.return_path, g.actor_session_id from s, g`,
  );
  if (!row) {
    const why = await whyNotExchangeable(deps, claims.jti);
    await recordAudit(
      deps.db,
      {
        type: "impersonation.exchanged",
        outcome: "refused",
        actorUserId: why.actorUserId,
        targetCoworkerId: why.coworkerId,
        locationId: why.locationId,
        jti: why.actorUserId === null ? null : claims.jti,
        ip: meta.ip,
        detail: why.detail,
      },
      meta,
    );
    metrics.refused("impersonation.exchanged", why.detail);
    throw invalid(why.detail.replace("_", " "));
  }
  const issued = accessTokenFor(deps, {
    id: row.session_id,
    userId: row.target_user_id,
    expiresAt: row.expires_at,
    actorUserId: row.actor_user_id,
  });
  metrics.exchanged();
  return { ...issued, returnPath: row.return_path, actorSessionId: row.actor_session_id };
}

async function whyNotExchangeable(deps: ServiceDeps, jti: string) {
  const [grant] = await queryRows<{
    consumed: boolean;
    live: boolean;
    valid: boolean;
    actor_user_id: number;
    coworker_id: number;
    location_id: number;
  }>(
    deps.db,
    sql`select g.consumed_at is not null as consumed, g.expires_at > now() as live, ${grantStillValid} as valid,
          g.actor_user_id, g.coworker_id, g.location_id
        from impersonation_grants g where g.jti = ${jti}`,
  );
  if (!grant)
    return { detail: "unknown_grant", actorUserId: null, coworkerId: null, locationId: null };
  const detail = grant.consumed
    ? "already_used"
    : !grant.live
      ? "expired"
      : !grant.valid
        ? "revoked"
        : "mismatch";
  return {
    detail,
    actorUserId: grant.actor_user_id,
    coworkerId: grant.coworker_id,
    locationId: grant.location_id,
  };
}

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

/** Where the actor's latest impersonation started from, for a browser coming back after it ended. */
export async function lastReturnPath(
  deps: ServiceDeps,
  actorSessionId: string,
): Promise<string | null> {
  const [row] = await queryRows<{ return_path: string | null }>(
    deps.db,
    sql`select g.return_path from sessions s join impersonation_grants g on g.jti = s.grant_jti
        where s.actor_session_id = ${actorSessionId} order by s.created_at desc limit 1`,
  );
  return row?.return_path ?? null;
}
