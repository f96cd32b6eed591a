// `pnpm bench`: the impersonation flow measured against its own floor, in-process and over HTTP
// against the production server, on PGlite and (when DATABASE_URL is set) on PostgreSQL.
// Prints a table and writes reports/<timestamp>.json and reports/latest.json.
//
// Environment: BENCH_QUICK=1 (1 run × 2 s, for CI), BENCH_DB=pglite,postgres, BENCH_ONLY=
// in-process,floors,me,flow,memory,processes,export,scale (a subset of the sections, for
// development; processes, export and scale run on PostgreSQL only), BENCH_CONCURRENCY=1,32,
// BENCH_PROFILE=1 (server under --cpu-prof, summary in the report), BENCH_BUILD=auto|always|never,
// BENCH_RUNS, BENCH_DURATION_S, BENCH_WARMUP_S, BENCH_MEMORY_S, NEXT_DIST_DIR,
// BENCH_EXPORT_EVENTS (the export section's log size; 1,000,000, or 20,000 in quick mode),
// BENCH_SCALE=small|tenth|full and BENCH_SCALE_URL (the scale section: scale-options.ts).
//
// This file only puts the sections in order and writes the report; options.ts reads the
// environment, scenarios.ts says what is measured, portal-target.ts measures it over HTTP,
// goals.ts judges it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { databaseVersion } from "./database-version";
import { evaluateGoals } from "./goals";
import { measureLine } from "./http-line";
import { benchInProcess, type InProcessReport } from "./in-process";
import { describeMachine, loadAverage } from "./machine";
import {
  CONCURRENCY,
  chosenDrivers,
  httpPlan,
  inProcessPlan,
  memoryS,
  needsHttp,
  postgresSections,
  quick,
  wants,
} from "./options";
import { ensureBuild, repoRoot, startNodeFloor } from "./portal";
import { benchPortal } from "./portal-target";
import { log, printReport } from "./print";
import { emptyHttpReport, type HttpLine, type Report, type TargetReport } from "./report";
import { nodeFloor as nodeFloorScenario } from "./scenarios";
import { benchExport, exportGoals } from "./export";
import { benchProcesses } from "./processes";
import { printPostgresSections } from "./print-postgres-sections";
import { benchScale } from "./scale";
import { printScale } from "./scale-print";

async function main() {
  const startedAt = new Date();
  const machine = await describeMachine();
  log(
    `bench: ${quick ? "QUICK mode (1 run × 2 s, figures are indicative only)" : `${httpPlan.runs} runs × ${httpPlan.durationS} s after ${httpPlan.warmupS} s warm-up`}`,
  );
  log(
    `machine: ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAverage.join(" ")}`,
  );
  const drivers = chosenDrivers();
  const build = needsHttp || postgresSections.length > 0 ? ensureBuild(log) : null;
  if (build)
    log(
      `build: apps/portal/${build.distDir} ${build.buildId} (${build.rebuilt ? "built now" : `built ${build.builtAt}`})`,
    );

  let nodeFloor: HttpLine = {};
  if (wants("floors")) {
    log("node:http floor (bare server in its own process) …");
    const server = await startNodeFloor();
    try {
      nodeFloor = await measureLine(server.url, nodeFloorScenario, "GET / on node:http");
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
      ? await benchPortal(driver)
      : {
          http: emptyHttpReport(),
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

  if ((wants("processes") || wants("export")) && !process.env.DATABASE_URL)
    log("\nprocesses and export: not run (they need PostgreSQL: set DATABASE_URL)");
  const processes = postgresSections.includes("processes") ? await benchProcesses() : null;
  const exportReport = postgresSections.includes("export") ? await benchExport() : null;
  const scale = wants("scale") && drivers.includes("postgres") ? await benchScale() : null;

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
    goals: [...evaluateGoals(targets, memoryS), ...(exportReport ? exportGoals(exportReport) : [])],
    processes,
    export: exportReport,
    scale,
  };
  const dir = join(repoRoot, "bench/reports");
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const text = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(dir, `${stamp}.json`), text);
  writeFileSync(join(dir, "latest.json"), text);
  printReport(report, log);
  printPostgresSections(report, log);
  if (scale) printScale(scale, log);
  log(`\nreport: bench/reports/${stamp}.json (and bench/reports/latest.json)`);
}

await main();
