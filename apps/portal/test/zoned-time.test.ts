// Times in the location's zone: formatting with the zone named, and calendar days of a zone as
// the instants the audit filters take, across both of a year's clock changes.
import { describe, expect, it } from "vitest";
import { dayStartInZone, formatInZone, nextDay, shownZone } from "../src/components/zoned-time";

describe("formatInZone", () => {
  it("shows the time in the zone, with the zone named", () => {
    expect(formatInZone("2026-12-07T21:04:05Z", "Europe/London")).toBe(
      "7 Dec 2026, 21:04:05 (Europe/London)",
    );
    expect(formatInZone("2026-07-07T21:04:05Z", "Europe/London")).toBe(
      "7 Jul 2026, 22:04:05 (Europe/London)",
    );
    expect(formatInZone("2026-12-07T23:30:00Z", "Europe/Madrid")).toBe(
      "8 Dec 2026, 00:30:00 (Europe/Madrid)",
    );
    expect(formatInZone("2026-12-07T23:30:00Z", "Europe/Madrid", true)).toBe(
      "00:30:00 (Europe/Madrid)",
    );
  });

  it("falls back to UTC, and says so, for a zone the runtime does not know", () => {
    expect(shownZone("Mars/Olympus_Mons")).toBe("UTC");
    expect(formatInZone("2026-12-07T21:04:05Z", "Mars/Olympus_Mons")).toBe(
      "7 Dec 2026, 21:04:05 (UTC)",
    );
  });
});

describe("dayStartInZone", () => {
  it("gives the instant the day begins in the zone", () => {
    expect(dayStartInZone("2026-12-07", "Europe/London")).toBe("2026-12-07T00:00:00.000Z");
    expect(dayStartInZone("2026-07-01", "Europe/London")).toBe("2026-06-30T23:00:00.000Z");
    expect(dayStartInZone("2026-12-07", "Europe/Madrid")).toBe("2026-12-06T23:00:00.000Z");
    expect(dayStartInZone("2026-12-07", "America/New_York")).toBe("2026-12-07T05:00:00.000Z");
    expect(dayStartInZone("2026-12-07", "Asia/Kolkata")).toBe("2026-12-06T18:30:00.000Z");
    expect(dayStartInZone("2026-12-07", "UTC")).toBe("2026-12-07T00:00:00.000Z");
  });

  it("uses the day's own offset on the days the clocks change", () => {
    // London: on 29 March 2026 the clocks go forward at 01:00, on 25 October back at 02:00.
    expect(dayStartInZone("2026-03-29", "Europe/London")).toBe("2026-03-29T00:00:00.000Z");
    expect(dayStartInZone("2026-03-30", "Europe/London")).toBe("2026-03-29T23:00:00.000Z");
    expect(dayStartInZone("2026-10-25", "Europe/London")).toBe("2026-10-24T23:00:00.000Z");
    expect(dayStartInZone("2026-10-26", "Europe/London")).toBe("2026-10-26T00:00:00.000Z");
  });

  it("refuses what is not a calendar day", () => {
    for (const day of ["2026-02-30", "2026-13-01", "07/12/2026", "", "0099-01-01", "9999-12-31"])
      expect(dayStartInZone(day, "Europe/London"), day).toBeNull();
  });

  it("counts the next day across months and years", () => {
    expect(nextDay("2026-12-31")).toBe("2027-01-01");
    expect(nextDay("2028-02-28")).toBe("2028-02-29");
  });
});
