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
import { residentMiB, startPortal } from "./portal";
import { log } from "./print";
import type { ScaleDatabaseReport, ScaleReport, TableSize } from "./report";
import { portalScenarios, signIn } from "./scenarios";
import { openScaledDatabase, scaleSize } from "./scale-options";
import { round } from "./stats";

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
  return {
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

const one = (result: LoadResult) => ({
  ratePerS: result.ratePerS,
  p50Ms: result.p50Ms,
  p99Ms: result.p99Ms,
  errors: result.errors,
  firstError: result.firstError,
});

async function measureDatabase(
  name: "empty" | "scaled",
  url: string,
  subjects: Subjects,
  exportMax: number,
): Promise<ScaleDatabaseReport> {
  log(`  ${name}: starting the portal …`);
  const deep = await deepCursor(url, subjects.locationId);
  const portal = await startPortal({ databaseUrl: url, env: { IMPERSONATE_LIMIT_PER_MINUTE } });
  try {
    const scenarios = portalScenarios(await signIn(portal.url));
    const admin = await tokenOf(portal.url, subjects.admin);
    const member = await tokenOf(portal.url, subjects.member);
    const at = (concurrency: number, operation: Operation, label: string) => {
      log(`  ${name}: ${label} at concurrency ${concurrency} …`);
      return measure(portal.url, operation, concurrency, httpPlan, portal.pid);
    };
    const { result: flow, maxLagS } = await sealingLagDuring(
      url,
      at(32, scenarios.flow, "issue + exchange flow (sealing lag polled)"),
    );
    const me = await at(32, scenarios.me, "GET /api/sys/users/me");
    const first = await at(
      1,
      getOk("audit first page", `/api/sys/audit?limit=${AUDIT_PAGE}`, admin),
      "GET /api/sys/audit first page",
    );
    const deepPage = deep
      ? await at(
          1,
          getOk(
            "audit deep page",
            `/api/sys/audit?limit=${AUDIT_PAGE}&cursor=${deep.cursor}`,
            admin,
          ),
          `GET /api/sys/audit ${deep.depth} events deep`,
        )
      : null;
    const history = await at(
      1,
      getOk("access history", "/api/public/coworkers/access-history", member),
      "GET /api/public/coworkers/access-history",
    );
    log(`  ${name}: export (NDJSON, up to ${exportMax} events) …`);
    const exported = await measureExport(portal.url, admin, portal.pid, exportMax);
    log(
      `    flow ${flow.ratePerS}/s · me ${me.ratePerS}/s · audit p99 ${first.p99Ms} ms${deepPage ? ` (deep ${deepPage.p99Ms} ms)` : ""} · history p99 ${history.p99Ms} ms · export ${exported.eventsPerS} events/s (${exported.events}, RSS +${exported.rssGrowthMiB} MiB) · sealing lag ≤ ${maxLagS} s`,
    );
    return {
      flow: one(flow),
      me: one(me),
      auditFirstPage: one(first),
      auditDeepPage: deepPage && deep ? { ...one(deepPage), depth: deep.depth } : null,
      auditLogSize: deep?.logSize ?? null,
      accessHistory: one(history),
      export: exported,
      sealingLagS: maxLagS,
      tables: await tableSizes(url),
    };
  } finally {
    await portal.stop();
  }
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
  try {
    await seedFixture(empty.db, await readFixtureFile(demoFixturePath));
    const emptyReport = await measureDatabase(
      "empty",
      empty.url!,
      { admin: FIXTURE_ADMIN, locationId: 1, member: FIXTURE_MEMBER },
      size.exportMax,
    );
    const scaledReport = await measureDatabase(
      "scaled",
      scaled.url,
      { admin: BUSY_ADMIN, locationId: BUSY_LOCATION, member: HOT_MEMBER_LOGIN },
      size.exportMax,
    );
    const deep = await deepCursor(scaled.url, BUSY_LOCATION);
    const seqScans = await hotPlans(scaled.url, deep?.cursor ?? null);
    return {
      size: size.name,
      sizes: size.sizes,
      empty: emptyReport,
      scaled: scaledReport,
      seqScans,
    };
  } finally {
    await empty.close();
    await scaled.close();
  }
}
