// The table of the sections that run on PostgreSQL alone: one process against two, and the
// export of a large audit log.
import type { Report } from "./report";

export function printPostgresSections(report: Report, log: (line: string) => void): void {
  const processes = report.processes;
  if (processes) {
    log("");
    log(
      `--- processes: one production server against two on one PostgreSQL database (concurrency ${processes.concurrency}, ${processes.rounds} turn(s) × ${processes.durationS} s each, taken in turn)`,
    );
    log(
      "  operation                    1 process/s   2 processes/s   ratio   p99 ms 1 → 2   CPU ms per op, servers + PostgreSQL: 1 → 2",
    );
    for (const line of [processes.flow, processes.me]) {
      const cpu = (side: typeof line.one) =>
        side.serverMs === null ? "–" : `${side.serverMs} + ${side.postgresMs}`;
      log(
        `  ${line.operation.padEnd(28)}${String(line.one.ratePerS).padStart(12)}${String(line.two.ratePerS).padStart(16)}${`${line.ratio}×`.padStart(8)}${`${line.one.p99Ms} → ${line.two.p99Ms}`.padStart(17)}   ${cpu(line.one)} → ${cpu(line.two)}`,
      );
    }
  }
  const exported = report.export;
  if (exported) {
    log("");
    log(
      `--- export: ${exported.expected.toLocaleString("en")} audit events of one location (seeded in ${exported.seedS} s, sealed by the server in ${exported.sealS} s)`,
    );
    log(
      "  format    MiB   events/s at full speed   overall/s   CPU µs per event: server / PostgreSQL   server RSS before → peak (growth)",
    );
    for (const run of exported.runs)
      log(
        `  ${run.format.padEnd(7)}${String(Math.round(run.bytes / 2 ** 20)).padStart(6)}${String(run.fullSpeedPerS ?? "–").padStart(25)}${String(run.overallPerS).padStart(12)}${(run.cpuUsPerEvent ? `${run.cpuUsPerEvent.server} / ${run.cpuUsPerEvent.postgres}` : "–").padStart(38)}   ${run.rssBeforeMiB} → ${run.rssPeakMiB} MiB (+${run.rssGrowthMiB})`,
      );
  }
}
