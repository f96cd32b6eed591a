// Whether the server's memory held flat under sustained load, judged from the RSS samples of
// consecutive runs of the same load.
import { round } from "./stats";

export interface MemoryVerdict {
  /** Lowest RSS of the later runs minus that of the earlier runs, MiB. */
  growthMiB: number;
  flat: boolean;
}

/**
 * Flat: the later runs come down as low as the earlier ones. The first run is left out, as it
 * warms up (JIT, connection pool, caches); the rest are halved, and the lowest RSS of the later
 * half is compared with that of the earlier half (six runs: runs 5-6 against runs 2-4). Lows,
 * not peaks or medians: V8's major collections make a saw-tooth whose height varies from run to
 * run, so a run's peak or median depends on where it falls on a tooth; what a leak lifts is the
 * floor each collection comes back down to. Growth up to 10 MiB, or 5 % of the early low when
 * that is larger, still counts as flat.
 */
export function memoryVerdict(runSamplesMiB: number[][]): MemoryVerdict {
  const rest = runSamplesMiB.length > 1 ? runSamplesMiB.slice(1) : runSamplesMiB;
  const half = Math.ceil(rest.length / 2);
  const early = Math.min(...rest.slice(0, half).flat());
  const late = rest.length > half ? Math.min(...rest.slice(half).flat()) : early;
  const growthMiB = round(late - early);
  return { growthMiB, flat: growthMiB <= Math.max(10, early * 0.05) };
}
