// The audit item: one function builds it for the list, the export and the Merkle log's leaves,
// so what an admin reads, what is exported and what is signed are the same bytes (CONTRACT §9).
// A field added here (and to auditItemOutput) is listed, exported and hashed alike.
import { auditEvents, coworkers, type Database, users } from "@cowork/db";
import { type AuditItem, auditItemOutput, type ReasonCategory } from "@cowork/validators";
import { eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type AuditType } from "./audit";
import { leafHash } from "./audit-log/merkle";

const actorUser = alias(users, "actor_user");

/**
 * The columns an item is made of. A sealed event shows the names it was sealed with (a rename
 * must not change what was signed); an unsealed one, the current names.
 */
/** The names an item shows (and the person filter searches): sealed, else current. */
export const auditActorName = sql<
  string | null
>`coalesce(${auditEvents.actorName}, ${actorUser.fullName})`;
export const auditTargetName = sql<
  string | null
>`coalesce(${auditEvents.targetName}, ${coworkers.fullName})`;

const itemColumns = {
  id: auditEvents.id,
  at: auditEvents.at,
  type: auditEvents.type,
  outcome: auditEvents.outcome,
  actorUserId: auditEvents.actorUserId,
  actorName: auditActorName,
  targetCoworkerId: auditEvents.targetCoworkerId,
  targetName: auditTargetName,
  locationId: auditEvents.locationId,
  kind: auditEvents.kind,
  reason: auditEvents.reason,
  ip: auditEvents.ip,
  detail: auditEvents.detail,
  readOnly: auditEvents.readOnly,
  reasonCategory: auditEvents.reasonCategory,
  ticket: auditEvents.ticket,
  seq: auditEvents.seq,
  leafHash: auditEvents.leafHash,
};

/** Selects audit item rows; the caller adds where, order and limit. */
export const selectAuditItems = (db: Pick<Database, "select">) =>
  db
    .select(itemColumns)
    .from(auditEvents)
    .leftJoin(actorUser, eq(actorUser.id, auditEvents.actorUserId))
    .leftJoin(coworkers, eq(coworkers.id, auditEvents.targetCoworkerId));

export type AuditItemRow = Awaited<
  ReturnType<ReturnType<typeof selectAuditItems>["execute"]>
>[number];

/** The item of a row, as GET /api/sys/audit returns it. */
export function toAuditItem(row: AuditItemRow): AuditItem {
  return {
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
    mode: row.readOnly === null ? null : row.readOnly ? "readonly" : "full",
    reasonCategory: row.reasonCategory as ReasonCategory | null,
    ticket: row.ticket,
    seq: row.seq === null ? null : Number(row.seq),
    leafHash: row.leafHash,
  };
}

/**
 * The leaf hash of an item: SHA-256(0x00 ‖ RFC 8785 JSON of the item exactly as the list returns
 * it — through its output schema — every field but seq and leafHash).
 */
export function auditLeafHash(item: AuditItem): string {
  const { seq: _seq, leafHash: _leafHash, ...hashed } = auditItemOutput.parse(item);
  return leafHash(hashed);
}
