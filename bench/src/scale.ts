// The scale section: the same measures on the demo fixture alone ("empty") and on a database that
// also holds a year of a large operator's data (`pnpm db:seed-scale`), in one run, with their
// ratio: the flow and `me` at concurrency 32, the audit list's first page and a deep one (keyset
// cursor), the access history of a member impersonated 1,000 times, the export's throughput and
// the server's memory while it streams, the sealing lag under the flow's load, and the sizes of
// the tables and indexes. It then prints the plan of every hot statement on the scaled database
// (@cowork/api hot-plans.ts). PostgreSQL only. BENCH_SCALE chooses the size (scale-options.ts).
import {
  createServiceDeps,
  describePlan,
  explainStatements,
  loadConfig,
  recordHotStatements,
} from "@cowork/api";
import { createPostgres, createRecordingPostgres, queryRows } from "@cowork/db";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { HOT_MEMBER, SCALE_ID, SCALE_MEMBER_USER, SCALE_PASSWORD } from "@cowork/db/seed-scale";
import { createTestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import {
  createClient,
  type LoadResult,
  measure,
  type Operation,
  UnexpectedResponse,
} from "./http-load";
import { BENCH_TARGET_COWORKER, IMPERSONATE_LIMIT_PER_MINUTE } from "./in-process";
import { httpPlan } from "./options";
import { type Portal, residentMiB, startPortal } from "./portal";
import { cpuPerOp, cpuSnapshot } from "./cpu";
import { log } from "./print";
import type { ScaleDatabaseReport, ScaleLine, ScaleReport, TableSize } from "./report";
import { portalScenarios, signIn } from "./scenarios";
import { openScaledDatabase, scaleSize } from "./scale-options";
import { median, round } from "./stats";

const BUSY_LOCATION = SCALE_ID + 1;
const BUSY_ADMIN = { email: "scale-admin-1@scale.test", password: SCALE_PASSWORD };
const FIXTURE_ADMIN = { email: "ada.admin@demo.test", password: "demo-admin-pass" };
/** Milo, the flow's target in the fixture: impersonated by every flow of the run. */
const FIXTURE_MEMBER = { email: "milo.member@demo.test", password: "demo-member-pass" };
const HOT_MEMBER_LOGIN = {
  email: `scale-member-${HOT_MEMBER.userId - SCALE_MEMBER_USER}@scale.test`,
  password: SCALE_PASSWORD,
};
/** How deep the deep page is (events before it, newest first), when the log is that long. */
const DEEP_PAGE_DEPTH = 100_000;
const AUDIT_PAGE = 50;

async function tokenOf(origin: string, who: { email: string; password: string }) {
  const client = createClient(origin, 1);
  const response = await client.send(
    "POST",
    "/api/token",
    { "content-type": "application/json" },
    JSON.stringify({ grant_type: "password", username: who.email, password: who.password }),
  );
  await client.close();
  if (response.status !== 200) throw new UnexpectedResponse(`sign-in ${who.email}`, response);
  return (JSON.parse(response.text) as { access_token: string }).access_token;
}

const getOk =
  (step: string, path: string, token: string): Operation =>
  async (send) => {
    const response = await send("GET", path, { authorization: `Bearer ${token}` });
    if (response.status !== 200) throw new UnexpectedResponse(step, response);
  };

/** Streams the NDJSON export, counting events, up to `max`; the server's RSS sampled meanwhile. */
async function measureExport(origin: string, token: string, pid: number, max: number) {
  const before = residentMiB(pid) ?? Number.NaN;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, residentMiB(pid) ?? peak);
  }, 100);
  const controller = new AbortController();
  const cpuBefore = cpuSnapshot(pid);
  const started = performance.now();
  let events = 0;
  try {
    const response = await fetch(`${origin}/api/sys/audit/export?format=ndjson`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    if (response.status !== 200 || !response.body)
      throw new Error(`export: HTTP ${response.status} ${await response.text()}`);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const byte of value) if (byte === 10) events++;
      if (events >= max) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  // CPU per 1,000 events: where an export's time goes (server, PostgreSQL, this reader).
  const cpu = cpuPerOp(cpuBefore, cpuSnapshot(pid), events / 1000);
  return {
    cpuPerThousand: cpu
      ? { serverMs: cpu.serverMs, postgresMs: cpu.postgresMs, readerMs: cpu.loadGeneratorMs }
      : null,
    events,
    seconds: round(seconds),
    eventsPerS: round(events / seconds),
    rssBeforeMiB: round(before),
    rssGrowthMiB: round(peak - before),
  };
}

