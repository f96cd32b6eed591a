// What the figures were measured on.
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { readFileSync } from "node:fs";

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  os: string;
  memoryGiB: number;
  loadAverage: number[];
  /** Share of all cores busy during 2 s before the bench started (other work on the machine). */
  cpuBusyBeforeStart: number;
  loadAverageAfter?: number[];
}

export const loadAverage = () => loadavg().map((value) => Math.round(value * 100) / 100);

export function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

export async function describeMachine(): Promise<Machine> {
  let cpuBusyBeforeStart = Number.NaN;
  try {
    const before = cpuTimes();
    await new Promise((done) => setTimeout(done, 2000));
    const after = cpuTimes();
    cpuBusyBeforeStart =
      Math.round(((after.busy - before.busy) / Math.max(1, after.total - before.total)) * 1000) /
      1000;
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
    os: `${process.platform} ${release()}`,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    loadAverage: loadAverage(),
    cpuBusyBeforeStart,
  };
}
