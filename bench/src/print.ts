// The table `pnpm bench` prints.
import { IMPERSONATE_LIMIT_PER_MINUTE, type OpFigures } from "./in-process";
import type { HttpLine, Report } from "./report";

/** Progress and the table go to stdout, line by line as the run goes. */
export const log = (line: string) => console.log(line);

const pad = (value: string | number | null | undefined, width: number) =>
  String(value ?? "–").padStart(width);
const padEnd = (value: string | number | null | undefined, width: number) =>
  String(value ?? "–").padEnd(width);

function opRow(label: string, op: OpFigures | undefined): string {
  if (!op) return `  ${padEnd(label, 34)}${pad("–", 9)}`;
  return (
    `  ${padEnd(label, 34)}${pad(op.p50Ms, 9)}${pad(op.p99Ms, 9)}${pad(op.opsPerS, 9)}` +
    `${pad(op.statementsPerOp, 8)}${pad(op.floorMs, 10)}${pad(op.floorRatio === undefined ? undefined : `${op.floorRatio}×`, 8)}`
  );
}

function httpRows(
  label: string,
  line: HttpLine,
  floor: HttpLine | null,
  requestsPerOp: number,
  unit: string,
): string[] {
  return (["c1", "c32"] as const).flatMap((key) => {
    const result = line[key];
    if (!result) return [];
    const floorRate = floor?.[key]?.ratePerS;
    const ratio = floorRate
      ? `${Math.round(((result.ratePerS * requestsPerOp) / floorRate) * 100)}%`
      : "";
    const cpu = result.cpu
      ? `${result.cpu.serverMs} / ${result.cpu.postgresMs} / ${result.cpu.loadGeneratorMs} (${Math.round(result.cpu.machineBusy * 100)}%)`
      : "";
    return [
      `  ${padEnd(label, 34)}${pad(result.concurrency, 5)}${pad(`${result.ratePerS} ${unit}`, 16)}${pad(result.p50Ms, 9)}${pad(result.p99Ms, 9)}` +
        `${pad(result.errors, 7)}${pad(ratio, 10)}  ${cpu}`,
    ];
  });
}

