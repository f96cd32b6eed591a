// The action writer: records wait in the process and leave in batches, one INSERT each, on the
// interval (time injected here) or at once when a batch is full; stop() writes what is left; a
// database that is down costs no crash, a bounded number of attempts with backoff, then the batch
// is given up with an error line and a metric; memory is capped.
import { Writable } from "node:stream";
import { createPostgres, queryRows } from "@cowork/db";
import { createTestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { createLogger } from "../../observability/logger";
import { renderMetrics } from "../../observability/metrics";
import { createTestApi, type TestApi } from "../../testing";
import { type ActionRecord, ActionWriter, type Schedule } from "./writer";

let api: TestApi;
let sessionId: string;

beforeAll(async () => {
  api = await createTestApi();
  const otto = await api.signIn("otto.operator@demo.test");
  const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 42 });
  const session = (await (await api.caller(null)).impersonation.exchange({ token })).accessToken!;
  sessionId = decodeJwt(session).sid as string;
});
afterAll(() => api.close());

/** Time as the test says: timers run only when `fire` is called. */
function manualTime() {
  const timers: { run: () => void; ms: number; live: boolean }[] = [];
  const schedule: Schedule = (run, ms) => {
    const timer = { run, ms, live: true };
    timers.push(timer);
    return () => {
      timer.live = false;
    };
  };
  const live = () => timers.filter((timer) => timer.live);
  return {
    schedule,
    /** The delays of the timers waiting now. */
    waiting: () => live().map((timer) => timer.ms),
    /** Runs the timers waiting now. */
    fire() {
      for (const timer of live()) {
        timer.live = false;
        timer.run();
      }
    },
  };
}

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: { level: string; msg: string; dropped?: number; reason?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: createLogger(destination, "debug"), lines };
}

const action = (n: number, session = sessionId): ActionRecord => ({
  sessionId: session,
  locationId: 1,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)),
  procedure: `test.call${n}`,
  kind: n % 2 ? "mutation" : "query",
  outcome: "success",
});

const storedProcedures = async () =>
  (
    await queryRows<{ procedure: string }>(
      api.database.db,
      sql`select procedure from impersonation_actions
          where session_id = ${sessionId} and procedure like 'test.%' order by at, id`,
    )
  ).map((row) => row.procedure);

const clearStored = () =>
  queryRows(api.database.db, sql`delete from impersonation_actions where procedure like 'test.%'`);

const dropped = async (reason: string) => {
  const match = new RegExp(
    `^cowork_impersonation_actions_dropped_total\\{reason="${reason}"\\} (\\S+)$`,
    "m",
  ).exec(await renderMetrics(null));
  return match ? Number(match[1]) : 0;
};

