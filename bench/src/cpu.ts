// Where the CPU went during a measured run, per operation: the server process (all its threads),
// every PostgreSQL process on the machine, this load generator, and the machine as a whole. Read
// from /proc, so it is Linux only; elsewhere the figures are null. CPU per operation varies far
// less from run to run than throughput on a shared machine, so it is what compares two versions.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpuTimes } from "./machine";
import { round } from "./stats";

export interface CpuSnapshot {
  /** CPU seconds so far. */
  serverS: number;
  /** By process id, so that a process ending mid-run does not count as negative time. */
  postgresS: Map<string, number>;
  loadGeneratorS: number;
  /** Clock ticks of the whole machine, busy and in all. */
  machineBusy: number;
  machineTotal: number;
}

export interface CpuPerOp {
  serverMs: number;
  postgresMs: number;
  loadGeneratorMs: number;
  /** Share of all cores busy during the run. */
  machineBusy: number;
}

let ticksPerS: number | null = null;
const clockTicks = () =>
  (ticksPerS ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100);

/** utime + stime of a process (all its threads), in seconds; null when it is gone. */
function processCpuS(pid: number | string): { name: string; cpuS: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The name is in parentheses and may hold spaces; the numbered fields follow it.
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    return { name, cpuS: (Number(fields[11]) + Number(fields[12])) / clockTicks() };
  } catch {
    return null;
  }
}

/** Every PostgreSQL process: backends and the server's own workers (WAL writer, checkpointer). */
function postgresCpuS(): Map<string, number> {
  const byPid = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const found = processCpuS(entry);
    if (found && (found.name === "postgres" || found.name.startsWith("postgres:")))
      byPid.set(entry, found.cpuS);
  }
  return byPid;
}

export function cpuSnapshot(serverPid: number): CpuSnapshot | null {
  if (process.platform !== "linux") return null;
  const server = processCpuS(serverPid);
  if (!server) return null;
  const own = process.cpuUsage();
  const machine = cpuTimes();
  return {
    serverS: server.cpuS,
    postgresS: postgresCpuS(),
    loadGeneratorS: (own.user + own.system) / 1e6,
    machineBusy: machine.busy,
    machineTotal: machine.total,
  };
}

/**
 * CPU per operation between two snapshots. A PostgreSQL process that started in between counts
 * whole; one that ended in between is lost (the server keeps its connections for the run).
 */
export function cpuPerOp(
  before: CpuSnapshot | null,
  after: CpuSnapshot | null,
  operations: number,
): CpuPerOp | null {
  if (!before || !after || operations === 0) return null;
  const perOpMs = (from: number, to: number) => round(((to - from) * 1000) / operations);
  return {
    serverMs: perOpMs(before.serverS, after.serverS),
    postgresMs: perOpMs(
      0,
      [...after.postgresS].reduce(
        (sum, [pid, cpuS]) => sum + cpuS - (before.postgresS.get(pid) ?? 0),
        0,
      ),
    ),
    loadGeneratorMs: perOpMs(before.loadGeneratorS, after.loadGeneratorS),
    machineBusy: round(
      (after.machineBusy - before.machineBusy) /
        Math.max(1, after.machineTotal - before.machineTotal),
    ),
  };
}
