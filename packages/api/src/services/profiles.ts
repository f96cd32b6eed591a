// A user's coworker profiles (one per location) and the session's current one.
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { type SessionContext } from "./sessions";

export interface Profile {
  coworkerId: number;
  locationId: number;
  locationName: string;
  fullName: string;
  isCurrent: boolean;
}

/** Every profile of the user; an impersonated session sees only the impersonated one. */
export async function listProfiles(deps: ServiceDeps, session: SessionContext): Promise<Profile[]> {
  const onlyCoworker = session.impersonation ? session.coworkerId : null;
  const rows = await queryRows<{
    id: number;
    location_id: number;
    location_name: string;
    full_name: string;
  }>(
    deps.db,
    sql`select c.id, c.location_id, l.name as location_name, c.full_name
        from coworkers c join locations l on l.id = c.location_id
        where c.user_id = ${session.userId} and (${onlyCoworker}::int is null or c.id = ${onlyCoworker}::int)
        order by c.id`,
  );
  return rows.map((row) => ({
    coworkerId: row.id,
    locationId: row.location_id,
    locationName: row.location_name,
    fullName: row.full_name,
    isCurrent: row.id === session.coworkerId,
  }));
}

/** Moves the session to one of the user's own profiles; the active location follows it. */
export async function setCurrentProfile(
  deps: ServiceDeps,
  session: SessionContext,
  coworkerId: number,
  meta: RequestMeta,
): Promise<Profile> {
  const [row] = await queryRows<{
    id: number;
    location_id: number;
    location_name: string;
    full_name: string;
  }>(
    deps.db,
    sql`with c as (
          select c.id, c.location_id, l.name as location_name, c.full_name
          from coworkers c join locations l on l.id = c.location_id
          where c.id = ${coworkerId} and c.user_id = ${session.userId}
        ), s as (
          update sessions set coworker_id = c.id, location_id = c.location_id
          from c where sessions.id = ${session.id} and sessions.revoked_at is null
            and ${beforeDeadline(meta)}
          returning sessions.id
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, ip, session_id)
          select 'profile.switched', 'success', ${session.userId}, c.id, c.location_id, ${meta.ip}, s.id from c, s
        )
        select c.* from c, s`,
  );
  if (!row) throw new DomainError("not_found", "That is not one of your profiles.");
  return {
    coworkerId: row.id,
    locationId: row.location_id,
    locationName: row.location_name,
    fullName: row.full_name,
    isCurrent: true,
  };
}

export interface AccessHistoryItem {
  at: string;
  actor: { fullName: string };
  kind: "staff" | "team";
  reason: string | null;
  readOnly: boolean;
  endedAt: string | null;
}

/** Every impersonation of the caller's own profiles: who, when, why, for how long. */
export async function accessHistory(
  deps: ServiceDeps,
  session: SessionContext,
): Promise<AccessHistoryItem[]> {
  const rows = await queryRows<{
    at: Date;
    actor_name: string;
    kind: "staff" | "team";
    reason: string | null;
    read_only: boolean;
    ended_at: Date | null;
  }>(
    deps.db,
    sql`select s.created_at as at, au.full_name as actor_name, g.kind, g.reason, g.read_only,
          coalesce(s.revoked_at, case when s.expires_at <= now() then s.expires_at end) as ended_at
        from sessions s
        join impersonation_grants g on g.jti = s.grant_jti
        join users au on au.id = s.actor_user_id
        where s.user_id = ${session.userId}
        order by s.created_at desc
        limit 200`,
  );
  return rows.map((row) => ({
    at: row.at.toISOString(),
    actor: { fullName: row.actor_name },
    kind: row.kind,
    reason: row.reason,
    readOnly: row.read_only,
    endedAt: row.ended_at ? row.ended_at.toISOString() : null,
  }));
}