describe("the action writer", () => {
  it("waits for its interval, then writes everything pending in one INSERT, in order", async () => {
    await clearStored();
    const time = manualTime();
    const writer = new ActionWriter(api.database.db, { schedule: time.schedule, intervalMs: 150 });
    const insertBatch = vi.spyOn(writer, "insertBatch");
    for (let n = 0; n < 30; n++) writer.record(action(n));
    // One timer for all of them, and nothing written yet.
    expect(time.waiting()).toEqual([150]);
    expect(insertBatch).not.toHaveBeenCalled();
    expect(await storedProcedures()).toEqual([]);
    time.fire();
    await writer.idle();
    expect(insertBatch).toHaveBeenCalledTimes(1);
    expect(await storedProcedures()).toEqual(Array.from({ length: 30 }, (_, n) => `test.call${n}`));
    expect(writer.pendingCount).toBe(0);
    expect(time.waiting()).toEqual([]);
  });

  it("writes a full batch at once, never more rows than a batch in one statement", async () => {
    await clearStored();
    const time = manualTime();
    const writer = new ActionWriter(api.database.db, { schedule: time.schedule, batchRows: 10 });
    const insertBatch = vi.spyOn(writer, "insertBatch");
    for (let n = 0; n < 25; n++) writer.record(action(n));
    await writer.idle();
    expect(insertBatch.mock.calls.map(([batch]) => batch.length)).toEqual([10, 10, 5]);
    expect(await storedProcedures()).toHaveLength(25);
  });

  it("writes what is pending when stopped, and leaves no timer behind", async () => {
    await clearStored();
    const time = manualTime();
    const writer = new ActionWriter(api.database.db, { schedule: time.schedule });
    for (let n = 0; n < 3; n++) writer.record(action(n));
    expect(time.waiting()).toHaveLength(1);
    await writer.stop();
    expect(time.waiting()).toEqual([]);
    expect(await storedProcedures()).toEqual(["test.call0", "test.call1", "test.call2"]);
  });

  it("leaves out the records of a session that no longer exists, not the whole batch", async () => {
    await clearStored();
    const writer = new ActionWriter(api.database.db, { schedule: manualTime().schedule });
    writer.record(action(1));
    writer.record(action(2, "00000000-0000-4000-8000-000000000000"));
    writer.record(action(3));
    await writer.flush();
    expect(await storedProcedures()).toEqual(["test.call1", "test.call3"]);
  });

  it("keeps memory bounded: beyond its cap, new records are dropped, counted and logged", async () => {
    await clearStored();
    const { logger, lines } = capturedLogger();
    const before = await dropped("buffer_full");
    const writer = new ActionWriter(api.database.db, {
      schedule: manualTime().schedule,
      maxBufferedRows: 5,
      logger,
    });
    for (let n = 0; n < 8; n++) writer.record(action(n));
    expect(writer.pendingCount).toBe(5);
    expect(await dropped("buffer_full")).toBe(before + 3);
    await writer.flush();
    expect(await storedProcedures()).toHaveLength(5);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "error", dropped: 3, reason: "buffer_full" }),
    );
  });
});

describe("the action writer with the database down", () => {
  const outages = {
    "PGlite closed": async () => {
      const database = await createTestDatabase("pglite");
      await database.close();
      return { db: database.db, close: () => Promise.resolve() };
    },
    // Nothing listens on port 1: every connection is refused at once.
    "PostgreSQL unreachable": () =>
      Promise.resolve(createPostgres("postgres://postgres@127.0.0.1:1/none", 1)),
  };

  for (const [outage, downDatabase] of Object.entries(outages)) {
    it(`${outage}: retries with backoff a bounded number of times, then drops the batch with an error line and a metric`, async () => {
      const { db, close } = await downDatabase();
      onTestFinished(close);
      const time = manualTime();
      const { logger, lines } = capturedLogger();
      const before = await dropped("database");
      const writer = new ActionWriter(db, {
        schedule: time.schedule,
        intervalMs: 100,
        maxAttempts: 3,
        logger,
      });
      writer.record(action(1));
      writer.record(action(2));
      expect(time.waiting()).toEqual([100]);
      time.fire();
      await writer.idle();
      // Failed once: still held, tried again later, and later still after that.
      expect(writer.pendingCount).toBe(2);
      expect(time.waiting()).toEqual([200]);
      // A reader's flush meanwhile does not cut the backoff short (no attempt is spent).
      await writer.flush();
      expect(time.waiting()).toEqual([200]);
      expect(lines.filter((line) => line.level === "warn")).toHaveLength(1);
      time.fire();
      await writer.idle();
      expect(time.waiting()).toEqual([400]);
      time.fire();
      await writer.idle();
      // The third failure gives the batch up.
      expect(writer.pendingCount).toBe(0);
      expect(time.waiting()).toEqual([]);
      expect(await dropped("database")).toBe(before + 2);
      expect(lines.filter((line) => line.level === "warn")).toHaveLength(2);
      expect(lines.filter((line) => line.level === "error")).toEqual([
        expect.objectContaining({ dropped: 2, reason: "database" }),
      ]);
    });

    it(`${outage}: stop() tries its attempts at once, gives up and resolves`, async () => {
      const { db, close } = await downDatabase();
      onTestFinished(close);
      const time = manualTime();
      const { logger, lines } = capturedLogger();
      const writer = new ActionWriter(db, { schedule: time.schedule, maxAttempts: 2, logger });
      writer.record(action(1));
      await writer.stop();
      expect(writer.pendingCount).toBe(0);
      expect(time.waiting()).toEqual([]);
      expect(lines.filter((line) => line.level === "error")).toHaveLength(1);
    });
  }
});
