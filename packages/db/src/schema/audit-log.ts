// Each location's audit log as a Merkle tree (RFC 9162): its perfect subtrees and its signed
// checkpoints. Written only by the sealer (@cowork/api services/audit-log); migration 0008.
import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { locations } from "./directory";

/**
 * Level 0: the leaf hash of the event with seq idx + 1. Level k: the node over the leaves
 * [idx·2^k, (idx+1)·2^k). Hashes are unpadded base64url.
 */
export const auditNodes = pgTable(
  "audit_nodes",
  {
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    level: smallint("level").notNull(),
    idx: bigint("idx", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ name: "audit_nodes_pkey", columns: [t.locationId, t.level, t.idx] })],
);

/** A signed statement that the location's tree of `size` leaves has root `root`. */
export const auditCheckpoints = pgTable(
  "audit_checkpoints",
  {
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    size: bigint("size", { mode: "number" }).notNull(),
    root: text("root").notNull(),
    signedAt: timestamp("signed_at", { withTimezone: true }).notNull(),
    /** The compact JWS (typ audit-checkpoint+jwt) of { iss, loc, size, root, iat }. */
    jws: text("jws").notNull(),
  },
  (t) => [
    primaryKey({ name: "audit_checkpoints_pkey", columns: [t.locationId, t.size] }),
    check("audit_checkpoints_size", sql`${t.size} > 0`),
  ],
);

/**
 * How far a location's audit events have been pruned (AUDIT_RETENTION_DAYS, migration 0012):
 * the events of seq 1 to `throughSeq` are gone, their leaves stay in audit_nodes.
 */
export const auditPruned = pgTable(
  "audit_pruned",
  {
    locationId: integer("location_id")
      .primaryKey()
      .references(() => locations.id, { onDelete: "cascade" }),
    throughSeq: bigint("through_seq", { mode: "number" }).notNull(),
    prunedAt: timestamp("pruned_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("audit_pruned_through_seq", sql`${t.throughSeq} > 0`)],
);