const TABLES = [
  "audit_events",
  "audit_nodes",
  "audit_checkpoints",
  "sessions",
  "impersonation_grants",
  "impersonation_actions",
  "support_access_grants",
  "users",
  "coworkers",
  "team_members",
];

async function tableSizes(url: string): Promise<TableSize[]> {
  const handle = createPostgres(url, 1);
  try {
    // Fresh statistics: reltuples is what the planner believes, and -1 until a first analyze.
    await queryRows(handle.db, sql.raw(`analyze ${TABLES.join(", ")}`));
    const rows = await queryRows<{ name: string; rows: number; table: number; indexes: number }>(
      handle.db,
      sql`select c.relname as name, c.reltuples::float8 as rows,
            pg_table_size(c.oid)::float8 as table, pg_indexes_size(c.oid)::float8 as indexes
          from pg_class c where c.relname in (${sql.join(
            TABLES.map((name) => sql`${name}`),
            sql`, `,
          )})
            and c.relnamespace = 'public'::regnamespace`,
    );
    const mib = (bytes: number) => round(Number(bytes) / 2 ** 20);
    return rows
      .map((row) => ({
        table: row.name,
        rows: Math.max(0, Math.round(Number(row.rows))),
        tableMiB: mib(row.table),
        indexMiB: mib(row.indexes),
      }))
      .sort((a, b) => TABLES.indexOf(a.table) - TABLES.indexOf(b.table));
  } finally {
    await handle.close();
  }
}

/** The largest seconds any event waited unsealed, polled while `load` runs. */
async function sealingLagDuring<T>(
  url: string,
  load: Promise<T>,
): Promise<{ result: T; maxLagS: number }> {
  const handle = createPostgres(url, 1);
  let maxLagS = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      const [row] = await queryRows<{ lag: number | null }>(
        handle.db,
        sql`select extract(epoch from now() - min(at))::float8 as lag
            from audit_events where seq is null and location_id is not null`,
      );
      maxLagS = Math.max(maxLagS, Number(row?.lag ?? 0));
      await new Promise((done) => setTimeout(done, 250));
    }
  })();
  try {
    return { result: await load, maxLagS: round(maxLagS) };
  } finally {
    running = false;
    await poll;
    await handle.close();
  }
}

interface Subjects {
  admin: { email: string; password: string };
  locationId: number;
  member: { email: string; password: string };
}

