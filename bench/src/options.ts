// What a `pnpm bench` run measures and for how long, read once from its BENCH_* environment
// variables (see main.ts for the list).
import type { LoadPlan } from "./http-load";
import type { InProcessPlan } from "./in-process";

export type Driver = "pglite" | "postgres";
export type Section =
  | "in-process"
  | "floors"
  | "me"
  | "flow"
  | "memory"
  | "processes"
  | "export"
  | "scale";

const env = process.env;
const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

export const quick = env.BENCH_QUICK === "1";
export const profiling = env.BENCH_PROFILE === "1";

const only = new Set(
  (env.BENCH_ONLY ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
export const wants = (section: Section) => only.size === 0 || only.has(section);
/** Any section that needs the production server (and so its build). */
export const needsHttp = (["floors", "me", "flow", "memory", "scale"] as const).some(wants);

export const CONCURRENCY = (
  env.BENCH_CONCURRENCY ? env.BENCH_CONCURRENCY.split(",").map(Number) : [1, 32]
) as readonly (1 | 32)[];

export const httpPlan: LoadPlan = quick
  ? { warmupS: 0.5, runs: 1, durationS: 2 }
  : {
      warmupS: number("BENCH_WARMUP_S", 3),
      runs: number("BENCH_RUNS", 3),
      durationS: number("BENCH_DURATION_S", 10),
    };
export const inProcessPlan: InProcessPlan = quick
  ? { warmupS: 0.2, runs: 1, durationS: 0.5 }
  : { warmupS: 1, runs: 3, durationS: 3 };
/** The sustained-load memory section: its whole length, cut into runs of MEMORY_RUN_S. */
export const memoryS = quick ? 0 : number("BENCH_MEMORY_S", 60);
export const MEMORY_RUN_S = 10;

/** PGlite always; PostgreSQL when DATABASE_URL is set; BENCH_DB chooses explicitly. */
export function chosenDrivers(): Driver[] {
  const drivers: Driver[] = env.BENCH_DB
    ? (env.BENCH_DB.split(",").map((d) => d.trim()) as Driver[])
    : ["pglite", ...(env.DATABASE_URL ? (["postgres"] as const) : [])];
  if (drivers.includes("postgres") && !env.DATABASE_URL)
    throw new Error("BENCH_DB=postgres needs DATABASE_URL");
  return drivers;
}

/** The sections that need PostgreSQL (several processes on one database; a million-event log). */
export const postgresSections = (["processes", "export"] as const).filter(
  (section) => wants(section) && Boolean(env.DATABASE_URL),
);
