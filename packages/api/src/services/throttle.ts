// Throttling in the database, so that limits hold across every process: a sliding log per key
// (the tables throttle_log and throttle_hits, the functions of migration 0004). A log and not a
// counter, because only a log is exact: it keeps the time of every attempt it counted, so no
// window of the limit's length, wherever it starts, ever holds more than the limit. A fixed
// window lets twice the limit through around its boundary; the sliding-window counter (this
// window's count plus the previous one's, weighted) assumes the previous window's hits were
// spread evenly and lets more than the limit through when they were not; GCRA (a token bucket)
// admits a burst on top of a steady rate, which again puts more than the limit in some window.
//
// A take is one statement: the keys' heads are locked (sorted, so multi-key takes never
// deadlock), and the place is taken before anything else of the attempt is looked at, so
// concurrent attempts cannot all pass a check that each of them would fail after the others.
import { type Database, queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { asyncCommit } from "./async-commit";

export interface Throttle {
  /** The length of the window, in seconds (the contract's: 60 and 900; tests may take less). */
  windowS: number;
  /** The most attempts a key may have counted in any window of that length. */
  limit: number;
  /**
   * For attempts that are decided after the take (a sign-in, by its password): the place stays
   * pending until `settle` says whether it counts, at most this many seconds (after which it
   * counts: its process may be gone). Omitted: every place counts at once.
   */
  holdS?: number;
}

export type Taken =
  | {
      admitted: true;
      /** The place taken (the attempt's time in the log), for `settle`. */
      place: string;
    }
  | {
      admitted: false;
      /**
       * The keys are full, but only because of pending places (attempts still being decided):
       * one may be given back in a moment, so the caller may try again shortly. Never without
       * `holdS`.
       */
      busy: boolean;
      /** Seconds until the counted hit that refused this attempt leaves the window (≥ 1). */
      retryAfterS: number;
    };

const keyArray = (keys: string[]): SQL =>
  sql`array[${sql.join(
    keys.map((k) => sql`${k}`),
    sql`, `,
  )}]::text[]`;

/**
 * The row of a take, besides the `alongside` row: throttle_take's answer (migration 0004, not a
 * table of the schema; checked against the function in row-types.test.ts).
 */
export interface TakeRow {
  throttle_outcome: "admitted" | "refused" | "busy";
  throttle_place: string;
  throttle_retry_after: number;
  found: boolean;
}

/**
 * Takes one place under every key (all or nothing): admitted when each key has fewer than
 * `limit` places taken in the last `windowS` seconds, else refused with an honest Retry-After
 * (or `busy`, when pending places fill a key). A refused attempt takes no place, so a caller who
 * keeps trying is admitted again as soon as the oldest counted attempt has left the window.
 *
 * Every attempt of one actor (or account) locks the same row, and the lock is held until the
 * commit is flushed to disk: with a synchronous commit, one actor's attempts queue behind one WAL
 * flush each (a few hundred per second on an ordinary disk). This statement's own commit is
 * therefore asynchronous (`asyncCommit`): what it writes is visible to every process at once, as
 * with any commit; only a crash of PostgreSQL itself could lose the last fraction of a second of
 * places, which lets that many attempts more through once. Callers run it outside any
 * transaction.
 *
 * `alongside`, a read of at most one row, rides in the same statement (one round trip instead of
 * two); its row comes back as `row`, null when it found none. It is read whether or not the take
 * is admitted; callers use it only when it is. Its columns must not be named `throttle_admitted`,
 * `throttle_place`, `throttle_retry_after` or `found`.
 */
export async function take<Row extends object = Record<string, never>>(
  db: Database,
  keys: string[],
  throttle: Throttle,
  alongside: SQL = sql`select`,
): Promise<Taken & { row: Row | null }> {
  const [result] = await queryRows<TakeRow & Row>(
    db,
    sql`select t.outcome as throttle_outcome, t.hit_at as throttle_place,
          t.retry_after_s as throttle_retry_after, a.*
        from throttle_take(${keyArray(keys)}, ${throttle.windowS}::float8, ${throttle.limit}::int,
            ${throttle.holdS ?? 0}::float8) as t,
          ${asyncCommit} as commit_mode
          left join lateral (select true as found, q.* from (${alongside}) as q limit 1) as a on true`,
  );
  const {
    throttle_outcome: outcome,
    throttle_place: place,
    throttle_retry_after: retryAfterS,
    found,
    ...row
  } = result!;
  const alongsideRow = found ? (row as unknown as Row) : null;
  return outcome === "admitted"
    ? { admitted: true, place, row: alongsideRow }
    : { admitted: false, busy: outcome === "busy", retryAfterS, row: alongsideRow };
}

/**
 * Decides a pending place (`holdS`) under every key: `counts`, it counts from now on (a wrong
 * password); else it is given back, as if it had never been taken (a correct one). Asynchronous
 * commit as for `take`: a decision lost in a crash leaves the place pending, and so counted once
 * its hold has passed, against the caller.
 */
export async function settle(
  db: Database,
  keys: string[],
  place: string,
  counts: boolean,
): Promise<void> {
  await queryRows(
    db,
    sql`select throttle_settle(${keyArray(keys)}, ${place}::timestamptz, ${counts}) from ${asyncCommit} as commit_mode`,
  );
}

/** Keys whose every hit has left its window mean nothing; drop them now and then. */
export async function pruneThrottle(db: Database): Promise<void> {
  await queryRows(
    db,
    sql`with gone as (delete from throttle_log where expires_at < now() returning key)
        delete from throttle_hits where key in (select key from gone)`,
  );
}
