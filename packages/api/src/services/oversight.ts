// Live oversight (CONTRACT §8): the live impersonated sessions of a location or of a member's
// account, and ending one at once, by an admin of the location or by the member.
import { queryRows } from "@cowork/db";
import { type LiveImpersonationsOutput, type ReasonCategory } from "@cowork/validators";
import { type SQL, sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { grantStillValid } from "./grant-rules";
import { type SessionContext } from "./sessions";

/**
 * An impersonated session (`s`, its grant `g`) that still works: not ended, not expired, and its
 * grant still valid (actor's session, right, consent), as the session check on every request asks.
 */
const live = sql`s.grant_jti is not null and s.revoked_at is null and s.expires_at > now() and ${grantStillValid}`;

/** A row of listLive's statement (checked against the schema in row-types.test.ts). */
export interface LiveSessionRow {
  session_id: string;
  actor_user_id: number;
  actor_name: string;
  coworker_id: number;
  target_name: string;
  kind: "staff" | "team";
  read_only: boolean;
  reason: string | null;
  reason_category: string | null;
  ticket: string | null;
  started_at: Date;
  expires_at: Date;
}

/** The live impersonated sessions matching `where`, newest first. */
export async function listLive(deps: ServiceDeps, where: SQL) {
  const rows = await queryRows<LiveSessionRow>(
    deps.db,
    sql`select s.id as session_id, s.actor_user_id, au.full_name as actor_name, s.coworker_id,
          c.full_name as target_name, g.kind, g.read_only, g.reason, g.reason_category, g.ticket,
          s.created_at as started_at, s.expires_at
        from sessions s
        join impersonation_grants g on g.jti = s.grant_jti
        join users au on au.id = s.actor_user_id
        join coworkers c on c.id = s.coworker_id
        where ${where} and ${live}
        order by s.created_at desc, s.id
        limit 500`,
  );
  return rows.map((row) => ({
    sessionId: row.session_id,
    actor: { userId: row.actor_user_id, fullName: row.actor_name },
    target: { coworkerId: row.coworker_id, fullName: row.target_name },
    kind: row.kind,
    mode: row.read_only ? ("readonly" as const) : ("full" as const),
    reason: row.reason,
    reasonCategory: row.reason_category as ReasonCategory | null,
    ticket: row.ticket,
    startedAt: row.started_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  }));
}

/** Every live impersonated session of the location, newest first. */
export async function listLocationImpersonations(
  deps: ServiceDeps,
  locationId: number,
): Promise<LiveImpersonationsOutput> {
  return { items: await listLive(deps, sql`s.location_id = ${locationId}`) };
}

/** The row of terminate's statement. */
interface TerminatedRow {
  id: string;
}

/**
 * Ends a live impersonated session at once and writes `impersonation.terminated` (actor: who ended
 * it; detail: by_admin or by_member), in one statement; 404 when `whose` names no live one.
 */
async function terminate(
  deps: ServiceDeps,
  sessionId: string,
  whose: SQL,
  actorUserId: number,
  detail: "by_admin" | "by_member",
  meta: RequestMeta,
): Promise<void> {
  const rows = await queryRows<TerminatedRow>(
    deps.db,
    sql`with ended as (
          update sessions s set revoked_at = now(), revoked_reason = ${`terminated_${detail}`}
          from impersonation_grants g
          where s.id = ${sessionId} and g.jti = s.grant_jti and ${whose} and ${live}
            and ${beforeDeadline(meta)}
          returning s.id, s.coworker_id, s.location_id, g.kind, g.reason, g.jti, g.read_only, g.reason_category, g.ticket
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, detail, jti, session_id, read_only, reason_category, ticket)
          select 'impersonation.terminated', 'success', ${actorUserId}, ended.coworker_id, ended.location_id, ended.kind,
            ended.reason, ${meta.ip}, ${detail}, ended.jti, ended.id, ended.read_only, ended.reason_category, ended.ticket
          from ended
        )
        select id from ended`,
  );
  if (rows.length === 0) {
    throw new DomainError("not_found", "No such live impersonated session.");
  }
}

/** An admin ends a live impersonated session of their active location. */
export const endImpersonationByAdmin = (
  deps: ServiceDeps,
  session: SessionContext,
  sessionId: string,
  meta: RequestMeta,
) =>
  terminate(
    deps,
    sessionId,
    sql`s.location_id = ${session.locationId}`,
    session.userId,
    "by_admin",
    meta,
  );

/** A member ends a live impersonation of their own account. */
export const endImpersonationByMember = (
  deps: ServiceDeps,
  session: SessionContext,
  sessionId: string,
  meta: RequestMeta,
) =>
  terminate(deps, sessionId, sql`s.user_id = ${session.userId}`, session.userId, "by_member", meta);