/** The cursor of the page `depth` events deep into a location's log (newest first), if any. */
async function deepCursor(url: string, locationId: number) {
  const handle = createPostgres(url, 1);
  try {
    const [count] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::float8 as n from audit_events where location_id = ${locationId}`,
    );
    const depth = Math.min(DEEP_PAGE_DEPTH, Math.floor(Number(count?.n ?? 0) / 2));
    if (depth < AUDIT_PAGE) return null;
    const [row] = await queryRows<{ id: number }>(
      handle.db,
      sql`select id from audit_events where location_id = ${locationId} order by id desc offset ${depth} limit 1`,
    );
    return row ? { cursor: Number(row.id), depth, logSize: Number(count!.n) } : null;
  } finally {
    await handle.close();
  }
}

/** A load measured on one database: the medians over its runs, and its CPU per operation. */
function line(runs: LoadResult[]): ScaleLine {
  const cpus = runs.map((run) => run.cpu).filter((cpu) => cpu != null);
  return {
    ratePerS: round(median(runs.map((run) => run.ratePerS))),
    p50Ms: round(median(runs.map((run) => run.p50Ms))),
    p99Ms: round(median(runs.map((run) => run.p99Ms))),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    firstError: runs.find((run) => run.firstError)?.firstError ?? null,
    serverCpuMs: cpus.length ? round(median(cpus.map((cpu) => cpu.serverMs))) : null,
    postgresCpuMs: cpus.length ? round(median(cpus.map((cpu) => cpu.postgresMs))) : null,
  };
}

interface Side {
  name: "empty" | "scaled";
  url: string;
  portal: Portal;
  subjects: Subjects;
  deep: Awaited<ReturnType<typeof deepCursor>>;
  admin: string;
  member: string;
  scenarios: ReturnType<typeof portalScenarios>;
}

async function openSide(name: Side["name"], url: string, subjects: Subjects): Promise<Side> {
  log(`  ${name}: starting the portal …`);
  const deep = await deepCursor(url, subjects.locationId);
  const portal = await startPortal({ databaseUrl: url, env: { IMPERSONATE_LIMIT_PER_MINUTE } });
  try {
    return {
      name,
      url,
      portal,
      subjects,
      deep,
      scenarios: portalScenarios(await signIn(portal.url)),
      admin: await tokenOf(portal.url, subjects.admin),
      member: await tokenOf(portal.url, subjects.member),
    };
  } catch (error) {
    await portal.stop();
    throw error;
  }
}

/**
 * Measures one operation on both databases, their runs interleaved (empty, scaled, empty, …):
 * on a shared machine whose speed drifts over minutes, both sides see the same drift.
 */
async function interleaved(
  sides: readonly Side[],
  label: string,
  concurrency: number,
  operation: (side: Side) => Operation | null,
  during?: (side: Side, run: Promise<LoadResult>) => Promise<LoadResult>,
): Promise<Map<Side["name"], LoadResult[]>> {
  log(`  ${label} at concurrency ${concurrency} (${httpPlan.runs} runs each, interleaved) …`);
  const results = new Map<Side["name"], LoadResult[]>();
  for (let index = 0; index < httpPlan.runs; index++) {
    for (const side of sides) {
      const op = operation(side);
      if (!op) continue;
      const plan = { ...httpPlan, runs: 1, warmupS: index === 0 ? httpPlan.warmupS : 0 };
      const run = measure(side.portal.url, op, concurrency, plan, side.portal.pid);
      const result = during ? await during(side, run) : await run;
      results.set(side.name, [...(results.get(side.name) ?? []), result]);
    }
  }
  for (const side of sides) {
    const runs = results.get(side.name);
    if (runs) {
      const summary = line(runs);
      log(
        `    ${side.name}: ${summary.ratePerS}/s p50 ${summary.p50Ms} ms p99 ${summary.p99Ms} ms${summary.serverCpuMs !== null ? ` · CPU per op: server ${summary.serverCpuMs} ms, PostgreSQL ${summary.postgresCpuMs} ms` : ""}${summary.errors ? ` errors ${summary.errors} (${summary.firstError})` : ""}`,
      );
    }
  }
  return results;
}

async function measureBoth(sides: readonly Side[], exportMax: number) {
  const lag = new Map<Side["name"], number>();
  const flow = await interleaved(
    sides,
    "issue + exchange flow (sealing lag polled)",
    32,
    (side) => side.scenarios.flow,
    async (side, run) => {
      const { result, maxLagS } = await sealingLagDuring(side.url, run);
      lag.set(side.name, Math.max(lag.get(side.name) ?? 0, maxLagS));
      return result;
    },
  );
  const me = await interleaved(sides, "GET /api/sys/users/me", 32, (side) => side.scenarios.me);
  const first = await interleaved(sides, "GET /api/sys/audit first page", 1, (side) =>
    getOk("audit first page", `/api/sys/audit?limit=${AUDIT_PAGE}`, side.admin),
  );
  const deep = await interleaved(sides, `GET /api/sys/audit, a page deep`, 1, (side) =>
    side.deep
      ? getOk(
          "audit deep page",
          `/api/sys/audit?limit=${AUDIT_PAGE}&cursor=${side.deep.cursor}`,
          side.admin,
        )
      : null,
  );
  const history = await interleaved(sides, "GET /api/public/coworkers/access-history", 1, (side) =>
    getOk("access history", "/api/public/coworkers/access-history", side.member),
  );
  const reports = new Map<Side["name"], ScaleDatabaseReport>();
  for (const side of sides) {
    log(`  ${side.name}: export (NDJSON, up to ${exportMax} events) …`);
    const exported = await measureExport(side.portal.url, side.admin, side.portal.pid, exportMax);
    log(
      `    ${exported.events} events in ${exported.seconds} s: ${exported.eventsPerS} events/s, server RSS +${exported.rssGrowthMiB} MiB${exported.cpuPerThousand ? ` · CPU per 1,000 events: server ${exported.cpuPerThousand.serverMs} ms, PostgreSQL ${exported.cpuPerThousand.postgresMs} ms, reader ${exported.cpuPerThousand.readerMs} ms` : ""}`,
    );
    const deepRuns = deep.get(side.name);
    reports.set(side.name, {
      flow: line(flow.get(side.name)!),
      me: line(me.get(side.name)!),
      auditFirstPage: line(first.get(side.name)!),
      auditDeepPage: deepRuns && side.deep ? { ...line(deepRuns), depth: side.deep.depth } : null,
      auditLogSize: side.deep?.logSize ?? null,
      accessHistory: line(history.get(side.name)!),
      export: exported,
      sealingLagS: lag.get(side.name) ?? Number.NaN,
      tables: await tableSizes(side.url),
    });
  }
  return reports;
}

/** The plans of the hot statements on the scaled database, printed; the seq scans returned. */
async function hotPlans(url: string, deep: number | null) {
  const recording = createRecordingPostgres(url);
  try {
    const deps = await createServiceDeps(
      recording.db,
      loadConfig({ AUTH_ISSUER: "http://bench.test", IMPERSONATE_LIMIT_PER_MINUTE }),
    );
    const statements = await recordHotStatements(recording, deps, {
      flowActor: FIXTURE_ADMIN,
      flowCoworkerId: BENCH_TARGET_COWORKER,
      auditAdmin: BUSY_ADMIN,
      deepCursor: deep,
      member: HOT_MEMBER_LOGIN,
    });
    const explained = await explainStatements(recording.connection.client as never, statements);
    log("\n  plans of the hot statements on the scaled database:");
    for (const statement of explained) {
      log(`  [${statement.operation}] ${statement.text.replace(/\s+/g, " ").slice(0, 160)}`);
      for (const line of describePlan(statement.plan)) log(`      ${line}`);
    }
    return explained
      .filter((statement) => statement.seqScans.length > 0)
      .map((statement) => `${statement.operation}: ${statement.seqScans.join(", ")}`);
  } finally {
    await recording.close();
  }
}

export async function benchScale(): Promise<ScaleReport> {
  const size = scaleSize();
  log(`\n== scale (${size.name}: ${JSON.stringify(size.sizes)}) ==`);
  const empty = await createTestDatabase("postgres");
  const scaled = await openScaledDatabase(size, log);
  let reports: Map<Side["name"], ScaleDatabaseReport>;
  try {
    await seedFixture(empty.db, await readFixtureFile(demoFixturePath));
    const sides: Side[] = [];
    try {
      sides.push(
        await openSide("empty", empty.url!, {
          admin: FIXTURE_ADMIN,
          locationId: 1,
          member: FIXTURE_MEMBER,
        }),
      );
      sides.push(
        await openSide("scaled", scaled.url, {
          admin: BUSY_ADMIN,
          locationId: BUSY_LOCATION,
          member: HOT_MEMBER_LOGIN,
        }),
      );
      reports = await measureBoth(sides, size.exportMax);
    } finally {
      for (const side of sides) await side.portal.stop();
    }
    const deep = await deepCursor(scaled.url, BUSY_LOCATION);
    const seqScans = await hotPlans(scaled.url, deep?.cursor ?? null);
    return {
      size: size.name,
      sizes: size.sizes,
      empty: reports.get("empty")!,
      scaled: reports.get("scaled")!,
      seqScans,
    };
  } finally {
    await empty.close();
    await scaled.close();
  }
}
