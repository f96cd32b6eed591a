// The audit log: every issue, exchange, refusal, stop and sign-in lands here. Writes that record
// a change are part of the same SQL statement as the change (see the services); refusals are
// written on their own, since nothing else changes.
import { auditEvents, type Database, queryRows } from "@cowork/db";
import {
  type AuditExportInput,
  type AuditFilterInput,
  type AuditListInput,
  auditTypeSchema,
} from "@cowork/validators";
import { and, asc, desc, eq, gt, gte, ilike, lt, or, type SQL, sql } from "drizzle-orm";
import { auditActorName, auditTargetName, selectAuditItems, toAuditItem } from "./audit-items";
import { containsPattern } from "./contains-pattern";
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

/**
 * The one where clause of the list and the export: the location, then every filter given. The
 * person filter searches the names the items show (the sealed name once sealed, else the current
 * one), so it finds exactly the events whose actor or target reads so on the page; it never
 * reaches past the location, whose events name only its own coworkers.
 */
function auditFilterWhere(locationId: number, filter: AuditFilterInput): SQL {
  const person = filter.person === undefined ? undefined : containsPattern(filter.person);
  return and(
    eq(auditEvents.locationId, locationId),
    filter.actorUserId ? eq(auditEvents.actorUserId, filter.actorUserId) : undefined,
    filter.targetCoworkerId ? eq(auditEvents.targetCoworkerId, filter.targetCoworkerId) : undefined,
    person === undefined
      ? undefined
      : or(ilike(auditActorName, person), ilike(auditTargetName, person)),
    filter.type ? eq(auditEvents.type, filter.type) : undefined,
    filter.outcome ? eq(auditEvents.outcome, filter.outcome) : undefined,
    filter.from ? gte(auditEvents.at, new Date(filter.from)) : undefined,
    filter.to ? lt(auditEvents.at, new Date(filter.to)) : undefined,
  )!;
}

/** A page of the list: the filtered events of a location, newest first, before an event id. */
export async function listAudit(db: Database, locationId: number, input: AuditListInput) {
  const rows = await selectAuditItems(db)
    .where(
      and(
        auditFilterWhere(locationId, input),
        input.cursor ? lt(auditEvents.id, input.cursor) : undefined,
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
        auditFilterWhere(locationId, input),
        input.after ? gt(auditEvents.id, input.after) : undefined,
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
