// Recomputes every location's Merkle log from the database and checks it against the signed
// checkpoints (`pnpm audit:verify`): each sealed event, in seq order, must hash to its stored leaf;
// each checkpoint's root must be the root of the events it covers, and its signature must verify
// with the service's keys. Reports the first event whose content or order no longer matches.
// Memory stays bounded: events and checkpoints are read in batches, the tree kept as its frontier.
// Events pruned by AUDIT_RETENTION_DAYS (seq 1 … audit_pruned.through_seq) are checked from the
// leaf hashes the tree kept of them: the checkpoints over them must still verify, and any other
// missing event is reported as missing.
import { InvalidCheckpointError, type KeySet, verifyCheckpoint } from "@cowork/auth";
import {
  auditCheckpoints,
  auditEvents,
  auditNodes,
  auditPruned,
  type Database,
  queryRows,
} from "@cowork/db";
import { and, asc, eq, gt, gte, isNotNull, lt, sql } from "drizzle-orm";
import { auditLeafHash, selectAuditItems, toAuditItem } from "../audit-items";
import { MerkleFrontier } from "./merkle";

const BATCH = 1000;

export interface VerifyFailure {
  locationId: number;
  seq: number;
  problem: string;
}

export interface VerifyResult {
  events: number;
  checkpoints: number;
  /** Events pruned by retention, checked through the leaf hashes kept of them. */
  pruned: number;
  failure: VerifyFailure | null;
}

/** The checkpoints of a location in size order, a batch at a time. */
async function* checkpointsOf(db: Database, locationId: number) {
  let after = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditCheckpoints)
      .where(and(eq(auditCheckpoints.locationId, locationId), gt(auditCheckpoints.size, after)))
      .orderBy(asc(auditCheckpoints.size))
      .limit(BATCH);
    for (const row of rows) yield { ...row, size: Number(row.size) };
    if (rows.length < BATCH) return;
    after = Number(rows.at(-1)!.size);
  }
}

/**
 * The sealed events of a location in seq order, a batch at a time, each with the leaf the tree
 * holds at its place (audit_nodes level 0, idx seq − 1): that copy is keyed by position, so an
 * event moved to another seq no longer matches it.
 */
async function* sealedEventsOf(db: Database, locationId: number, after: number) {
  for (;;) {
    const rows = await selectAuditItems(db)
      .where(
        and(
          eq(auditEvents.locationId, locationId),
          isNotNull(auditEvents.seq),
          gt(auditEvents.seq, after),
        ),
      )
      .orderBy(asc(auditEvents.seq))
      .limit(BATCH);
    const leaves = new Map(
      (
        await db
          .select({ idx: auditNodes.idx, hash: auditNodes.hash })
          .from(auditNodes)
          .where(
            and(
              eq(auditNodes.locationId, locationId),
              eq(auditNodes.level, 0),
              gte(auditNodes.idx, after),
              lt(auditNodes.idx, after + BATCH * 2),
            ),
          )
      ).map((node) => [Number(node.idx), node.hash]),
    );
    for (const row of rows) yield { row, treeLeaf: leaves.get(Number(row.seq) - 1) ?? null };
    if (rows.length < BATCH) return;
    after = Number(rows.at(-1)!.seq);
  }
}

/** The leaf hashes of a location's pruned events (seq 1 … through), a batch at a time. */
async function* prunedLeavesOf(db: Database, locationId: number, through: number) {
  for (let from = 0; from < through; from += BATCH) {
    const rows = await db
      .select({ idx: auditNodes.idx, hash: auditNodes.hash })
      .from(auditNodes)
      .where(
        and(
          eq(auditNodes.locationId, locationId),
          eq(auditNodes.level, 0),
          gte(auditNodes.idx, from),
          lt(auditNodes.idx, Math.min(from + BATCH, through)),
        ),
      )
      .orderBy(asc(auditNodes.idx));
    const leaves = new Map(rows.map((row) => [Number(row.idx), row.hash]));
    for (let idx = from; idx < Math.min(from + BATCH, through); idx++)
      yield { seq: idx + 1, hash: leaves.get(idx) ?? null };
  }
}

