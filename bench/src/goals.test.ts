// The goals table is what a reader of the bench looks at first: a goal must read met, NOT met or
// not measured exactly as its figure says.
import { describe, expect, it } from "vitest";
import { evaluateGoals } from "./goals";
import type { LoadResult } from "./http-load";
import { emptyHttpReport, type SustainedMemory, type TargetReport } from "./report";

const atC32 = (ratePerS: number, p99Ms: number): LoadResult => ({
  concurrency: 32,
  runs: [],
  ratePerS,
  p50Ms: p99Ms / 2,
  p99Ms,
  errors: 0,
  firstError: null,
  cpu: null,
});

const sustained = (growthMiB: number, flat: boolean): SustainedMemory => ({
  load: "mixed",
  durationS: 60,
  runPeaksMiB: [],
  runRates: [],
  samples: [],
  growthMiB,
  flat,
});

function target(
  flow: LoadResult | undefined,
  me: LoadResult | undefined,
  memory: SustainedMemory | null,
): Pick<TargetReport, "database" | "http" | "memory"> {
  return {
    database: "postgres",
    http: { ...emptyHttpReport(), flow: { c32: flow }, me: { c32: me } },
    memory: { pid: 1, startMiB: 100, peakMiB: 100, sustained: memory },
  };
}

const verdicts = (goals: ReturnType<typeof evaluateGoals>) =>
  goals.map(({ measured, met }) => [measured, met]);

describe("evaluateGoals", () => {
  it("meets every goal when the figures are within their targets", () => {
    const goals = evaluateGoals([target(atC32(700, 90), atC32(3000, 5), sustained(2, true))], 60);
    expect(verdicts(goals)).toEqual([
      [700, true],
      [90, true],
      [3000, true],
      [2, true],
    ]);
    expect(goals.every((goal) => goal.database === "postgres")).toBe(true);
    expect(goals[3]!.goal).toContain("under 60 s load");
  });

  it("misses each goal whose figure falls short", () => {
    const goals = evaluateGoals([target(atC32(699, 91), atC32(2999, 5), sustained(40, false))], 60);
    expect(verdicts(goals)).toEqual([
      [699, false],
      [91, false],
      [2999, false],
      [40, false],
    ]);
  });

  it("reports a goal whose section did not run as not measured, not as missed", () => {
    const goals = evaluateGoals([target(undefined, undefined, null)], 0);
    expect(verdicts(goals)).toEqual([
      [null, null],
      [null, null],
      [null, null],
      [null, null],
    ]);
    expect(goals[3]!.goal).toContain("not run in quick mode");
  });

  it("gives each database its own four goals", () => {
    const pglite = { ...target(undefined, undefined, null), database: "pglite" as const };
    const goals = evaluateGoals([pglite, target(undefined, undefined, null)], 0);
    expect(goals.map((goal) => goal.database)).toEqual([
      ...["pglite", "pglite", "pglite", "pglite"],
      ...["postgres", "postgres", "postgres", "postgres"],
    ]);
  });
});
