// Audit events past AUDIT_RETENTION_DAYS (never pruned while it is unset). Only what keeps every
// location's Merkle log provable goes: a prefix of its sealed events (seq 1 … n, each older than
// the window, all covered by a signed checkpoint), never an unsealed event and never one past a
// gap. Their leaf hashes stay in audit_nodes, so every checkpoint still verifies and every
// inclusion proof can still be built; audit_pruned records how far each location was pruned, so
// the verifier tells a pruned event from a deleted one. Each batch deletes a range of seq and
// moves the record in one statement.
import { type Database, queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { logger } from "../../observability/logger";

export interface AuditPruneResult {
  pruned: number;
  /** The round ended (its budget, or the process stopping) with old events left. */
  more: boolean;
}

interface LocationLog {
  location_id: number;
  /** The newest checkpoint's size (null before the first). */
  covered: number | null;
  /** Pruned through this seq already (0: never). */
  done: number;
}

interface Candidate {
  seq: number;
  old: boolean;
}

export async function pruneAuditEvents(
  db: Database,
  days: number,
  { batch, over }: { batch: number; over: () => boolean },
): Promise<AuditPruneResult> {
  const cutoff = sql`(now() - make_interval(days => ${days}))`;
  const logs = await queryRows<LocationLog>(
    db,
    sql`select l.id as location_id,
          (select max(c.size) from audit_checkpoints c where c.location_id = l.id) as covered,
          coalesce((select p.through_seq from audit_pruned p where p.location_id = l.id), 0) as done
        from locations l order by l.id`,
  );
  let pruned = 0;
  for (const log of logs) {
    const covered = Number(log.covered ?? 0);
    let done = Number(log.done);
    while (done < covered) {
      if (over()) return { pruned, more: true };
      const candidates = await queryRows<Candidate>(
        db,
        sql`select seq, at < ${cutoff} as old from audit_events
            where location_id = ${log.location_id} and seq > ${done} and seq <= ${covered}
            order by seq limit ${batch}`,
      );
      let through = done;
      for (const candidate of candidates) {
        if (Number(candidate.seq) !== through + 1 || !candidate.old) break;
        through += 1;
      }
      if (through === done) {
        // An event missing where the prefix should go on is not pruned over: the verifier must
        // still be able to report it.
        const next = candidates[0];
        if (next && Number(next.seq) !== done + 1)
          logger.warn(
            { locationId: log.location_id, seq: done + 1 },
            "audit pruning stopped: an event that should be in the log is missing (run pnpm audit:verify)",
          );
        break;
      }
      const [row] = await queryRows<{ n: number }>(
        db,
        sql`with gone as (
              delete from audit_events
              where location_id = ${log.location_id} and seq > ${done} and seq <= ${through}
              returning 1
            ), marked as (
              insert into audit_pruned (location_id, through_seq) values (${log.location_id}, ${through})
              on conflict (location_id) do update set through_seq = excluded.through_seq, pruned_at = now()
                where audit_pruned.through_seq = ${done}
            )
            select count(*)::int as n from gone`,
      );
      pruned += row?.n ?? 0;
      done = through;
      if (candidates.length < batch || through < Number(candidates.at(-1)!.seq)) break;
    }
  }
  return { pruned, more: false };
}
