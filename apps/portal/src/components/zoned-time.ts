// Times as a location reads them (CONTRACT §11): in the location's IANA time zone, with the zone
// named, and calendar days of that zone turned into instants for the audit filters. Pure: server
// pages and client components both use it.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, kind: "date-time" | "time" | "parts"): Intl.DateTimeFormat {
  const key = `${kind} ${timeZone}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(
      "en-GB",
      kind === "date-time"
        ? { dateStyle: "medium", timeStyle: "medium", timeZone }
        : kind === "time"
          ? { timeStyle: "medium", timeZone }
          : {
              timeZone,
              hourCycle: "h23",
              year: "numeric",
              month: "2-digit",
              day: "2-digit",
              hour: "2-digit",
              minute: "2-digit",
              second: "2-digit",
            },
    );
    formatters.set(key, format);
  }
  return format;
}

/**
 * The zone to show times in: the location's, or UTC when the runtime does not know it (a zone
 * the database holds but this Node's ICU lacks must not take the page down). The name returned
 * is the one shown, so the reader is never told a zone the times are not in.
 */
export function shownZone(timeZone: string): string {
  try {
    formatter(timeZone, "date-time");
    return timeZone;
  } catch {
    return "UTC";
  }
}

/** The time as the zone reads it ("7 Dec 2026, 21:04:05"), and the zone it is in. */
export function partsInZone(
  iso: string,
  timeZone: string,
  clockOnly = false,
): { text: string; zone: string } {
  const zone = shownZone(timeZone);
  return { text: formatter(zone, clockOnly ? "time" : "date-time").format(new Date(iso)), zone };
}

/** "7 Dec 2026, 21:04:05 (Europe/London)"; with `clockOnly`, "21:04:05 (Europe/London)". */
export function formatInZone(iso: string, timeZone: string, clockOnly = false): string {
  const { text, zone } = partsInZone(iso, timeZone, clockOnly);
  return `${text} (${zone})`;
}

/** How far the zone's wall clock is ahead of UTC at an instant, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    formatter(timeZone, "parts")
      .formatToParts(new Date(instant))
      .map((part) => [part.type, part.value]),
  );
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a calendar day (`YYYY-MM-DD`) begins in a zone, as ISO 8601, or null for no such
 * day. The offset is taken twice: once at the UTC midnight, then at the instant that gives, so a
 * day whose offset differs from the one 24 h around it still starts at its own midnight.
 */
export function dayStartInZone(day: string, timeZone: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Four-digit years only, both ends of a range included: what ISO 8601 instants can carry.
  if (year < 1000 || year > 9998) return null;
  const midnight = Date.UTC(year, month - 1, date);
  const check = new Date(midnight);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1) return null;
  if (check.getUTCDate() !== date) return null;
  const zone = shownZone(timeZone);
  const first = midnight - offsetAt(midnight, zone);
  return new Date(midnight - offsetAt(first, zone)).toISOString();
}

/** The calendar day after `YYYY-MM-DD` (the exclusive end of a range that includes the day). */
export function nextDay(day: string): string {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, date + 1)).toISOString().slice(0, 10);
}
