// The memory section: one mixed load held on the server for memoryS seconds, cut into runs of
// MEMORY_RUN_S so the verdict can compare the later runs with the earlier ones.
import { type Operation, createClient, runFor } from "./http-load";
import { memoryVerdict } from "./memory-verdict";
import { MEMORY_RUN_S, memoryS } from "./options";
import { residentMiB, type sampleMemory } from "./portal";
import { log } from "./print";
import type { SustainedMemory } from "./report";
import { round } from "./stats";

const CONNECTIONS = 32;

export async function sustainMemoryLoad(
  origin: string,
  pid: number,
  sampler: ReturnType<typeof sampleMemory>,
  mixed: Operation,
): Promise<SustainedMemory> {
  log(
    `  memory: ${memoryS} s of mixed load (issue + exchange flows and me, alternating) at concurrency ${CONNECTIONS} …`,
  );
  const client = createClient(origin, CONNECTIONS);
  const samplesFrom = sampler.samples.length;
  const runPeaksMiB: number[] = [];
  const runSamplesMiB: number[][] = [];
  const runRates: number[] = [];
  for (let elapsed = 0; elapsed < memoryS; elapsed += MEMORY_RUN_S) {
    const first = sampler.samples.length;
    const run = await runFor(
      client.send,
      mixed,
      CONNECTIONS,
      Math.min(MEMORY_RUN_S, memoryS - elapsed),
    );
    const inRun = sampler.samples.slice(first).map((s) => s.rssMiB);
    runSamplesMiB.push(inRun);
    runPeaksMiB.push(round(Math.max(...inRun, residentMiB(pid) ?? 0)));
    runRates.push(round(run.ratePerS));
  }
  await client.close();
  const sustained: SustainedMemory = {
    load: `issue + exchange flows and GET me, alternating, ${CONNECTIONS} connections`,
    durationS: memoryS,
    runPeaksMiB,
    runRates,
    samples: sampler.samples
      .slice(samplesFrom)
      .map((s) => ({ t: round(s.t), rssMiB: round(s.rssMiB) })),
    ...memoryVerdict(runSamplesMiB),
  };
  log(`    run peaks (MiB): ${runPeaksMiB.join(", ")} → ${sustained.flat ? "flat" : "growing"}`);
  return sustained;
}
