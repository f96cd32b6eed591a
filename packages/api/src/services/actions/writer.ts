// The action writer: records of what impersonated sessions called (CONTRACT §9) wait in this
// process and are written in batches, one multi-row INSERT each, so that recording a call never
// adds a round trip to the call itself. One writer per process, made with its ServiceDeps.
import { queryRows, type Database } from "@cowork/db";
import { sql } from "drizzle-orm";
import { logger as processLogger, type Logger } from "../../observability/logger";
import { metrics } from "../../observability/metrics";

export interface ActionRecord {
  sessionId: string;
  locationId: number;
  at: Date;
  /** The tRPC path. */
  procedure: string;
  kind: "query" | "mutation";
  outcome: "success" | "refused" | "error";
}

/** When to run something later; returns what cancels it. Injected so tests decide when time passes. */
export type Schedule = (run: () => void, ms: number) => () => void;

/** The process's timers; unref'd: a pending flush never keeps a process alive (stop() flushes). */
export const realSchedule: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface ActionWriterOptions {
  /** The longest a record waits before its batch is written. */
  intervalMs?: number;
  /** Rows in one INSERT; a full batch is written at once, without waiting for the interval. */
  batchRows?: number;
  /**
   * Records that may wait in memory (while the database is slow or down). Beyond it, new records
   * are dropped, counted and logged: memory stays bounded whatever the outage.
   */
  maxBufferedRows?: number;
  /** Failed writes of one batch before it is given up (logged and counted). */
  maxAttempts?: number;
  schedule?: Schedule;
  logger?: Logger;
}

export const ACTION_WRITER_DEFAULTS = {
  intervalMs: 200,
  batchRows: 500,
  maxBufferedRows: 20_000,
  maxAttempts: 5,
} as const;

/** The row of the batch INSERT (checked against the schema in row-types.test.ts). */
export interface ActionInsertedRow {
  id: number;
}

export class ActionWriter {
  private readonly intervalMs: number;
  private readonly batchRows: number;
  private readonly maxBufferedRows: number;
  private readonly maxAttempts: number;
  private readonly schedule: Schedule;
  private readonly log: Logger;

  /** Oldest first; the head batch is the one being written. */
  private pending: ActionRecord[] = [];
  /** Failed writes of the head batch so far. */
  private failures = 0;
  private cancelTimer: (() => void) | null = null;
  /** Flushes run one after another, each draining what is pending when it starts. */
  private chain: Promise<void> = Promise.resolve();
  /** New records dropped since the last line that said so (one line per flush, not per record). */
  private droppedUnlogged = 0;
  private stopped = false;

  constructor(
    private readonly db: Database,
    options: ActionWriterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? ACTION_WRITER_DEFAULTS.intervalMs;
    this.batchRows = options.batchRows ?? ACTION_WRITER_DEFAULTS.batchRows;
    this.maxBufferedRows = options.maxBufferedRows ?? ACTION_WRITER_DEFAULTS.maxBufferedRows;
    this.maxAttempts = options.maxAttempts ?? ACTION_WRITER_DEFAULTS.maxAttempts;
    this.schedule = options.schedule ?? realSchedule;
    this.log = options.logger ?? processLogger;
  }

  /** Records waiting to be written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Takes a record; never waits and never throws (it runs on the path of every such call). */
  record(action: ActionRecord): void {
    if (this.pending.length >= this.maxBufferedRows) {
      this.droppedUnlogged++;
      metrics.actionsDropped("buffer_full", 1);
      this.later(this.intervalMs);
      return;
    }
    this.pending.push(action);
    if (this.stopped || this.pending.length >= this.batchRows) void this.flush();
    else this.later(this.intervalMs);
  }

  /**
   * Writes everything pending now (readers call it before they read, tests to be deterministic).
   * Never rejects: a batch that fails stays at the head and is tried again later, within its
   * attempts. While a failed batch waits out its backoff, a flush does not cut the wait short
   * (readers would spend the batch's attempts in a burst); it resolves with the records held.
   */
  flush(): Promise<void> {
    if (this.failures > 0 && this.cancelTimer && !this.stopped) return this.chain;
    return this.run();
  }

  /** Resolves when every flush started so far has ended (a timer's included). */
  idle(): Promise<void> {
    return this.chain;
  }

  /**
   * On shutdown: no more timers, and what is pending is written now, failed batches retried at
   * once within their attempts (then given up), so nothing waits in memory when it resolves.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.run();
  }

  /** One multi-row INSERT. Public so that tests can count the statements (a spy keeps the write). */
  async insertBatch(batch: readonly ActionRecord[]): Promise<number> {
    // One JSON parameter, so that the statement's text is the same whatever the batch's size
    // (PostgreSQL keeps it prepared). Rows of a session that no longer exists are left out
    // rather than failing the whole batch on the foreign key.
    const rows = batch.map((action, n) => ({
      n,
      session_id: action.sessionId,
      location_id: action.locationId,
      at: action.at.toISOString(),
      procedure: action.procedure,
      kind: action.kind,
      outcome: action.outcome,
    }));
    const inserted = await queryRows<ActionInsertedRow>(
      this.db,
      sql`insert into impersonation_actions (session_id, location_id, at, procedure, kind, outcome)
          select v.session_id, v.location_id, v.at, v.procedure, v.kind, v.outcome
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as v(n int, session_id uuid, location_id int, at timestamptz, procedure text, kind text, outcome text)
          join sessions s on s.id = v.session_id
          order by v.n
          returning id`,
    );
    return inserted.length;
  }

  private run(): Promise<void> {
    this.cancel();
    const run = this.chain.then(() => this.drain());
    this.chain = run;
    return run;
  }

  private later(ms: number): void {
    if (this.cancelTimer || this.stopped) return;
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = null;
      void this.run();
    }, ms);
  }

  private cancel(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private async drain(): Promise<void> {
    if (this.droppedUnlogged > 0) {
      this.log.error(
        { dropped: this.droppedUnlogged, reason: "buffer_full" },
        "impersonation action records dropped: too many waiting to be written",
      );
      this.droppedUnlogged = 0;
    }
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchRows);
      try {
        await this.insertBatch(batch);
      } catch (error) {
        this.failures++;
        if (this.failures < this.maxAttempts) {
          this.log.warn(
            { err: error, records: batch.length, attempt: this.failures },
            "impersonation action records not written yet; trying again",
          );
          if (this.stopped) continue;
          // Backing off: an outage is not hammered, and the batch keeps its place at the head.
          this.later(this.intervalMs * 2 ** this.failures);
          return;
        }
        this.log.error(
          { err: error, dropped: batch.length, reason: "database", attempts: this.failures },
          "impersonation action records dropped: the database refused them every time",
        );
        metrics.actionsDropped("database", batch.length);
      }
      // Written, or given up: either way the batch leaves the head (records taken meanwhile
      // were appended behind it).
      this.pending.splice(0, batch.length);
      this.failures = 0;
    }
  }
}
