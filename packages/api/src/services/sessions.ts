// Server-side sessions: the access token only names one (`sid`); whether it still works is
// decided here, on every request, by one indexed query.
import { IMPERSONATED_SESSION_MAX_S, type StaffRole } from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { beforeDeadline } from "./deadline";
import { type RequestMeta, type ServiceDeps } from "./deps";
import { grantStillValid } from "./grant-rules";

export interface Impersonation {
  grantJti: string;
  actorUserId: number;
  actorName: string;
  actorSessionId: string;
  kind: "staff" | "team";
  reason: string | null;
  readOnly: boolean;
  returnPath: string | null;
}

export interface SessionContext {
  id: string;
  userId: number;
  email: string;
  fullName: string;
  locationId: number;
  locationName: string;
  coworkerId: number | null;
  profileName: string | null;
  /** Staff role in the active location; always null in an impersonated session. */
  staffRole: StaffRole | null;
  expiresAt: Date;
  impersonation: Impersonation | null;
}

interface SessionRow {
  id: string;
  user_id: number;
  email: string;
  full_name: string;
  location_id: number;
  location_name: string;
  coworker_id: number | null;
  profile_name: string | null;
  staff_role: StaffRole | null;
  expires_at: Date;
  grant_jti: string | null;
  actor_user_id: number | null;
  actor_name: string | null;
  actor_session_id: string | null;
  kind: "staff" | "team" | null;
  reason: string | null;
  read_only: boolean | null;
  return_path: string | null;
  grant_ok: boolean;
}

/**
 * The live session named by a verified access token, or null. An impersonated session also
 * needs its grant to hold (actor's session alive, actor's right intact) and the feature on.
 */
export async function loadSession(
  deps: ServiceDeps,
  claims: { sid: string; sub: string; act?: { sub: string } },
): Promise<SessionContext | null> {
  const [row] = await queryRows<SessionRow>(
    deps.db,
    sql`select s.id, s.user_id, u.email, u.full_name, s.location_id, l.name as location_name,
          s.coworker_id, c.full_name as profile_name, sr.role as staff_role, s.expires_at,
          s.grant_jti, s.actor_user_id, au.full_name as actor_name, s.actor_session_id,
          g.kind, g.reason, g.read_only, g.return_path,
          (s.grant_jti is null or ${grantStillValid}) as grant_ok
        from sessions s
        join users u on u.id = s.user_id
        join locations l on l.id = s.location_id
        left join coworkers c on c.id = s.coworker_id
        left join staff_roles sr on sr.user_id = s.user_id and sr.location_id = s.location_id
        left join impersonation_grants g on g.jti = s.grant_jti
        left join users au on au.id = s.actor_user_id
        where s.id = ${claims.sid} and s.revoked_at is null and s.expires_at > now()`,
  );
  if (!row || String(row.user_id) !== claims.sub) return null;
  // The token's actor must be the session's actor: neither may stand in for the other.
  if ((row.actor_user_id === null) !== (claims.act === undefined)) return null;
  if (row.actor_user_id !== null && String(row.actor_user_id) !== claims.act?.sub) return null;
  if (row.grant_jti !== null && (!row.grant_ok || !deps.config.impersonationEnabled)) return null;
  const impersonation: Impersonation | null =
    row.grant_jti === null
      ? null
      : {
          grantJti: row.grant_jti,
          actorUserId: row.actor_user_id!,
          actorName: row.actor_name ?? "",
          actorSessionId: row.actor_session_id!,
          kind: row.kind!,
          reason: row.reason,
          readOnly: row.read_only ?? false,
          returnPath: row.return_path,
        };
  return {
    id: row.id,
    userId: row.user_id,
    email: row.email,
    fullName: row.full_name,
    locationId: row.location_id,
    locationName: row.location_name,
    coworkerId: row.coworker_id,
    profileName: row.profile_name,
    staffRole: impersonation ? null : row.staff_role,
    expiresAt: row.expires_at,
    impersonation,
  };
}

/**
 * When an impersonated session's token is refused because its hour ran out, the audit log says
 * so once. Only runs on the failure path.
 */
export async function recordExpiryIfDue(
  deps: ServiceDeps,
  sid: string,
  meta: RequestMeta,
): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(
    deps.db,
    sql`insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, jti, session_id, read_only)
        select 'impersonation.expired', 'success', s.actor_user_id, s.coworker_id, s.location_id, g.kind, g.reason, ${meta.ip}, g.jti, s.id, g.read_only
        from sessions s join impersonation_grants g on g.jti = s.grant_jti
        where s.id = ${sid} and s.revoked_at is null and s.expires_at <= now()
          and not exists (select 1 from audit_events e where e.session_id = s.id and e.type = 'impersonation.expired')
          and ${beforeDeadline(meta)}
        returning session_id as id`,
  );
  return rows.length > 0;
}

export const impersonatedSessionMaxInterval = sql.raw(
  `interval '${IMPERSONATED_SESSION_MAX_S} seconds'`,
);