export function printReport(report: Report, log: (line: string) => void): void {
  const m = report.machine;
  log("");
  log(
    `=== pnpm bench ${report.quick ? "(QUICK: 1 run × 2 s, indicative only)" : ""} — ${report.startedAt}`,
  );
  log(
    `machine: ${m.nproc} cores ${m.cpuModel}, node ${m.node}, ${m.os}, ${m.memoryGiB} GiB; load average ${m.loadAverage.join(" ")} → ${m.loadAverageAfter?.join(" ")}; CPU busy before start ${Math.round(m.cpuBusyBeforeStart * 100)}%`,
  );
  const plan = report.plan.http;
  log(
    `HTTP: median of ${plan.runs} run(s) × ${plan.durationS} s after ${plan.warmupS} s warm-up, keep-alive connections = concurrency; server IMPERSONATE_LIMIT_PER_MINUTE=${IMPERSONATE_LIMIT_PER_MINUTE}`,
  );
  if (report.nodeFloor.c1 || report.nodeFloor.c32) {
    log("");
    log(
      `  ${padEnd("node:http floor (bare server)", 34)}${pad("conc", 5)}${pad("rate", 16)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 7)}`,
    );
    for (const row of httpRows("GET / on node:http", report.nodeFloor, null, 1, "req/s")) log(row);
  }
  for (const target of report.targets) {
    log("");
    log(`--- ${target.database}: ${target.databaseVersion}`);
    const ip = target.inProcess;
    if (ip) {
      log(
        `  ${padEnd("in-process (server-side caller, c=1)", 34)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("ops/s", 9)}${pad("stmts", 8)}${pad("floor ms", 10)}${pad("×floor", 8)}`,
      );
      log(opRow("floor: sign (EdDSA, node one-shot)", ip.floor.sign));
      log(opRow("  same token, jose SignJWT", ip.floor.signJose));
      log(opRow("floor: verify (jose, imp. token)", ip.floor.verify));
      log(opRow("floor: UPDATE … RETURNING (1 row)", ip.floor.update));
      log(opRow("floor: select 1", ip.floor.select1));
      log(opRow("UPDATE, 32 callers, one row", ip.contention.sameRowC32));
      log(opRow("  same, asynchronous commit", ip.contention.sameRowAsyncCommitC32));
      log(opRow("UPDATE, 32 callers, own rows", ip.contention.ownRowC32));
      log(opRow("me", ip.operations.me));
      log(opRow("issue (staff)", ip.operations.issue));
      log(opRow("exchange", ip.operations.exchange));
      log(opRow("issue + exchange (flow)", ip.operations.flow));
    }
    const http = target.http;
    if ([http.doorFloor, http.me, http.flow].some((line) => line.c1 || line.c32)) {
      log("");
      log(
        `  ${padEnd("HTTP (production server)", 34)}${pad("conc", 5)}${pad("rate", 16)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 7)}${pad("req/door", 10)}  CPU ms per op: server / PostgreSQL / load generator (machine busy)`,
      );
      const rows: [string, HttpLine, number, string][] = [
        ["door floor: GET jwks.json", http.doorFloor, 1, "req/s"],
        ["Next floor: GET /api/health", http.nextFloor, 1, "req/s"],
        ["GET /api/sys/users/me", http.me, 1, "req/s"],
        ["  same, DPoP-bound", http.meDpop, 1, "req/s"],
        ["issue + exchange", http.flow, 2, "flows/s"],
      ];
      for (const [label, line, requests, unit] of rows)
        for (const row of httpRows(label, line, http.doorFloor, requests, unit)) log(row);
    }
    const sealing = target.sealing;
    if (sealing) {
      log("");
      log(
        `  ${padEnd(`${sealing.concurrency} concurrent sign-ins (batches)`, 34)}${pad("batch ms", 10)}${pad("rate", 12)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 7)}  server CPU ms per sign-in`,
      );
      for (const [label, figures] of [
        ["  audit sealing on", sealing.on],
        ["  audit sealing off", sealing.off],
      ] as const)
        log(
          `  ${padEnd(label, 34)}${pad(figures.batchMs, 10)}${pad(`${figures.ratePerS} /s`, 12)}${pad(figures.p50Ms, 9)}${pad(figures.p99Ms, 9)}${pad(figures.errors, 7)}  ${figures.serverCpuMsPerSignIn ?? ""}`,
        );
      log(
        `  ${padEnd("  on ÷ off", 34)}${pad(`${sealing.ratio.batch}×`, 10)}${pad(`${sealing.ratio.rate}×`, 12)}${pad(`${sealing.ratio.p50}×`, 9)}${pad(`${sealing.ratio.p99}×`, 9)}`,
      );
    }
    const memory = target.memory;
    const sustained = memory.sustained;
    log(
      `  server RSS (pid ${memory.pid}): ${memory.startMiB} MiB at start, peak ${memory.peakMiB} MiB` +
        (sustained
          ? `; ${sustained.durationS} s sustained load, 10-s run peaks ${sustained.runPeaksMiB.join(" ")} MiB → ${sustained.flat ? "flat" : "GROWING"} (lowest RSS, later runs vs earlier: ${sustained.growthMiB >= 0 ? "+" : ""}${sustained.growthMiB} MiB)`
          : ""),
    );
    log(
      `  load average during ${target.database}: ${target.loadAverage.before.join(" ")} → ${target.loadAverage.after.join(" ")}`,
    );
  }
  if (report.goals.length) {
    log("");
    log("goals (concurrency 32; the PostgreSQL line is the one the targets are set for):");
    for (const goal of report.goals) {
      const verdict = goal.met === null ? "not measured" : goal.met ? "met" : "NOT met";
      log(
        `  ${padEnd(goal.database, 9)} ${padEnd(goal.goal, 72)} ${pad(goal.measured, 9)}  ${verdict}`,
      );
    }
  }
}
