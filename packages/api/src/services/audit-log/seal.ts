// One sealing round of one location's audit log: number the events no checkpoint covers yet
// (seq = size + 1, size + 2 …), store their leaves and the subtrees they complete, and sign a
// checkpoint of the grown tree — all in one transaction, so seq, leafHash and the checkpoint
// that covers them appear together. Event writes never wait for this: they insert with seq null
// and take no lock; of the sealers of all processes, the one holding the location's advisory
// lock seals it this round and the others skip it (pg_try_advisory_xact_lock does not wait).
import { signCheckpoint, type TokenSigner } from "@cowork/auth";
import { auditEvents, auditNodes, type Database, queryRows } from "@cowork/db";
import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import { auditLeafHash, selectAuditItems, toAuditItem } from "../audit-items";
import { frontierRefs, MerkleFrontier, type NodeRef, type StoredNode } from "./merkle";

/** The lock space of the sealers' advisory locks (the second key is the location's id). */
export const SEAL_LOCK = 727276;
/** Events sealed in one round at most: a backlog is sealed in several rounds, each short. */
export const SEAL_BATCH = 1000;

export interface SealDeps {
  db: Database;
  signer: TokenSigner;
}

export interface SealedCheckpoint {
  locationId: number;
  size: number;
  root: string;
}

/** Reads stored nodes of a location by reference (all of them, or an error). */
export async function readNodes(
  db: Pick<Database, "select">,
  locationId: number,
  refs: readonly NodeRef[],
): Promise<StoredNode[]> {
  if (refs.length === 0) return [];
  const rows = await db
    .select({ level: auditNodes.level, idx: auditNodes.idx, hash: auditNodes.hash })
    .from(auditNodes)
    .where(
      and(
        eq(auditNodes.locationId, locationId),
        or(...refs.map((ref) => and(eq(auditNodes.level, ref.level), eq(auditNodes.idx, ref.idx)))),
      ),
    );
  const found = new Map(rows.map((row) => [`${row.level}:${Number(row.idx)}`, row.hash]));
  return refs.map((ref) => {
    const hash = found.get(`${ref.level}:${ref.idx}`);
    if (hash === undefined)
      throw new Error(`location ${locationId}: node ${ref.level}:${ref.idx} is missing`);
    return { ...ref, hash };
  });
}

/** The size of a location's log: that of its newest checkpoint (0 before the first). */
export async function logSize(db: Database, locationId: number): Promise<number> {
  const [row] = await queryRows<{ size: number | null }>(
    db,
    sql`select max(size) as size from audit_checkpoints where location_id = ${locationId}`,
  );
  return Number(row?.size ?? 0);
}

/**
 * Seals one round of a location: returns the new checkpoint, or null when there was nothing to
 * seal or another sealer holds the location this round.
 */
export async function sealLocation(
  deps: SealDeps,
  locationId: number,
  options: { batch?: number; now?: () => Date } = {},
): Promise<SealedCheckpoint | null> {
  const batch = options.batch ?? SEAL_BATCH;
  return deps.db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    const [lock] = await queryRows<{ locked: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${SEAL_LOCK}, ${locationId}) as locked`,
    );
    if (!lock?.locked) return null;
    const rows = await selectAuditItems(tx)
      .where(and(eq(auditEvents.locationId, locationId), isNull(auditEvents.seq)))
      .orderBy(asc(auditEvents.id))
      .limit(batch);
    if (rows.length === 0) return null;

    const size = await logSize(tx, locationId);
    const tree = new MerkleFrontier(await readNodes(tx, locationId, frontierRefs(size)));
    const sealed: {
      id: number;
      seq: number;
      leaf_hash: string;
      actor_name: string | null;
      target_name: string | null;
    }[] = [];
    const nodes: StoredNode[] = [];
    for (const row of rows) {
      const item = toAuditItem(row);
      const seq = size + sealed.length + 1;
      const hash = auditLeafHash({ ...item, seq, leafHash: null });
      sealed.push({
        id: item.id,
        seq,
        leaf_hash: hash,
        actor_name: item.actor?.fullName ?? null,
        target_name: item.target?.fullName ?? null,
      });
      nodes.push(...tree.append(hash));
    }
    const newSize = size + sealed.length;
    const root = tree.root();

    await tx.execute(sql`
      update audit_events e
      set seq = v.seq, leaf_hash = v.leaf_hash, actor_name = v.actor_name, target_name = v.target_name
      from jsonb_to_recordset(${JSON.stringify(sealed)}::jsonb)
        as v(id bigint, seq bigint, leaf_hash text, actor_name text, target_name text)
      where e.id = v.id and e.seq is null`);
    await tx.execute(sql`
      insert into audit_nodes (location_id, level, idx, hash)
      select ${locationId}, v.level, v.idx, v.hash
      from jsonb_to_recordset(${JSON.stringify(nodes)}::jsonb) as v(level smallint, idx bigint, hash text)`);
    const iat = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
    const jws = signCheckpoint(deps.signer, { loc: locationId, size: newSize, root, iat });
    await tx.execute(sql`
      insert into audit_checkpoints (location_id, size, root, signed_at, jws)
      values (${locationId}, ${newSize}, ${root}, ${new Date(iat * 1000).toISOString()}, ${jws})`);
    return { locationId, size: newSize, root };
  });
}

/** The locations with events no checkpoint covers yet. */
export async function locationsToSeal(db: Database): Promise<number[]> {
  const rows = await queryRows<{ location_id: number }>(
    db,
    sql`select distinct location_id from audit_events where seq is null and location_id is not null`,
  );
  return rows.map((row) => Number(row.location_id));
}

/**
 * Seals every location until nothing is left that this sealer may seal; returns the
 * checkpoints it signed.
 */
export async function sealAll(
  deps: SealDeps,
  options: { batch?: number; now?: () => Date } = {},
): Promise<SealedCheckpoint[]> {
  const signed: SealedCheckpoint[] = [];
  for (const locationId of await locationsToSeal(deps.db)) {
    for (;;) {
      const checkpoint = await sealLocation(deps, locationId, options);
      if (!checkpoint) break;
      signed.push(checkpoint);
    }
  }
  return signed;
}
