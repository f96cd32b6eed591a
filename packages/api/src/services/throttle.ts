// Fixed-window counters in the database, so limits hold across every process. Each hit is one
// atomic upsert that returns the new count: no check-then-act race.
import { type Database, queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { asyncCommit } from "./async-commit";

export interface ThrottleResult {
  count: number;
  /** Seconds until the window moves on. */
  retryAfterS: number;
}

/**
 * Counts one attempt against each key and returns the highest count among them.
 *
 * Every attempt of one actor (or account) updates the same row, whose lock is held until the
 * commit is flushed to disk: with a synchronous commit, one actor's attempts queue behind one
 * WAL flush each (a few hundred per second on an ordinary disk). This statement's own commit is
 * therefore asynchronous (`asyncCommit`): the count is visible to every process at once, as
 * before; only a crash of PostgreSQL itself could lose the last fraction of a second of
 * increments. Callers run it outside any transaction.
 *
 * `alongside`, a read of at most one row, rides in the same statement (one round trip instead of
 * two); its row comes back as `row`, null when it found none. Its columns must not be named
 * `throttle_count` or `throttle_retry_after`.
 */
export async function hit<Row extends object = Record<string, never>>(
  db: Database,
  keys: string[],
  windowS: number,
  alongside: SQL = sql`select`,
): Promise<ThrottleResult & { row: Row | null }> {
  const [result] = await queryRows<
    { throttle_count: number; throttle_retry_after: number; found: boolean } & Row
  >(
    db,
    sql`with w as (select to_timestamp(floor(extract(epoch from now()) / ${windowS}) * ${windowS}) as start),
        h as (
          insert into throttle_counters (key, window_start, count)
          select k, w.start, 1 from unnest(${sql`array[${sql.join(
            keys.map((k) => sql`${k}`),
            sql`, `,
          )}]::text[]`}) as k, w, ${asyncCommit} as commit_mode
          on conflict (key, window_start) do update set count = throttle_counters.count + 1
          returning count, ceil(extract(epoch from (window_start + make_interval(secs => ${windowS}) - now())))::int as retry_after
        )
        select (select max(count) from h)::int as throttle_count,
          greatest(1, (select max(retry_after) from h))::int as throttle_retry_after, a.*
        from (select 1) as one left join lateral (select true as found, q.* from (${alongside}) as q limit 1) as a on true`,
  );
  const { throttle_count: count, throttle_retry_after: retryAfterS, found, ...row } = result!;
  return { count, retryAfterS, row: found ? (row as unknown as Row) : null };
}

/** The current counts of the keys (the highest), without counting anything. */
export async function peek(db: Database, keys: string[], windowS: number): Promise<ThrottleResult> {
  const rows = await queryRows<{ count: number; retry_after: number }>(
    db,
    sql`select count, ceil(extract(epoch from (window_start + make_interval(secs => ${windowS}) - now())))::int as retry_after
        from throttle_counters
        where key in (${sql.join(
          keys.map((k) => sql`${k}`),
          sql`, `,
        )})
          and window_start = to_timestamp(floor(extract(epoch from now()) / ${windowS}) * ${windowS})`,
  );
  return {
    count: Math.max(0, ...rows.map((row) => row.count)),
    retryAfterS: Math.max(1, ...rows.map((row) => row.retry_after)),
  };
}

/** Old windows are useless; drop them now and then so the table stays small. */
export async function pruneThrottle(db: Database): Promise<void> {
  await queryRows(
    db,
    sql`delete from throttle_counters where window_start < now() - interval '1 day'`,
  );
}
