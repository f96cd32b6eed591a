// One retention round: every purge step (steps.ts) in turn, in batches, then the audit events
// past AUDIT_RETENTION_DAYS (audit-prune.ts). Each batch is one short statement of its own: it
// locks the rows it takes with FOR UPDATE SKIP LOCKED (a row a request holds is left for the next
// round), deletes them by ctid (a TID scan, no join back to the table), and commits. Nothing is
// rewritten or vacuumed here: autovacuum reclaims the space as for any other delete.
import { type Database, queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { pruneAuditEvents } from "./audit-prune";
import { PURGE_STEPS, type PurgeStep, type RetentionCutoffs } from "./steps";

/** Rows one batch deletes at most. */
export const PURGE_BATCH = 1000;
/** A round starts no batch after this long; what is left waits for the next round. */
export const ROUND_BUDGET_MS = 20_000;

export interface RetentionSettings {
  retentionDays: number;
  auditRetentionDays: number | null;
}

export interface RoundOptions {
  batch?: number;
  budgetMs?: number;
  steps?: readonly PurgeStep[];
  /** Asked before each batch: true ends the round there (the process is stopping). */
  stopping?: () => boolean;
}

export interface RoundResult {
  /** Rows deleted, by table (tables with none left out). */
  purged: Record<string, number>;
  /** The budget ran out with rows left: the next round should come soon. */
  more: boolean;
}

const daysAgo = (days: number) => sql`(now() - make_interval(days => ${days}))`;

export function cutoffsOf(settings: RetentionSettings): RetentionCutoffs {
  const { retentionDays, auditRetentionDays } = settings;
  return {
    records: daysAgo(retentionDays),
    history:
      auditRetentionDays === null ? null : daysAgo(Math.max(retentionDays, auditRetentionDays)),
  };
}

/** The statement of one batch: deletes at most `batch` rows of `table` that `where` allows. */
export function purgeStatement(table: string, where: SQL, batch: number): SQL {
  const name = sql.identifier(table);
  return sql`with gone as (
      delete from ${name} where ctid = any(array(
        select ctid from ${name} where ${where} limit ${batch} for update skip locked))
      returning 1)
    select count(*)::int as n from gone`;
}

async function purgeBatch(db: Database, table: string, where: SQL, batch: number) {
  const [row] = await queryRows<{ n: number }>(db, purgeStatement(table, where, batch));
  return row?.n ?? 0;
}

export async function runRetentionRound(
  db: Database,
  settings: RetentionSettings,
  options: RoundOptions = {},
): Promise<RoundResult> {
  const batch = options.batch ?? PURGE_BATCH;
  const deadline = Date.now() + (options.budgetMs ?? ROUND_BUDGET_MS);
  const over = () => Date.now() >= deadline || (options.stopping?.() ?? false);
  const cutoffs = cutoffsOf(settings);
  const purged: Record<string, number> = {};
  const add = (table: string, n: number) => {
    if (n > 0) purged[table] = (purged[table] ?? 0) + n;
  };
  for (const step of options.steps ?? PURGE_STEPS) {
    const where = step.purgeable(cutoffs);
    if (!where) continue;
    for (;;) {
      if (over()) return { purged, more: true };
      const n = await purgeBatch(db, step.table, where, batch);
      add(step.table, n);
      if (n < batch) break;
    }
  }
  if (settings.auditRetentionDays !== null) {
    const audit = await pruneAuditEvents(db, settings.auditRetentionDays, { batch, over });
    add("audit_events", audit.pruned);
    if (audit.more) return { purged, more: true };
  }
  return { purged, more: false };
}
