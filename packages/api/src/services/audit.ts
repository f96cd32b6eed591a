// The audit log: every issue, exchange, refusal, stop and sign-in lands here. Writes that record
// a change are part of the same SQL statement as the change (see the services); refusals are
// written on their own, since nothing else changes.
import { auditEvents, type Database, queryRows } from "@cowork/db";
import { type AuditExportInput, type AuditListInput, auditTypeSchema } from "@cowork/validators";
import { and, asc, desc, eq, gt, gte, lt, sql } from "drizzle-orm";
import { selectAuditItems, toAuditItem } from "./audit-items";
import { beforeDeadline, type RequestTimes } from "./deadline";

/** Every type an audit event may have: the one list, in @cowork/validators (audit-types.ts). */
export const AUDIT_TYPES = auditTypeSchema.options;
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

export async function listAudit(db: Database, locationId: number, input: AuditListInput) {
  const rows = await selectAuditItems(db)
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
    items: page.map(toAuditItem),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** A page of the export: the filtered events of a location, oldest first, after an event id. */
export async function exportAuditPage(db: Database, locationId: number, input: AuditExportInput) {
  const rows = await selectAuditItems(db)
    .where(
      and(
        eq(auditEvents.locationId, locationId),
        input.after ? gt(auditEvents.id, input.after) : undefined,
        input.actorUserId ? eq(auditEvents.actorUserId, input.actorUserId) : undefined,
        input.targetCoworkerId
          ? eq(auditEvents.targetCoworkerId, input.targetCoworkerId)
          : undefined,
        input.type ? eq(auditEvents.type, input.type) : undefined,
        input.from ? gte(auditEvents.at, new Date(input.from)) : undefined,
        input.to ? lt(auditEvents.at, new Date(input.to)) : undefined,
      ),
    )
    .orderBy(asc(auditEvents.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return {
    items: page.map(toAuditItem),
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}
