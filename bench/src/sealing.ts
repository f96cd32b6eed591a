// CONTRACT §9: "32 concurrent sign-ins in one location take no longer with sealing on than off".
// Two production servers, each on a database of its own, one running the audit sealer and one
// started with AUDIT_SEALING=off, both signing in the same staff account (one location) with 32
// workers. Their runs are taken in turn (on, off, then off, on, …) so that a change in the
// machine's load during the section falls on both alike. Sign-ins are slow on purpose (scrypt):
// the comparison is of throughput and latency, side by side, not against a floor.
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { type LoadPlan, measure, type RunResult } from "./http-load";
import { type Driver } from "./options";
import { type Portal, startPortal } from "./portal";
import { log } from "./print";
import { signInOperation } from "./scenarios";
import { median, round } from "./stats";

export const SEALING_CONCURRENCY = 32;

export interface SealingSide {
  /** Each measured run, in the order taken. */
  runs: RunResult[];
  /** Medians over the runs. */
  ratePerS: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMsPerOp: number | null;
  errors: number;
  firstError: string | null;
}

export interface SealingReport {
  concurrency: number;
  on: SealingSide;
  off: SealingSide;
  /** on ÷ off: a rate ratio ≥ 1 and latency ratios ≤ 1 mean sealing costs the sign-ins nothing. */
  ratio: { rate: number; p50: number; p99: number };
}

function side(runs: RunResult[]): SealingSide {
  const cpus = runs.map((run) => run.cpu?.serverMs).filter((ms) => ms != null);
  return {
    runs,
    ratePerS: round(median(runs.map((run) => run.ratePerS))),
    p50Ms: round(median(runs.map((run) => run.latencyMs.p50))),
    p99Ms: round(median(runs.map((run) => run.latencyMs.p99))),
    serverCpuMsPerOp: cpus.length === runs.length ? round(median(cpus)) : null,
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    firstError: runs.find((run) => run.firstError)?.firstError ?? null,
  };
}

async function databaseFor(driver: Driver): Promise<TestDatabase | null> {
  if (driver !== "postgres") return null;
  const database = await createTestDatabase("postgres");
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  return database;
}

export async function benchSealing(driver: Driver, plan: LoadPlan): Promise<SealingReport> {
  const databases: TestDatabase[] = [];
  const portals: Portal[] = [];
  try {
    const start = async (sealing: "on" | "off") => {
      const database = await databaseFor(driver);
      if (database) databases.push(database);
      const portal = await startPortal({
        databaseUrl: database?.url ?? null,
        env: { AUDIT_SEALING: sealing },
      });
      portals.push(portal);
      return portal;
    };
    const on = await start("on");
    const off = await start("off");
    const operation = signInOperation();
    const turn = async (portal: Portal, label: string, durationS: number) => {
      const result = await measure(
        portal.url,
        operation,
        SEALING_CONCURRENCY,
        { warmupS: 0, runs: 1, durationS },
        portal.pid,
      );
      const run = result.runs[0]!;
      log(
        `    sealing ${label}: ${run.ratePerS} sign-ins/s p50 ${run.latencyMs.p50} ms p99 ${run.latencyMs.p99} ms${run.errors ? ` errors ${run.errors} (${run.firstError})` : ""}${run.cpu ? ` · server CPU ${run.cpu.serverMs} ms per sign-in` : ""}`,
      );
      return run;
    };
    log(
      `  ${SEALING_CONCURRENCY} concurrent sign-ins, sealing on and off in turn (${plan.runs} × ${plan.durationS} s each after ${plan.warmupS} s warm-up) …`,
    );
    if (plan.warmupS > 0) {
      await measure(on.url, operation, SEALING_CONCURRENCY, { ...plan, runs: 0 });
      await measure(off.url, operation, SEALING_CONCURRENCY, { ...plan, runs: 0 });
    }
    const runs = { on: [] as RunResult[], off: [] as RunResult[] };
    for (let index = 0; index < plan.runs; index++) {
      // Alternate which goes first, so neither always follows the other's leftovers.
      const order = index % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
      for (const which of order)
        runs[which].push(await turn(which === "on" ? on : off, which, plan.durationS));
    }
    const report = { on: side(runs.on), off: side(runs.off) };
    const ratio = {
      rate: round(report.on.ratePerS / report.off.ratePerS),
      p50: round(report.on.p50Ms / report.off.p50Ms),
      p99: round(report.on.p99Ms / report.off.p99Ms),
    };
    log(
      `    on ÷ off: rate ${ratio.rate}×, p50 ${ratio.p50}×, p99 ${ratio.p99}× (medians of ${plan.runs} runs each)`,
    );
    return { concurrency: SEALING_CONCURRENCY, ...report, ratio };
  } finally {
    for (const portal of portals) await portal.stop();
    for (const database of databases) await database.close();
  }
}
