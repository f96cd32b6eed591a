// A user's coworker profiles (one per location) and the session's current one.
import {
  coworkers,
  impersonationGrants,
  locations,
  queryRows,
  readPrepared,
  sessions,
  users,
} from "@cowork/db";
import { type ReasonCategory } from "@cowork/validators";
import { HISTORY_ACTIONS_MAX, type ImpersonationAction } from "@cowork/validators";
import { and, asc, desc, eq, isNotNull, sql } from "drizzle-orm";
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
  const rows = await readPrepared(
    deps.db
      .select({
        id: coworkers.id,
        locationId: coworkers.locationId,
        locationName: locations.name,
        fullName: coworkers.fullName,
      })
      .from(coworkers)
      .innerJoin(locations, eq(locations.id, coworkers.locationId))
      .where(
        and(
          eq(coworkers.userId, session.userId),
          onlyCoworker === null ? undefined : eq(coworkers.id, onlyCoworker),
        ),
      )
      .orderBy(asc(coworkers.id)),
    "profiles_list",
  );
  return rows.map((row) => ({
    coworkerId: row.id,
    locationId: row.locationId,
    locationName: row.locationName,
    fullName: row.fullName,
    isCurrent: row.id === session.coworkerId,
  }));
}

/** The row of setCurrentProfile's statement (checked against the schema in row-types.test.ts). */
export interface ProfileSwitchRow {
  id: number;
  location_id: number;
  location_name: string;
  full_name: string;
}

/** Moves the session to one of the user's own profiles; the active location follows it. */
export async function setCurrentProfile(
  deps: ServiceDeps,
  session: SessionContext,
  coworkerId: number,
  meta: RequestMeta,
): Promise<Profile> {
  const [row] = await queryRows<ProfileSwitchRow>(
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
  reasonCategory: ReasonCategory | null;
  ticket: string | null;
  endedAt: string | null;
  actions: ImpersonationAction[];
  actionCount: number;
}

/**
 * What one session called, oldest first, as a JSON array (at most HISTORY_ACTIONS_MAX of them),
 * and how many calls it made: read in the history's own statement, never a query per session.
 */
const sessionActions = sql`coalesce((
    select json_agg(json_build_object(
        'at', to_char(a.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'procedure', a.procedure, 'kind', a.kind, 'outcome', a.outcome) order by a.at, a.id)
    from (select at, id, procedure, kind, outcome from impersonation_actions
          where session_id = ${sessions.id} order by at, id limit ${sql.raw(String(HISTORY_ACTIONS_MAX))}) a
  ), '[]'::json)`;
const sessionActionCount = sql`(select count(*)::int from impersonation_actions where session_id = ${sessions.id})`;

/** Every impersonation of the caller's own profiles: who, when, why, for how long, what was done. */
export async function accessHistory(
  deps: ServiceDeps,
  session: SessionContext,
): Promise<AccessHistoryItem[]> {
  // This process's records of calls it answered are written before they are read.
  await deps.actions.flush();
  // Each session's grant is read by its key, once per listed session (a lateral lookup): the
  // sessions come newest first from sessions_user_created_idx and stop at the limit, so the
  // statement reads a few hundred rows however many grants the service has ever issued.
  const grant = deps.db
    .select({
      kind: impersonationGrants.kind,
      reason: impersonationGrants.reason,
      readOnly: impersonationGrants.readOnly,
      reasonCategory: impersonationGrants.reasonCategory,
      ticket: impersonationGrants.ticket,
    })
    .from(impersonationGrants)
    .where(eq(impersonationGrants.jti, sessions.grantJti))
    .limit(1)
    .as("grant");
  const rows = await readPrepared(
    deps.db
      .select({
        at: sessions.createdAt,
        actorName: users.fullName,
        kind: grant.kind,
        reason: grant.reason,
        readOnly: grant.readOnly,
        reasonCategory: grant.reasonCategory,
        ticket: grant.ticket,
        // Revoked, or else expired; null while it still runs.
        endedAt: sql`coalesce(${sessions.revokedAt},
          case when ${sessions.expiresAt} <= now() then ${sessions.expiresAt} end)`.mapWith(
          sessions.revokedAt,
        ),
        actions: sessionActions.mapWith((value: unknown) => parseJsonColumn(value)),
        actionCount: sessionActionCount.mapWith(Number),
      })
      .from(sessions)
      .innerJoinLateral(grant, sql`true`)
      .innerJoin(users, eq(users.id, sessions.actorUserId))
      .where(and(eq(sessions.userId, session.userId), isNotNull(sessions.grantJti)))
      .orderBy(desc(sessions.createdAt))
      .limit(200),
    "profiles_access_history",
  );
  return rows.map((row) => ({
    at: row.at.toISOString(),
    actor: { fullName: row.actorName },
    kind: row.kind,
    reason: row.reason,
    readOnly: row.readOnly,
    reasonCategory: row.reasonCategory as ReasonCategory | null,
    ticket: row.ticket,
    endedAt: row.endedAt ? row.endedAt.toISOString() : null,
    actions: row.actions,
    actionCount: row.actionCount,
  }));
}

/** A json column as either driver returns it: parsed already, or as its text. */
function parseJsonColumn(value: unknown): ImpersonationAction[] {
  return (typeof value === "string" ? JSON.parse(value) : value) as ImpersonationAction[];
}
