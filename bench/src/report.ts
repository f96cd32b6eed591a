// The shape of reports/<timestamp>.json: what main.ts writes, print.ts prints and
// check-report.ts checks.
import type { LoadPlan, LoadResult } from "./http-load";
import type { InProcessPlan, InProcessReport } from "./in-process";
import type { Machine } from "./machine";
import type { Driver } from "./options";
import type { BuildInfo } from "./portal";
import type { ProfileSummary } from "./profile";
import type { ExportReport } from "./export";
import type { ProcessesReport } from "./processes";

export interface HttpLine {
  /** Per concurrency level. */
  c1?: LoadResult;
  c32?: LoadResult;
}

export interface SustainedMemory {
  load: string;
  durationS: number;
  runPeaksMiB: number[];
  runRates: number[];
  samples: { t: number; rssMiB: number }[];
  growthMiB: number;
  flat: boolean;
}

export interface MemoryReport {
  /** VmRSS of the server process (found by its listening port). */
  pid: number;
  startMiB: number;
  peakMiB: number;
  /** The sustained load: consecutive runs, peak of each; flat = the later runs come down as low (lowest RSS). */
  sustained: SustainedMemory | null;
}

export interface HttpReport {
  serverEnv: Record<string, string>;
  /** GET /.well-known/jwks.json: a REST route with no database and no crypto. */
  doorFloor: HttpLine;
  /** GET /api/health: the server's trivial operational route. */
  nextFloor: HttpLine;
  me: HttpLine;
  /** The same `me` with a DPoP-bound token and a fresh proof on every request (RFC 9449). */
  meDpop: HttpLine;
  flow: HttpLine;
  /** Ratios to the door floor at the same concurrency, in requests/s. */
  ratioToDoorFloor: Record<string, number | null>;
}

export interface TargetReport {
  database: Driver;
  databaseVersion: string;
  inProcess: InProcessReport | null;
  http: HttpReport;
  memory: MemoryReport;
  profile: ProfileSummary | null;
  loadAverage: { before: number[]; after: number[] };
}

export interface Goal {
  database: Driver;
  goal: string;
  measured: number | null;
  met: boolean | null;
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
  goals: Goal[];
  /** One production server against two on one PostgreSQL database (null: not run). */
  processes: ProcessesReport | null;
  /** The audit export of a large log over HTTP (null: not run). */
  export: ExportReport | null;
  /** The scale section (PostgreSQL only; null when it did not run). */
  scale: ScaleReport | null;
}

/** What a section that did not run leaves in the report: empty lines, no ratios. */
export const emptyHttpReport = (serverEnv: Record<string, string> = {}): HttpReport => ({
  serverEnv,
  doorFloor: {},
  nextFloor: {},
  me: {},
  meDpop: {},
  flow: {},
  ratioToDoorFloor: {},
});

/** One operation of the scale section: medians over the runs. */
export interface ScaleLine {
  ratePerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError: string | null;
  /** CPU per operation (median over the runs): less sensitive than rates to a busy machine. */
  serverCpuMs: number | null;
  postgresCpuMs: number | null;
}

export interface TableSize {
  table: string;
  /** The planner's estimate (pg_class.reltuples). */
  rows: number;
  tableMiB: number;
  indexMiB: number;
}

export interface ScaleDatabaseReport {
  /** At concurrency 32. */
  flow: ScaleLine;
  me: ScaleLine;
  /** GET /api/sys/audit, 50 events, at concurrency 1. */
  auditFirstPage: ScaleLine;
  /** The same, `depth` events deep by keyset cursor; null when the log is too short. */
  auditDeepPage: (ScaleLine & { depth: number }) | null;
  auditLogSize: number | null;
  accessHistory: ScaleLine;
  export: {
    events: number;
    seconds: number;
    eventsPerS: number;
    rssBeforeMiB: number;
    /** The server's peak RSS while streaming, above its RSS before. */
    rssGrowthMiB: number;
    /** CPU per 1,000 events exported (Linux only). */
    cpuPerThousand: { serverMs: number; postgresMs: number; readerMs: number } | null;
  };
  /** The longest any event stayed unsealed while the flow ran at concurrency 32. */
  sealingLagS: number;
  tables: TableSize[];
}

export interface ScaleReport {
  size: string;
  sizes: { locations: number; coworkers: number; audit: number; sessions: number; grants: number };
  empty: ScaleDatabaseReport;
  scaled: ScaleDatabaseReport;
  /** Hot statements whose plan reads a large table whole (should be none). */
  seqScans: string[];
}
