// Server-side sessions: the access token only names one (`sid`); whether it still works is
// decided here, on every request, by one indexed query.
import { IMPERSONATED_SESSION_MAX_S, type StaffRole } from "@cowork/auth";
import {
  coworkers,
  impersonationGrants,
  locations,
  queryRows,
  preparedRead,
  sessions,
  staffRoles,
  users,
} from "@cowork/db";
import { type ReasonCategory } from "@cowork/validators";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
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
  reasonCategory: ReasonCategory | null;
  ticket: string | null;
}

export interface SessionContext {
  id: string;
  userId: number;
  email: string;
  fullName: string;
  locationId: number;
  locationName: string;
  /** The location's IANA time zone: pages show times in it (CONTRACT §11). */
  locationTimeZone: string;
  coworkerId: number | null;
  profileName: string | null;
  /** Staff role in the active location; always null in an impersonated session. */
  staffRole: StaffRole | null;
  expiresAt: Date;
  impersonation: Impersonation | null;
  /** When the session last proved its password, and how (`pwd`, `otp`): CONTRACT §10. */
  authTime: Date;
  amr: ("pwd" | "otp")[];
  /** The thumbprint of the DPoP key its tokens are bound to, or null (RFC 9449). */
  dpopJkt: string | null;
}

// Aliased as the rule's fragment (grantStillValid, grant-rules.ts) names the grant: g.
const s = alias(sessions, "s");
const u = alias(users, "u");
const l = alias(locations, "l");
const c = alias(coworkers, "c");
const sr = alias(staffRoles, "sr");
const g = alias(impersonationGrants, "g");
const au = alias(users, "au");

/** The session row with everything a request needs of it, in one statement (built once). */
const sessionRow = preparedRead("session_load", (db) =>
  db
    .select({
      id: s.id,
      userId: s.userId,
      email: u.email,
      fullName: u.fullName,
      locationId: s.locationId,
      locationName: l.name,
      locationTimeZone: l.timeZone,
      coworkerId: s.coworkerId,
      profileName: c.fullName,
      staffRole: sr.role,
      expiresAt: s.expiresAt,
      grantJti: s.grantJti,
      actorUserId: s.actorUserId,
      actorName: au.fullName,
      actorSessionId: s.actorSessionId,
      kind: g.kind,
      reason: g.reason,
      readOnly: g.readOnly,
      returnPath: g.returnPath,
      reasonCategory: g.reasonCategory,
      ticket: g.ticket,
      authTime: s.authTime,
      amr: s.amr,
      dpopJkt: s.dpopJkt,
      grantOk: sql<boolean>`(${s.grantJti} is null or ${grantStillValid})`,
    })
    .from(s)
    .innerJoin(u, eq(u.id, s.userId))
    .innerJoin(l, eq(l.id, s.locationId))
    .leftJoin(c, eq(c.id, s.coworkerId))
    .leftJoin(sr, and(eq(sr.userId, s.userId), eq(sr.locationId, s.locationId)))
    .leftJoin(g, eq(g.jti, s.grantJti))
    .leftJoin(au, eq(au.id, s.actorUserId))
    .where(and(eq(s.id, sql.placeholder("sid")), isNull(s.revokedAt), gt(s.expiresAt, sql`now()`))),
);

/**
 * The live session named by a verified access token, or null. An impersonated session also
 * needs its grant to hold (actor's session alive, actor's right intact) and the feature on.
 */
export async function loadSession(
  deps: ServiceDeps,
  claims: { sid: string; sub: string; act?: { sub: string }; cnf?: { jkt: string } },
): Promise<SessionContext | null> {
  const [row] = await sessionRow(deps.db, { sid: claims.sid });
  if (!row || String(row.userId) !== claims.sub) return null;
  // A bound session's tokens are all bound to its key, and an unbound one's to none.
  if (row.dpopJkt !== (claims.cnf?.jkt ?? null)) return null;
  // The token's actor must be the session's actor: neither may stand in for the other.
  if ((row.actorUserId === null) !== (claims.act === undefined)) return null;
  if (row.actorUserId !== null && String(row.actorUserId) !== claims.act?.sub) return null;
  if (row.grantJti !== null && (!row.grantOk || !deps.config.impersonationEnabled)) return null;
  const impersonation: Impersonation | null =
    row.grantJti === null
      ? null
      : {
          grantJti: row.grantJti,
          actorUserId: row.actorUserId!,
          actorName: row.actorName ?? "",
          actorSessionId: row.actorSessionId!,
          kind: row.kind!,
          reason: row.reason,
          readOnly: row.readOnly ?? false,
          returnPath: row.returnPath,
          reasonCategory: row.reasonCategory as ReasonCategory | null,
          ticket: row.ticket,
        };
  return {
    id: row.id,
    userId: row.userId,
    email: row.email,
    fullName: row.fullName,
    locationId: row.locationId,
    locationName: row.locationName,
    locationTimeZone: row.locationTimeZone,
    coworkerId: row.coworkerId,
    profileName: row.profileName,
    staffRole: impersonation ? null : row.staffRole,
    expiresAt: row.expiresAt,
    impersonation,
    authTime: row.authTime,
    amr: row.amr.filter((method): method is "pwd" | "otp" => method === "pwd" || method === "otp"),
    dpopJkt: row.dpopJkt,
  };
}

/** The row of recordExpiryIfDue's statement (checked against the schema in row-types.test.ts). */
export interface ExpiryRecordedRow {
  id: string;
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
  const rows = await queryRows<ExpiryRecordedRow>(
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
