// The retention job of a server process: every few minutes a round of purging (purge.ts). Every
// process runs one; of those sharing a PostgreSQL database, one at a time runs a round (an
// advisory lock, held on a connection of its own for the round, which its batches use too; a
// process that finds it held skips its turn). It logs one line per round that purged anything,
// with the counts per table, and counts into the metrics.
import { type Database, withAdvisoryLock } from "@cowork/db";
import { type Logger, logger as serviceLogger, serializeError } from "../../observability/logger";
import { metrics } from "../../observability/metrics";
import {
  type RetentionSettings,
  type RoundOptions,
  type RoundResult,
  runRetentionRound,
} from "./purge";

/** The lock space of the retention job's advisory lock (the sealers' is 727276). */
export const RETENTION_LOCK = 727277;
/** How often a round runs. */
export const RETENTION_INTERVAL_MS = 10 * 60_000;
/** The first round, some time after start (start-up and the first requests come first). */
export const RETENTION_FIRST_ROUND_MS = 60_000;
/** After a round cut short by its budget, the next comes this soon. */
export const RETENTION_CATCH_UP_MS = 1000;

export interface RetentionDeps {
  db: Database;
  config: RetentionSettings;
}

export interface RetentionJobOptions extends RoundOptions {
  intervalMs?: number;
  firstRoundMs?: number;
  logger?: Pick<Logger, "info" | "warn">;
}

export interface RetentionJob {
  /** Runs a round now (after the one under way, if any); null when another process holds it. */
  runNow(): Promise<RoundResult | null>;
  /** Stops the job; resolves once a round under way has finished (its batches commit each). */
  stop(): Promise<void>;
}

/** "12 sessions, 3 mail_outbox": the counts of a round, largest first. */
export function describePurged(purged: Record<string, number>): string {
  return Object.entries(purged)
    .sort(([, a], [, b]) => b - a)
    .map(([table, n]) => `${n} ${table}`)
    .join(", ");
}

/** One round under the job's lock: null when another process is running one. */
export async function retentionRound(
  deps: RetentionDeps,
  options: RoundOptions = {},
): Promise<RoundResult | null> {
  return withAdvisoryLock(deps.db, RETENTION_LOCK, 0, (db) =>
    runRetentionRound(db, deps.config, options),
  );
}

export function startRetentionJob(
  deps: RetentionDeps,
  options: RetentionJobOptions = {},
): RetentionJob {
  const log = options.logger ?? serviceLogger.child({ component: "retention" });
  const intervalMs = options.intervalMs ?? RETENTION_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<RoundResult | null> = Promise.resolve(null);

  const run = (): Promise<RoundResult | null> => {
    round = round
      .catch(() => null)
      .then(() => retentionRound(deps, { ...options, stopping: () => stopped }))
      .then((result) => {
        if (!result) {
          metrics.retentionRound("skipped");
          return null;
        }
        metrics.retentionRound("ran");
        for (const [table, n] of Object.entries(result.purged)) metrics.purged(table, n);
        if (Object.keys(result.purged).length > 0)
          log.info(
            { purged: result.purged, more: result.more },
            `retention: purged ${describePurged(result.purged)}`,
          );
        return result;
      })
      .catch((error: unknown) => {
        metrics.retentionRound("failed");
        throw error;
      });
    return round;
  };

  const tick = () => {
    void run()
      .catch((error: unknown) => {
        // A database outage or a statement timeout: what was not purged waits for a later round.
        log.warn({ err: serializeError(error) }, "retention round failed; will retry");
        return null;
      })
      .then((result) => {
        if (!stopped)
          timer = setTimeout(tick, result?.more ? RETENTION_CATCH_UP_MS : intervalMs).unref();
      });
  };
  timer = setTimeout(tick, options.firstRoundMs ?? RETENTION_FIRST_ROUND_MS).unref();

  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round.catch(() => undefined);
    },
  };
}
