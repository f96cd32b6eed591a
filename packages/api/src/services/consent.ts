// Members' consent to support access (CONTRACT §8): grant, list, revoke. Issue and exchange read
// the grants in their own statements (issue.ts, exchange.ts); a session that needed one stands on
// it (impersonation_grants.consent_grant_id) and lives only while it is open (consent_still_open).
import { queryRows } from "@cowork/db";
import { type SupportAccessOutput } from "@cowork/validators";
import { sql } from "drizzle-orm";
import { DomainError } from "../errors";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { listLive } from "./oversight";
import { type SessionContext } from "./sessions";

/** A member's own session with an active profile (memberProcedure). */
export type MemberSession = SessionContext & { coworkerId: number; impersonation: null };

/** A row of support_access_grants as the statements here return it. */
export interface ConsentRow {
  id: number;
  granted_to: "staff" | "team";
  read_only: boolean;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const toGrant = (row: ConsentRow) => ({
  id: row.id,
  grantedTo: row.granted_to,
  mode: row.read_only ? ("readonly" as const) : ("full" as const),
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
  revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
});

/** Open grants of the active profile and those ended in the last 30 days; live sessions in it. */
export async function listSupportAccess(
  deps: ServiceDeps,
  session: MemberSession,
): Promise<SupportAccessOutput> {
  const grants = await queryRows<ConsentRow>(
    deps.db,
    sql`select id, granted_to, read_only, created_at, expires_at, revoked_at
        from support_access_grants
        where coworker_id = ${session.coworkerId} and user_id = ${session.userId}
          and coalesce(least(revoked_at, expires_at), expires_at) > now() - interval '30 days'
        order by created_at desc, id desc
        limit 200`,
  );
  const live = await listLive(
    deps,
    sql`s.coworker_id = ${session.coworkerId} and s.user_id = ${session.userId}`,
  );
  return {
    grants: grants.map(toGrant),
    live: live.map((item) => ({
      sessionId: item.sessionId,
      actor: { fullName: item.actor.fullName },
      kind: item.kind,
      mode: item.mode,
      reason: item.reason,
      startedAt: item.startedAt,
      expiresAt: item.expiresAt,
    })),
  };
}

/** Opens a grant for the active profile and writes `consent.granted`, in one statement. */
export async function grantSupportAccess(
  deps: ServiceDeps,
  session: MemberSession,
  input: { grantedTo: "staff" | "team"; hours: number; mode: "full" | "readonly" },
  meta: RequestMeta,
) {
  const [row] = await queryRows<ConsentRow>(
    deps.db,
    sql`with cg as (
          insert into support_access_grants (user_id, coworker_id, location_id, granted_to, read_only, expires_at)
          select ${session.userId}, ${session.coworkerId}, ${session.locationId}, ${input.grantedTo}::impersonation_kind,
            ${input.mode === "readonly"}, now() + make_interval(hours => ${input.hours})
          where ${beforeDeadline(meta)}
          returning id, granted_to, read_only, created_at, expires_at, revoked_at
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, ip, detail, read_only)
          select 'consent.granted', 'success', ${session.userId}, ${session.coworkerId}, ${session.locationId},
            cg.granted_to, ${meta.ip}, ${`${input.hours}h`}, cg.read_only
          from cg
        )
        select * from cg`,
  );
  return toGrant(row!);
}

/** The row of revokeSupportAccess's statement. */
interface RevokedRow {
  id: number;
}

/**
 * Ends one of the member's grants and writes `consent.revoked`, and ends the impersonated sessions
 * that stood on it, in one statement. Sessions an exchange still creates on it while this runs
 * end too: each request of theirs asks whether their grant is open (consent_still_open), and the
 * exchange holds the grant FOR SHARE, so it is decided before or after this revocation, never
 * across it. A grant of theirs that already ended answers as revoked; anyone else's is 404.
 */
export async function revokeSupportAccess(
  deps: ServiceDeps,
  session: MemberSession,
  grantId: number,
  meta: RequestMeta,
): Promise<void> {
  const rows = await queryRows<RevokedRow>(
    deps.db,
    sql`with mine as (
          select id, coworker_id, location_id, granted_to, read_only,
            revoked_at is null and expires_at > now() as open
          from support_access_grants where id = ${grantId} and user_id = ${session.userId}
          for update
        ), r as (
          update support_access_grants cg set revoked_at = now()
          from mine where cg.id = mine.id and mine.open and ${beforeDeadline(meta)}
          returning cg.id
        ), ended as (
          update sessions set revoked_at = now(), revoked_reason = 'consent_revoked'
          where revoked_at is null and grant_jti in (
            select jti from impersonation_grants where consent_grant_id in (select id from r))
        ), e as (
          insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, ip, read_only)
          select 'consent.revoked', 'success', ${session.userId}, mine.coworker_id, mine.location_id,
            mine.granted_to, ${meta.ip}, mine.read_only
          from mine join r on r.id = mine.id
        )
        select id from mine`,
  );
  if (rows.length === 0) throw new DomainError("not_found", "No such grant of yours.");
}
