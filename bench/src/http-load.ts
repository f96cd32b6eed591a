// A bounded closed-loop load generator: N workers sharing N keep-alive connections (no
// pipelining; http-client.ts), each doing one operation after another until the deadline.
// An operation is one request, or a flow of several (issue, then exchange); its latency is the
// whole of it.
import { createClient, type HttpResponse, type Send } from "./http-client";
import { cpuPerOp, cpuSnapshot, type CpuPerOp } from "./cpu";
import { median, now, round, summarize, type LatencySummary } from "./stats";

export { createClient, type HttpResponse, type Send };

/** One operation; throws (or returns false) when the answer is not the expected one. */
export type Operation = (send: Send) => Promise<void>;

export class UnexpectedResponse extends Error {
  constructor(
    readonly step: string,
    readonly response: HttpResponse,
  ) {
    super(`${step}: HTTP ${response.status} ${response.text.slice(0, 200)}`);
  }
}

export interface RunResult {
  durationS: number;
  completed: number;
  errors: number;
  firstError: string | null;
  ratePerS: number;
  latencyMs: LatencySummary;
  /** CPU per operation during the run (when the server's process id is known). */
  cpu?: CpuPerOp | null;
}

export interface LoadResult {
  concurrency: number;
  runs: RunResult[];
  /** Medians over the runs. */
  ratePerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError: string | null;
  /** Medians over the runs, field by field. */
  cpu: CpuPerOp | null;
}

/** Runs `operation` with `concurrency` workers for `durationS` seconds. */
export async function runFor(
  send: Send,
  operation: Operation,
  concurrency: number,
  durationS: number,
): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const started = now();
  const deadline = started + durationS * 1000;
  const worker = async () => {
    while (now() < deadline) {
      const t0 = now();
      try {
        await operation(send);
        latencies.push(now() - t0);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
        // Do not spin on a failing server.
        await new Promise((done) => setTimeout(done, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedS = (now() - started) / 1000;
  return {
    durationS: round(elapsedS),
    completed: latencies.length,
    errors,
    firstError,
    ratePerS: latencies.length / elapsedS,
    latencyMs: summarize(latencies),
  };
}

export interface LoadPlan {
  warmupS: number;
  runs: number;
  durationS: number;
}

/**
 * Warm-up, then `runs` measured runs; the medians are what gets reported. With the server's
 * process id, each run also reports where the CPU went per operation.
 */
export async function measure(
  origin: string,
  operation: Operation,
  concurrency: number,
  plan: LoadPlan,
  serverPid?: number,
): Promise<LoadResult> {
  const client = createClient(origin, concurrency);
  try {
    if (plan.warmupS > 0) await runFor(client.send, operation, concurrency, plan.warmupS);
    const runs: RunResult[] = [];
    for (let index = 0; index < plan.runs; index++) {
      const before = serverPid ? cpuSnapshot(serverPid) : null;
      const run = await runFor(client.send, operation, concurrency, plan.durationS);
      const after = serverPid ? cpuSnapshot(serverPid) : null;
      runs.push({ ...run, cpu: cpuPerOp(before, after, run.completed) });
    }
    const cpus = runs.map((run) => run.cpu).filter((cpu) => cpu != null);
    const errors = runs.reduce((sum, run) => sum + run.errors, 0);
    return {
      concurrency,
      runs: runs.map((run) => ({
        ...run,
        ratePerS: round(run.ratePerS),
        latencyMs: roundSummary(run.latencyMs),
      })),
      ratePerS: round(median(runs.map((run) => run.ratePerS))),
      p50Ms: round(median(runs.map((run) => run.latencyMs.p50))),
      p99Ms: round(median(runs.map((run) => run.latencyMs.p99))),
      errors,
      firstError: runs.find((run) => run.firstError)?.firstError ?? null,
      cpu:
        cpus.length === runs.length && cpus.length > 0
          ? {
              serverMs: round(median(cpus.map((cpu) => cpu.serverMs))),
              postgresMs: round(median(cpus.map((cpu) => cpu.postgresMs))),
              loadGeneratorMs: round(median(cpus.map((cpu) => cpu.loadGeneratorMs))),
              machineBusy: round(median(cpus.map((cpu) => cpu.machineBusy))),
            }
          : null,
    };
  } finally {
    await client.close();
  }
}

export function roundSummary(summary: LatencySummary): LatencySummary {
  return {
    count: summary.count,
    p50: round(summary.p50),
    p99: round(summary.p99),
    mean: round(summary.mean),
    max: round(summary.max),
  };
}
