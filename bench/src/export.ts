// The export section: N audit events in one location of a throwaway PostgreSQL database, sealed
// by the production server's own sealer, then exported over HTTP as NDJSON and as CSV
// (GET /api/sys/audit/export). The client first reads nothing, then reads slowly, then as fast
// as it can: while it lags, the server must wait for it (backpressure) rather than buffer the
// log, so the server's RSS is sampled throughout and its growth over the RSS before the export
// is what the bounded-memory contract is judged on.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { queryRows } from "@cowork/db";
import { createTestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { sql } from "drizzle-orm";
import { cpuPerOp, cpuSnapshot } from "./cpu";
import { createClient } from "./http-load";
import { BENCH_ACTOR, BENCH_TARGET_COWORKER } from "./in-process";
import { quick, profiling } from "./options";
import { repoRoot, residentMiB, sampleMemory, startPortal } from "./portal";
import { log } from "./print";
import { mainThreadProfile, printProfile, summarizeProfile } from "./profile";
import { round } from "./stats";
import type { Goal } from "./report";

/** Ada's first location (Downtown Hub in the demo data), where the events are written. */
const LOCATION = 1;
const NEWLINE = 0x0a;
/** Not reading at all, then reading a chunk every SLOW_CHUNK_MS: the lagging client. */
const STALL_MS = quick ? 1000 : 2000;
const SLOW_MS = quick ? 1000 : 2000;
const SLOW_CHUNK_MS = 20;
/** A shorter full-speed phase (a small log, mostly read while stalled) gives no rate. */
const MIN_FULL_SPEED_S = 0.5;
const MEMORY_BOUND_MIB = 100;
/** How often the bench stands in for autovacuum while the sealer works (see benchExport). */
const VACUUM_EVERY_MS = 10_000;
const TARGET_PER_S = 50_000;

export const exportEvents = Number(process.env.BENCH_EXPORT_EVENTS ?? (quick ? 20_000 : 1_000_000));

export interface ExportRun {
  format: "ndjson" | "csv";
  events: number;
  bytes: number;
  /** Events per second over the whole answer, the stall and the slow reading included. */
  overallPerS: number;
  /** Events per second once the client reads at full speed (null: the answer ended before). */
  fullSpeedPerS: number | null;
  /** What had arrived when the client began to read at full speed. */
  bytesBeforeFullSpeed: number;
  /**
   * CPU per event, µs: the server's (all its threads) and PostgreSQL's; what one free core per
   * process would allow whatever else the machine was doing (1e6 / serverUs events/s).
   */
  cpuUsPerEvent: { server: number; postgres: number } | null;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Peak RSS during the export minus the RSS just before it. */
  rssGrowthMiB: number;
}

export interface ExportReport {
  /** Events written by the bench (the fixture's own events of the location come on top). */
  seeded: number;
  /** All events of the location, the number each export must return. */
  expected: number;
  seedS: number;
  /** How long the server's sealer took to cover the seeded events with checkpoints. */
  sealS: number;
  runs: ExportRun[];
}

/**
 * N events over the past year, set-based: a cycle of the four commonest kinds (an issue, its
 * exchange, its stop, a sign-in) by the bench's admin about the bench's member, one in twenty
 * refused.
 */
async function seedEvents(db: Parameters<typeof queryRows>[0], count: number): Promise<void> {
  await db.execute(sql`
    insert into audit_events
      (at, type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, detail,
       jti, session_id, read_only)
    select
      now() - interval '365 days' + g * (interval '365 days' / ${count}::int),
      (array['impersonation.issued', 'impersonation.exchanged', 'impersonation.stopped', 'signin'])[1 + g % 4],
      case when g % 20 = 0 then 'refused' else 'success' end,
      ${BENCH_ACTOR_ID}::int,
      case when g % 4 = 3 then null else ${BENCH_TARGET_COWORKER}::int end,
      ${LOCATION}::int,
      case when g % 4 = 3 then null else 'staff'::impersonation_kind end,
      case when g % 4 = 0 then 'benchmark export' end,
      '203.0.113.' || (g % 250 + 1),
      case when g % 20 = 0 then 'throttled' end,
      case when g % 4 < 2 then gen_random_uuid() end,
      case when g % 4 = 3 then null else gen_random_uuid() end,
      case when g % 4 = 3 then null else false end
    from generate_series(1, ${count}::int) as g`);
}

/** Ada Admin's user id in the demo data. */
const BENCH_ACTOR_ID = 1;

async function signInAt(origin: string, locationId: number): Promise<string> {
  const client = createClient(origin, 1);
  const response = await client.send(
    "POST",
    "/api/token",
    { "content-type": "application/json" },
    JSON.stringify({
      grant_type: "password",
      username: BENCH_ACTOR.email,
      password: BENCH_ACTOR.password,
      location_id: locationId,
    }),
  );
  await client.close();
  if (response.status !== 200)
    throw new Error(`export sign-in: HTTP ${response.status} ${response.text.slice(0, 200)}`);
  return (JSON.parse(response.text) as { access_token: string }).access_token;
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One export read as a lagging client would, lines counted as they come. */
async function readExport(
  origin: string,
  token: string,
  format: "ndjson" | "csv",
): Promise<{
  lines: number;
  bytes: number;
  bytesBeforeFullSpeed: number;
  fullSpeedS: number;
  totalS: number;
}> {
  const started = performance.now();
  const response = await new Promise<IncomingMessage>((done, fail) => {
    const url = new URL(`/api/sys/audit/export?format=${format}`, origin);
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}` } }, done);
    req.once("error", fail);
    req.end();
  });
  if (response.statusCode !== 200) {
    let text = "";
    for await (const chunk of response) text += String(chunk);
    throw new Error(`export ${format}: HTTP ${response.statusCode} ${text.slice(0, 200)}`);
  }
  // Nothing read: the socket's buffers fill and the server has to stop producing.
  response.pause();
  await pause(STALL_MS);
  let lines = 0;
  let bytes = 0;
  let bytesBeforeFullSpeed = 0;
  let fullSpeedAt: number | null = null;
  const slowUntil = performance.now() + SLOW_MS;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
    if (fullSpeedAt === null) {
      if (performance.now() < slowUntil) await pause(SLOW_CHUNK_MS);
      else {
        fullSpeedAt = performance.now();
        bytesBeforeFullSpeed = bytes;
      }
    }
  }
  if (!response.complete) throw new Error(`export ${format}: the answer was cut short`);
  const ended = performance.now();
  return {
    lines,
    bytes,
    bytesBeforeFullSpeed,
    fullSpeedS: (ended - (fullSpeedAt ?? ended)) / 1000,
    totalS: (ended - started) / 1000,
  };
}

/** PostgreSQL only: a million-row log is what the export is for. */
export async function benchExport(): Promise<ExportReport> {
  log(
    `\n== export: ${exportEvents.toLocaleString("en")} audit events of one location, GET /api/sys/audit/export as NDJSON and CSV ==`,
  );
  const database = await createTestDatabase("postgres");
  try {
    await seedFixture(database.db, await readFixtureFile(demoFixturePath));
    const seedStarted = performance.now();
    await seedEvents(database.db, exportEvents);
    const seedS = (performance.now() - seedStarted) / 1000;
    log(`  seeded ${exportEvents} events in ${round(seedS)} s`);

    const profileDir = join(
      repoRoot,
      "bench/reports/profiles",
      `${new Date().toISOString().replace(/[:.]/g, "-")}-export`,
    );
    const portal = await startPortal({
      databaseUrl: database.url,
      nodeFlags: profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
    });
    let exportStartedAt = 0;
    let exportEndedAt = 0;
    try {
      // Signing in is an event of the location too; it is sealed with the rest.
      const token = await signInAt(portal.url, LOCATION);
      const [{ count: expected } = { count: 0 }] = await queryRows<{ count: number }>(
        database.db,
        sql`select count(*)::int as count from audit_events where location_id = ${LOCATION}`,
      );
      // The server's sealer numbers and hashes the backlog in rounds; the export waits for it,
      // so that it reads sealed rows (seq and leafHash set) and no sealing runs beside it. The
      // newest checkpoint's size is one index probe; counting unsealed rows would scan them.
      // Where autovacuum is off (as on the test server of this repository's machine), the bench
      // does its work: without fresh statistics the planner keeps walking the primary key past
      // the rows sealed since (it last saw none sealed), until the sealer's select outlives the
      // statement timeout and every round fails.
      const [{ autovacuum } = { autovacuum: "on" }] = await queryRows<{ autovacuum: string }>(
        database.db,
        sql`select current_setting('autovacuum') as autovacuum`,
      );
      const sealStarted = performance.now();
      let vacuumedAt = sealStarted;
      for (;;) {
        const [{ size } = { size: 0 }] = await queryRows<{ size: number }>(
          database.db,
          sql`select coalesce(max(size), 0)::int as size from audit_checkpoints where location_id = ${LOCATION}`,
        );
        if (size >= expected) break;
        if (autovacuum !== "on" && performance.now() - vacuumedAt > VACUUM_EVERY_MS) {
          await database.db.execute(sql`vacuum (analyze) audit_events`);
          vacuumedAt = performance.now();
        }
        await pause(1000);
      }
      const sealS = (performance.now() - sealStarted) / 1000;
      log(`  sealed by the server's sealer in ${round(sealS)} s`);

      const runs: ExportRun[] = [];
      exportStartedAt = Date.now();
      for (const format of ["ndjson", "csv"] as const) {
        const rssBeforeMiB = residentMiB(portal.pid) ?? Number.NaN;
        const sampler = sampleMemory(portal.pid, 200);
        const cpuBefore = cpuSnapshot(portal.pid);
        const read = await readExport(portal.url, token, format);
        const cpu = cpuPerOp(cpuBefore, cpuSnapshot(portal.pid), read.lines);
        const samples = sampler.stop();
        const events = format === "csv" ? read.lines - 1 : read.lines;
        if (events !== expected)
          throw new Error(`export ${format}: ${events} events, the location holds ${expected}`);
        const rssPeakMiB = Math.max(...samples.map((sample) => sample.rssMiB));
        const fullSpeedEvents = events * (1 - read.bytesBeforeFullSpeed / read.bytes);
        const run: ExportRun = {
          format,
          events,
          bytes: read.bytes,
          overallPerS: Math.round(events / read.totalS),
          fullSpeedPerS:
            read.fullSpeedS >= MIN_FULL_SPEED_S
              ? Math.round(fullSpeedEvents / read.fullSpeedS)
              : null,
          bytesBeforeFullSpeed: read.bytesBeforeFullSpeed,
          cpuUsPerEvent: cpu
            ? { server: round(cpu.serverMs * 1000), postgres: round(cpu.postgresMs * 1000) }
            : null,
          rssBeforeMiB: round(rssBeforeMiB),
          rssPeakMiB: round(rssPeakMiB),
          rssGrowthMiB: round(rssPeakMiB - rssBeforeMiB),
        };
        runs.push(run);
        log(
          `  ${format}: ${events} events, ${round(read.bytes / 2 ** 20)} MiB in ${round(read.totalS)} s; at full speed ${run.fullSpeedPerS ?? "–"} events/s (${run.overallPerS}/s overall, ${STALL_MS / 1000} s stalled and ${SLOW_MS / 1000} s slow included; ${round(read.bytesBeforeFullSpeed / 2 ** 20)} MiB had arrived by then); CPU per event: server ${run.cpuUsPerEvent?.server ?? "–"} µs, PostgreSQL ${run.cpuUsPerEvent?.postgres ?? "–"} µs; server RSS ${run.rssBeforeMiB} → peak ${run.rssPeakMiB} MiB (+${run.rssGrowthMiB})`,
        );
      }
      exportEndedAt = Date.now();
      return { seeded: exportEvents, expected, seedS: round(seedS), sealS: round(sealS), runs };
    } finally {
      await portal.stop();
      if (profiling && exportEndedAt > 0) {
        // The exports only: not the start-up nor the sealing of the backlog.
        const exitedAt = Date.now();
        const window = {
          fromS: (exitedAt - exportStartedAt) / 1000,
          toS: (exitedAt - exportEndedAt) / 1000,
        };
        printProfile(summarizeProfile(mainThreadProfile(profileDir), 25, window), log);
      }
    }
  } finally {
    await database.close();
  }
}

/** Issue 20 and CONTRACT §9: ≥ 50,000 events/s, memory growing by less than 100 MiB. */
export function exportGoals(report: ExportReport | null): Goal[] {
  const formats = ["ndjson", "csv"] as const;
  return formats.flatMap((format) => {
    const run = report?.runs.find((candidate) => candidate.format === format);
    const goal = (text: string, measured?: number, met?: boolean): Goal => ({
      database: "postgres",
      goal: text,
      measured: measured ?? null,
      met: met ?? null,
    });
    const size = report ? report.expected.toLocaleString("en") : "N";
    return [
      goal(
        `export ${format} of ${size} events ≥ ${TARGET_PER_S.toLocaleString("en")} events/s`,
        run?.fullSpeedPerS ?? undefined,
        run?.fullSpeedPerS == null ? undefined : run.fullSpeedPerS >= TARGET_PER_S,
      ),
      goal(
        `export ${format} of ${size} events: server RSS growth < ${MEMORY_BOUND_MIB} MiB`,
        run?.rssGrowthMiB,
        run && run.rssGrowthMiB < MEMORY_BOUND_MIB,
      ),
    ];
  });
}
