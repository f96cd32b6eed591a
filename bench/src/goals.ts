// The goals the service is held to, evaluated per database from the HTTP lines at concurrency
// 32 and the sustained-load memory verdict. A goal whose section did not run is "not measured"
// (met: null) rather than missed.
import type { Goal, TargetReport } from "./report";

export function evaluateGoals(
  targets: Pick<TargetReport, "database" | "http" | "memory">[],
  memoryS: number,
): Goal[] {
  return targets.flatMap((target) => {
    const flow = target.http.flow.c32;
    const me = target.http.me.c32;
    const sustained = target.memory.sustained;
    const goal = (text: string, measured?: number, met?: boolean): Goal => ({
      database: target.database,
      goal: text,
      measured: measured ?? null,
      met: met ?? null,
    });
    return [
      goal(
        "issue + exchange at concurrency 32 ≥ 700 flows/s",
        flow?.ratePerS,
        flow && flow.ratePerS >= 700,
      ),
      goal(
        "issue + exchange at concurrency 32: p99 ≤ 90 ms",
        flow?.p99Ms,
        flow && flow.p99Ms <= 90,
      ),
      goal("GET me at concurrency 32 ≥ 3,000 req/s", me?.ratePerS, me && me.ratePerS >= 3000),
      goal(
        memoryS > 0
          ? `server RSS flat under ${memoryS} s load (growth MiB, later runs vs early runs)`
          : "server RSS flat under load (not run in quick mode; peak reported)",
        sustained?.growthMiB,
        sustained?.flat,
      ),
    ];
  });
}
