// The audit log: every issue, exchange, refusal, stop and sign-in lands here. Writes that record
// a change are part of the same SQL statement as the change (see the services); refusals are
// written on their own, since nothing else changes.
import { auditEvents, type Database, coworkers, queryRows, users } from "@cowork/db";
import { type AuditListInput, type ReasonCategory } from "@cowork/validators";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { beforeDeadline, type RequestTimes } from "./deadline";

export const AUDIT_TYPES = [
  "signin",
  "signin.failed",
  "impersonation.issued",
  "impersonation.exchanged",
  "impersonation.stopped",
  "impersonation.expired",
  "session.signed_out",
  "profile.switched",
  "policy.changed",
  "consent.granted",
  "consent.revoked",
  "impersonation.terminated",
  "session.reauthenticated",
  "otp.enrolled",
  "otp.removed",
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export interface AuditRecord {
  type: AuditType;
  outcome: "success" | "refused";
  actorUserId?: number | null;
  targetCoworkerId?: number | null;
  locationId?: number | null;
  kind?: "staff" | "team" | null;
  reason?: string | null;
  ip?: string | null;
  detail?: string | null;
  jti?: string | null;
  sessionId?: string | null;
  readOnly?: boolean | null;
}

/** Writes one event, unless the request's deadline has passed (then nothing, and a 503). */
export async function recordAudit(
  db: Database,
  record: AuditRecord,
  times: Pick<RequestTimes, "deadline">,
): Promise<void> {
  // A refusal may name a coworker that does not exist, or one of another location: only a
  // coworker of the event's own location is referenced (and so named in that location's log).
  await queryRows(
    db,
    sql`insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, detail, jti, session_id, read_only)
        select ${record.type}, ${record.outcome}, ${record.actorUserId ?? null},
          (select id from coworkers where id = ${record.targetCoworkerId ?? null} and location_id = ${record.locationId ?? null}),
          ${record.locationId ?? null}, ${record.kind ?? null}, ${record.reason ?? null}, ${record.ip ?? null},
          ${record.detail ?? null}, ${record.jti ?? null}, ${record.sessionId ?? null}, ${record.readOnly ?? null}
        where ${beforeDeadline(times)}`,
  );
}

const actorUser = alias(users, "actor_user");

export async function listAudit(db: Database, locationId: number, input: AuditListInput) {
  const rows = await db
    .select({
      id: auditEvents.id,
      at: auditEvents.at,
      type: auditEvents.type,
      outcome: auditEvents.outcome,
      actorUserId: auditEvents.actorUserId,
      actorName: actorUser.fullName,
      targetCoworkerId: auditEvents.targetCoworkerId,
      targetName: coworkers.fullName,
      locationId: auditEvents.locationId,
      kind: auditEvents.kind,
      reason: auditEvents.reason,
      ip: auditEvents.ip,
      detail: auditEvents.detail,
      readOnly: auditEvents.readOnly,
      reasonCategory: auditEvents.reasonCategory,
      ticket: auditEvents.ticket,
    })
    .from(auditEvents)
    .leftJoin(actorUser, eq(actorUser.id, auditEvents.actorUserId))
    .leftJoin(coworkers, eq(coworkers.id, auditEvents.targetCoworkerId))
    .where(
      and(
        eq(auditEvents.locationId, locationId),
        input.cursor ? lt(auditEvents.id, input.cursor) : undefined,
        input.actorUserId ? eq(auditEvents.actorUserId, input.actorUserId) : undefined,
        input.targetCoworkerId
          ? eq(auditEvents.targetCoworkerId, input.targetCoworkerId)
          : undefined,
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((row) => ({
      id: row.id,
      at: row.at.toISOString(),
      type: row.type as AuditType,
      actor: row.actorUserId ? { userId: row.actorUserId, fullName: row.actorName ?? "" } : null,
      target: row.targetCoworkerId
        ? { coworkerId: row.targetCoworkerId, fullName: row.targetName ?? "" }
        : null,
      locationId: row.locationId,
      kind: row.kind,
      reason: row.reason,
      ip: row.ip,
      outcome: row.outcome as "success" | "refused",
      detail: row.detail,
      mode: row.readOnly === null ? null : row.readOnly ? ("readonly" as const) : ("full" as const),
      reasonCategory: row.reasonCategory as ReasonCategory | null,
      ticket: row.ticket,
    })),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}
