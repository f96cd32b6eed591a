// `pnpm bench`: the impersonation flow measured against its own floor, in-process and over HTTP
// against the production server, on PGlite and (when DATABASE_URL is set) on PostgreSQL.
// Prints a table and writes reports/<timestamp>.json and reports/latest.json.
//
// Environment: BENCH_QUICK=1 (1 run × 2 s, for CI), BENCH_DB=pglite,postgres, BENCH_ONLY=
// in-process,floors,me,flow,memory (a subset of the sections, for development), BENCH_CONCURRENCY=1,32,
// BENCH_PROFILE=1 (server under --cpu-prof, summary in the report), BENCH_BUILD=auto|always|never,
// BENCH_RUNS, BENCH_DURATION_S, BENCH_WARMUP_S, BENCH_MEMORY_S, NEXT_DIST_DIR.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { createPostgres, queryRows } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import {
  type LoadPlan,
  type LoadResult,
  type Operation,
  UnexpectedResponse,
  createClient,
  measure,
  runFor,
} from "./http-load";
import {
  BENCH_ACTOR,
  BENCH_REASON,
  BENCH_TARGET_COWORKER,
  benchInProcess,
  type InProcessPlan,
  type InProcessReport,
} from "./in-process";
import { describeMachine, loadAverage, type Machine } from "./machine";
import { type ProfileSummary, mainThreadProfile, printProfile, summarizeProfile } from "./profile";
import {
  type BuildInfo,
  ensureBuild,
  repoRoot,
  residentMiB,
  sampleMemory,
  startNodeFloor,
  startPortal,
} from "./portal";
import { printReport } from "./print";
import { round } from "./stats";

type Driver = "pglite" | "postgres";
type Section = "in-process" | "floors" | "me" | "flow" | "memory";