/** How far a location's events were pruned (0: never). */
async function prunedThrough(db: Database, locationId: number): Promise<number> {
  const [row] = await db
    .select({ through: auditPruned.throughSeq })
    .from(auditPruned)
    .where(eq(auditPruned.locationId, locationId));
  return Number(row?.through ?? 0);
}

/** The locations that have a log: sealed events or checkpoints. */
async function locationsWithLogs(db: Database): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`select location_id as id from audit_checkpoints
        union select location_id from audit_events where seq is not null
        order by id`,
  );
  return rows.map((row) => Number(row.id));
}

export async function verifyAuditLog(
  db: Database,
  keys: Pick<KeySet, "verifying"> | null,
  issuer: string,
  options: { locationId?: number } = {},
): Promise<VerifyResult> {
  const result: VerifyResult = { events: 0, checkpoints: 0, pruned: 0, failure: null };
  const locations =
    options.locationId === undefined ? await locationsWithLogs(db) : [options.locationId];
  for (const locationId of locations) {
    const failure = await verifyLocation(db, keys, issuer, locationId, result);
    if (failure) return { ...result, failure };
  }
  return result;
}

async function verifyLocation(
  db: Database,
  keys: Pick<KeySet, "verifying"> | null,
  issuer: string,
  locationId: number,
  counts: VerifyResult,
): Promise<VerifyFailure | null> {
  const fail = (seq: number, problem: string) => ({ locationId, seq, problem });
  const tree = new MerkleFrontier();
  const checkpoints = checkpointsOf(db, locationId);
  let next = await checkpoints.next();
  /** The first seq the next checkpoint covers that the one before it did not. */
  let rangeStart = 1;

  /** Checks every checkpoint whose size the tree has reached. */
  const checkReached = async (): Promise<VerifyFailure | null> => {
    while (!next.done && next.value.size === tree.size) {
      const checkpoint = next.value;
      const root = tree.root();
      if (checkpoint.root !== root)
        return fail(
          rangeStart,
          `… ${checkpoint.size}: these events no longer have the root signed by the checkpoint of size ${checkpoint.size}`,
        );
      if (!keys) return fail(rangeStart, "no signing keys to verify the checkpoints with");
      try {
        const claims = await verifyCheckpoint(keys, issuer, checkpoint.jws);
        if (claims.loc !== locationId || claims.size !== checkpoint.size || claims.root !== root)
          return fail(rangeStart, `the checkpoint of size ${checkpoint.size} signs another tree`);
      } catch (error) {
        if (!(error instanceof InvalidCheckpointError)) throw error;
        return fail(
          rangeStart,
          `the signature of the checkpoint of size ${checkpoint.size} does not verify (${error.message})`,
        );
      }
      counts.checkpoints++;
      rangeStart = checkpoint.size + 1;
      next = await checkpoints.next();
    }
    return null;
  };

  const through = await prunedThrough(db, locationId);
  for await (const leaf of prunedLeavesOf(db, locationId, through)) {
    if (next.done) return fail(leaf.seq, "was pruned, but no checkpoint covers it");
    if (leaf.hash === null)
      return fail(leaf.seq, "was pruned, and its leaf is missing from the tree");
    tree.append(leaf.hash);
    counts.pruned++;
    const failure = await checkReached();
    if (failure) return failure;
  }

  for await (const { row, treeLeaf } of sealedEventsOf(db, locationId, through)) {
    const expected = tree.size + 1;
    const seq = Number(row.seq);
    if (seq !== expected) return fail(expected, seq > expected ? "is missing" : "appears twice");
    if (next.done) return fail(seq, "is not covered by any checkpoint");
    const hash = auditLeafHash(toAuditItem(row));
    if (treeLeaf === null) return fail(seq, "has no leaf in the tree");
    if (hash !== treeLeaf)
      return fail(seq, "does not match its leaf in the tree: its content or its place changed");
    tree.append(hash);
    counts.events++;
    const failure = await checkReached();
    if (failure) return failure;
  }
  if (!next.done) {
    const size = next.value.size;
    if (size < tree.size + 1)
      return fail(rangeStart, `the checkpoint of size ${size} does not fall on an event`);
    return fail(tree.size + 1, `is missing (the checkpoint of size ${size} covers it)`);
  }
  return null;
}
