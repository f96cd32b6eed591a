// What admins read of their location's Merkle log: its signed checkpoints, newest first, and the
// inclusion proof of one event in a tree of any size up to the newest checkpoint's.
import { auditCheckpoints, type Database } from "@cowork/db";
import {
  type AuditCheckpointPageOutput,
  type AuditCheckpointsInput,
  type AuditProofInput,
  type AuditProofOutput,
} from "@cowork/validators";
import { and, desc, eq, lt } from "drizzle-orm";
import { DomainError } from "../../errors";
import { inclusionProof } from "./merkle";
import { logSize, readNodes } from "./seal";

export async function listCheckpoints(
  db: Database,
  locationId: number,
  input: AuditCheckpointsInput,
): Promise<AuditCheckpointPageOutput> {
  const rows = await db
    .select({
      size: auditCheckpoints.size,
      root: auditCheckpoints.root,
      signedAt: auditCheckpoints.signedAt,
      jws: auditCheckpoints.jws,
    })
    .from(auditCheckpoints)
    .where(
      and(
        eq(auditCheckpoints.locationId, locationId),
        input.cursor ? lt(auditCheckpoints.size, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(auditCheckpoints.size))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((row) => ({
      size: Number(row.size),
      root: row.root,
      signedAt: row.signedAt.toISOString(),
      jws: row.jws,
    })),
    nextCursor: rows.length > input.limit ? Number(page.at(-1)!.size) : null,
  };
}

/** The newest checkpoint of a location, or null before the first. */
export async function newestCheckpoint(db: Database, locationId: number) {
  const [row] = await db
    .select({ size: auditCheckpoints.size, signedAt: auditCheckpoints.signedAt })
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.locationId, locationId))
    .orderBy(desc(auditCheckpoints.size))
    .limit(1);
  return row ? { size: Number(row.size), signedAt: row.signedAt.toISOString() } : null;
}

export async function proveInclusion(
  db: Database,
  locationId: number,
  input: AuditProofInput,
): Promise<AuditProofOutput> {
  const newest = await logSize(db, locationId);
  if (input.size > newest) {
    throw new DomainError(
      "invalid_request",
      newest === 0
        ? "No checkpoint has been signed yet."
        : `size must be at most ${newest}, the newest checkpoint's.`,
    );
  }
  const proof = inclusionProof(input.seq - 1, input.size);
  const { leafHash, path } = proof.build(await readNodes(db, locationId, proof.needed));
  return { seq: input.seq, size: input.size, leafHash, path };
}