const env = process.env;
const quick = env.BENCH_QUICK === "1";
const profiling = env.BENCH_PROFILE === "1";
const only = new Set(
  (env.BENCH_ONLY ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
const wants = (section: Section) => only.size === 0 || only.has(section);
const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

export const IMPERSONATE_LIMIT_PER_MINUTE = "100000";
const CONCURRENCY = (
  env.BENCH_CONCURRENCY ? env.BENCH_CONCURRENCY.split(",").map(Number) : [1, 32]
) as readonly (1 | 32)[];
const httpPlan: LoadPlan = quick
  ? { warmupS: 0.5, runs: 1, durationS: 2 }
  : {
      warmupS: number("BENCH_WARMUP_S", 3),
      runs: number("BENCH_RUNS", 3),
      durationS: number("BENCH_DURATION_S", 10),
    };
const inProcessPlan: InProcessPlan = quick
  ? { warmupS: 0.2, runs: 1, durationS: 0.5 }
  : { warmupS: 1, runs: 3, durationS: 3 };
const memoryS = quick ? 0 : number("BENCH_MEMORY_S", 60);
const MEMORY_RUN_S = 10;

export interface HttpLine {
  /** Per concurrency level. */
  c1?: LoadResult;
  c32?: LoadResult;
}

export interface MemoryReport {
  /** VmRSS of the server process (found by its listening port). */
  pid: number;
  startMiB: number;
  peakMiB: number;
  /** The sustained load: consecutive runs, peak of each; flat = the later runs come down as low (lowest RSS). */
  sustained: null | {
    load: string;
    durationS: number;
    runPeaksMiB: number[];
    runRates: number[];
    samples: { t: number; rssMiB: number }[];
    growthMiB: number;
    flat: boolean;
  };
}

export interface TargetReport {
  database: Driver;
  databaseVersion: string;
  inProcess: InProcessReport | null;
  http: {
    serverEnv: Record<string, string>;
    /** GET /.well-known/jwks.json: the REST door with no database and no crypto. */
    doorFloor: HttpLine;
    /** GET /api/health: a trivial Next route handler (what Next costs; pages and tRPC pay it). */
    nextFloor: HttpLine;
    me: HttpLine;
    flow: HttpLine;
    /** Ratios to the door floor at the same concurrency, in requests/s. */
    ratioToDoorFloor: Record<string, number | null>;
  };
  memory: MemoryReport;
  profile: ProfileSummary | null;
  loadAverage: { before: number[]; after: number[] };
}

export interface Report {
  version: 1;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: Machine;
  build: BuildInfo | null;
  plan: {
    http: LoadPlan;
    inProcess: InProcessPlan;
    memoryS: number;
    concurrency: readonly number[];
  };
  nodeFloor: HttpLine;
  targets: TargetReport[];
  goals: { database: Driver; goal: string; measured: number | null; met: boolean | null }[];
}

const log = (line: string) => console.log(line);

async function databaseVersion(driver: Driver): Promise<string> {
  if (driver === "pglite") return "PGlite 0.5 (PostgreSQL 17 in WebAssembly, in-process)";
  const handle = createPostgres(env.DATABASE_URL!, 1);
  try {
    const [row] = await queryRows<{ version: string }>(handle.db, sql`select version()`);
    return row!.version.replace(/ on .*$/, "");
  } finally {
    await handle.close();
  }
}

async function measureLine(
  origin: string,
  operation: Operation,
  label: string,
  serverPid?: number,
): Promise<HttpLine> {
  const line: HttpLine = {};
  for (const concurrency of CONCURRENCY) {
    log(`  ${label} at concurrency ${concurrency} …`);
    const result = await measure(origin, operation, concurrency, httpPlan, serverPid);
    log(
      `    ${result.ratePerS}/s p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms${result.errors ? ` errors ${result.errors} (${result.firstError})` : ""}${result.cpu ? ` · CPU per op: server ${result.cpu.serverMs} ms, PostgreSQL ${result.cpu.postgresMs} ms, load generator ${result.cpu.loadGeneratorMs} ms; machine ${Math.round(result.cpu.machineBusy * 100)} % busy` : ""}`,
    );
    line[`c${concurrency}`] = result;
  }
  return line;
}

async function benchHttp(
  driver: Driver,
): Promise<Pick<TargetReport, "http" | "memory" | "profile">> {
  let database: TestDatabase | null = null;
  if (driver === "postgres") {
    database = await createTestDatabase("postgres");
    await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  }
  const serverEnv = { IMPERSONATE_LIMIT_PER_MINUTE, NODE_ENV: "production" };
  const profileDir = join(
    repoRoot,
    "bench/reports/profiles",
    `${new Date().toISOString().replace(/[:.]/g, "-")}-${driver}`,
  );
  const portal = await startPortal({
    databaseUrl: database?.url ?? null,
    env: { IMPERSONATE_LIMIT_PER_MINUTE },
    nodeFlags: profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  });
  const startMiB = residentMiB(portal.pid) ?? Number.NaN;
  const sampler = sampleMemory(portal.pid);
  let profile: ProfileSummary | null = null;
  try {
    const client = createClient(portal.url, 1);
    const signIn = await client.send(
      "POST",
      "/api/token",
      { "content-type": "application/json" },
      JSON.stringify({
        grant_type: "password",
        username: BENCH_ACTOR.email,
        password: BENCH_ACTOR.password,
      }),
    );
    await client.close();
    if (signIn.status !== 200) throw new UnexpectedResponse("sign-in", signIn);
    const actorToken = (JSON.parse(signIn.text) as { access_token: string }).access_token;
    const auth = { authorization: `Bearer ${actorToken}` };

    const doorFloor: Operation = async (send) => {
      const response = await send("GET", "/.well-known/jwks.json");
      if (response.status !== 200) throw new UnexpectedResponse("jwks", response);
    };
    const nextFloor: Operation = async (send) => {
      const response = await send("GET", "/api/health");
      if (response.status !== 200) throw new UnexpectedResponse("health", response);
    };
    const me: Operation = async (send) => {
      const response = await send("GET", "/api/sys/users/me", auth);
      if (response.status !== 200) throw new UnexpectedResponse("me", response);
    };
    const issuePath = `/api/sys/users/impersonate?coworkerId=${BENCH_TARGET_COWORKER}&reason=${BENCH_REASON}`;
    const exchangeHeaders = { "content-type": "application/json" };
    const flow: Operation = async (send) => {
      const issued = await send("GET", issuePath, auth);
      if (issued.status !== 200) throw new UnexpectedResponse("issue", issued);
      const { token } = JSON.parse(issued.text) as { token: string };
      const exchanged = await send(
        "POST",
        "/api/sys/users/exchange",
        exchangeHeaders,
        JSON.stringify({ token }),
      );
      if (exchanged.status !== 200) throw new UnexpectedResponse("exchange", exchanged);
    };

    const loadStartedAt = Date.now();
    const http: TargetReport["http"] = {
      serverEnv,
      doorFloor: {},
      nextFloor: {},
      me: {},
      flow: {},
      ratioToDoorFloor: {},
    };
    if (wants("floors")) {
      http.doorFloor = await measureLine(
        portal.url,
        doorFloor,
        "door floor: GET /.well-known/jwks.json",
        portal.pid,
      );
      http.nextFloor = await measureLine(
        portal.url,
        nextFloor,
        "Next floor: GET /api/health",
        portal.pid,
      );
    }
    if (wants("me"))
      http.me = await measureLine(portal.url, me, "GET /api/sys/users/me", portal.pid);
    if (wants("flow"))
      http.flow = await measureLine(portal.url, flow, "issue + exchange flow", portal.pid);
    for (const concurrency of CONCURRENCY) {
      const key = `c${concurrency}` as const;
      const floor = http.doorFloor[key]?.ratePerS;
      const meRate = http.me[key]?.ratePerS;
      const flowRate = http.flow[key]?.ratePerS;
      http.ratioToDoorFloor[`me_${key}`] = floor && meRate ? round(meRate / floor) : null;
      // A flow is two requests.
      http.ratioToDoorFloor[`flow_requests_${key}`] =
        floor && flowRate ? round((2 * flowRate) / floor) : null;
    }

    let sustained: MemoryReport["sustained"] = null;
    if (memoryS > 0 && wants("memory")) {
      log(
        `  memory: ${memoryS} s of mixed load (issue + exchange flows and me, alternating) at concurrency 32 …`,
      );
      let turn = 0;
      const mixed: Operation = (send) => (turn++ % 2 === 0 ? flow(send) : me(send));
      const memoryClient = createClient(portal.url, 32);
      const samplesFrom = sampler.samples.length;
      const runPeaksMiB: number[] = [];
      const runSamplesMiB: number[][] = [];
      const runRates: number[] = [];
      for (let elapsed = 0; elapsed < memoryS; elapsed += MEMORY_RUN_S) {
        const first = sampler.samples.length;
        const run = await runFor(
          memoryClient.send,
          mixed,
          32,
          Math.min(MEMORY_RUN_S, memoryS - elapsed),
        );
        const inRun = sampler.samples.slice(first).map((s) => s.rssMiB);
        runSamplesMiB.push(inRun);
        runPeaksMiB.push(round(Math.max(...inRun, residentMiB(portal.pid) ?? 0)));
        runRates.push(round(run.ratePerS));
      }
      await memoryClient.close();
      // Flat: the later runs come down as low as the earlier ones (the first run warms up: JIT,
      // connection pool, caches). Six 10-s runs: the lowest RSS of runs 2-4 against that of runs
      // 5-6. Lows, not peaks or medians: V8's major collections make a saw-tooth of 5 to 60 s
      // here whose height varies from run to run, so a run's peak or median depends on where it
      // falls on a tooth; what a leak lifts is the floor each collection comes back down to.
      const rest = runSamplesMiB.length > 1 ? runSamplesMiB.slice(1) : runSamplesMiB;
      const half = Math.ceil(rest.length / 2);
      const early = Math.min(...rest.slice(0, half).flat());
      const late = rest.length > half ? Math.min(...rest.slice(half).flat()) : early;
      const growthMiB = round(late - early);
      sustained = {
        load: "issue + exchange flows and GET me, alternating, 32 connections",
        durationS: memoryS,
        runPeaksMiB,
        runRates,
        samples: sampler.samples
          .slice(samplesFrom)
          .map((s) => ({ t: round(s.t), rssMiB: round(s.rssMiB) })),
        growthMiB,
        flat: growthMiB <= Math.max(10, early * 0.05),
      };
      log(
        `    run peaks (MiB): ${runPeaksMiB.join(", ")} → ${sustained.flat ? "flat" : "growing"}`,
      );
    }
    const loadEndedAt = Date.now();
    const samples = sampler.stop();
    const memory: MemoryReport = {
      pid: portal.pid,
      startMiB: round(startMiB),
      peakMiB: round(Math.max(...samples.map((s) => s.rssMiB))),
      sustained,
    };
    await portal.stop();
    const exitedAt = Date.now();
    if (profiling) {
      // Only the load phase: start-up (module loading, migrations) is not what we look for.
      const window = {
        fromS: (exitedAt - loadStartedAt) / 1000,
        toS: (exitedAt - loadEndedAt) / 1000,
      };
      profile = summarizeProfile(mainThreadProfile(profileDir), 25, window);
      printProfile(profile, log);
    }
    return { http, memory, profile };
  } finally {
    sampler.stop();
    await portal.stop();
    await database?.close();
  }
}

async function main() {
  const startedAt = new Date();
  const machine = await describeMachine();
  log(
    `bench: ${quick ? "QUICK mode (1 run × 2 s, figures are indicative only)" : `${httpPlan.runs} runs × ${httpPlan.durationS} s after ${httpPlan.warmupS} s warm-up`}`,
  );
  log(
    `machine: ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAverage.join(" ")}`,
  );
  const drivers: Driver[] = env.BENCH_DB
    ? (env.BENCH_DB.split(",").map((d) => d.trim()) as Driver[])
    : ["pglite", ...(env.DATABASE_URL ? (["postgres"] as const) : [])];
  if (drivers.includes("postgres") && !env.DATABASE_URL)
    throw new Error("BENCH_DB=postgres needs DATABASE_URL");
  const needsHttp = ["floors", "me", "flow", "memory"].some((s) => wants(s as Section));
  const build = needsHttp ? ensureBuild(log) : null;
  if (build)
    log(
      `build: apps/portal/${build.distDir} ${build.buildId} (${build.rebuilt ? "built now" : `built ${build.builtAt}`})`,
    );

  let nodeFloor: HttpLine = {};
  if (wants("floors")) {
    log("node:http floor (bare server in its own process) …");
    const server = await startNodeFloor();
    try {
      nodeFloor = await measureLine(
        server.url,
        async (send) => {
          const response = await send("GET", "/");
          if (response.status !== 200) throw new UnexpectedResponse("node floor", response);
        },
        "GET / on node:http",
      );
    } finally {
      await server.stop();
    }
  }

  const targets: TargetReport[] = [];
  for (const driver of drivers) {
    const before = loadAverage();
    log(`\n== ${driver} ==`);
    const version = await databaseVersion(driver);
    let inProcess: InProcessReport | null = null;
    if (wants("in-process")) {
      log("  in-process (server-side caller, concurrency 1) …");
      inProcess = await benchInProcess(driver, inProcessPlan);
    }
    const httpPart = needsHttp
      ? await benchHttp(driver)
      : {
          http: {
            serverEnv: {},
            doorFloor: {},
            nextFloor: {},
            me: {},
            flow: {},
            ratioToDoorFloor: {},
          },
          memory: { pid: 0, startMiB: Number.NaN, peakMiB: Number.NaN, sustained: null },
          profile: null,
        };
    targets.push({
      database: driver,
      databaseVersion: version,
      inProcess,
      ...httpPart,
      loadAverage: { before, after: loadAverage() },
    });
  }

  const goals: Report["goals"] = [];
  for (const target of targets) {
    const flow = target.http.flow.c32;
    const me = target.http.me.c32;
    const sustained = target.memory.sustained;
    goals.push(
      {
        database: target.database,
        goal: "issue + exchange at concurrency 32 ≥ 700 flows/s",
        measured: flow?.ratePerS ?? null,
        met: flow ? flow.ratePerS >= 700 : null,
      },
      {
        database: target.database,
        goal: "issue + exchange at concurrency 32: p99 ≤ 90 ms",
        measured: flow?.p99Ms ?? null,
        met: flow ? flow.p99Ms <= 90 : null,
      },
      {
        database: target.database,
        goal: "GET me at concurrency 32 ≥ 3,000 req/s",
        measured: me?.ratePerS ?? null,
        met: me ? me.ratePerS >= 3000 : null,
      },
      {
        database: target.database,
        goal:
          memoryS > 0
            ? `server RSS flat under ${memoryS} s load (growth MiB, later runs vs early runs)`
            : "server RSS flat under load (not run in quick mode; peak reported)",
        measured: sustained?.growthMiB ?? null,
        met: sustained ? sustained.flat : null,
      },
    );
  }

  const report: Report = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick,
    machine: { ...machine, loadAverageAfter: loadAverage() },
    build,
    plan: { http: httpPlan, inProcess: inProcessPlan, memoryS, concurrency: CONCURRENCY },
    nodeFloor,
    targets,
    goals,
  };
  const dir = join(repoRoot, "bench/reports");
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const text = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(dir, `${stamp}.json`), text);
  writeFileSync(join(dir, "latest.json"), text);
  printReport(report, log);
  log(`\nreport: bench/reports/${stamp}.json (and bench/reports/latest.json)`);
}

await main();
