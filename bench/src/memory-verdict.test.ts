// The memory verdict decides whether the bench reports a leak; it must see one in a rising floor
// and none in a saw-tooth that keeps coming back down.
import { describe, expect, it } from "vitest";
import { memoryVerdict } from "./memory-verdict";

describe("memoryVerdict", () => {
  it("calls a saw-tooth that keeps coming back to the same low flat", () => {
    const tooth = [200, 240, 280, 210];
    const runs = [[150, 190], tooth, tooth, tooth, tooth, [205, 290, 260]];
    expect(memoryVerdict(runs)).toEqual({ growthMiB: 0, flat: true });
  });

  it("calls a floor that rises run after run growing", () => {
    const runs = [100, 200, 250, 300, 350, 400].map((low) => [low + 40, low, low + 20]);
    // Runs 2-4 come down to 200, runs 5-6 only to 350.
    expect(memoryVerdict(runs)).toEqual({ growthMiB: 150, flat: false });
  });

  it("leaves out the warm-up run, and allows some growth before calling it growing", () => {
    const warmUpOnly = [[50], [200], [200], [200], [208], [208]];
    expect(memoryVerdict(warmUpOnly)).toEqual({ growthMiB: 8, flat: true });
    const beyondAllowance = [[200], [200], [200], [200], [212], [212]];
    expect(memoryVerdict(beyondAllowance)).toEqual({ growthMiB: 12, flat: false });
  });

  it("has no later runs to compare a single run with", () => {
    expect(memoryVerdict([[300, 320]])).toEqual({ growthMiB: 0, flat: true });
  });
});
