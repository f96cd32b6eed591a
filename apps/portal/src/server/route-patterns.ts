// The app's route patterns (e.g. /api/public/coworkers/[coworkerId]/impersonate), read from the
// app folder, so that request metrics and logs name a route by its pattern and never by raw ids.
// Used by server.ts, outside the Next bundle: no "server-only" import here.
import { readdirSync } from "node:fs";
import { join } from "node:path";

type Segment =
  { kind: "static"; value: string } | { kind: "dynamic" } | { kind: "catchAll"; optional: boolean };

interface Pattern {
  pattern: string;
  segments: Segment[];
}

const ROUTE_FILE = /^(page|route)\.(tsx|ts|jsx|js|mdx)$/;

function parseSegment(name: string): Segment {
  if (/^\[\[\.\.\.[^\]]+\]\]$/.test(name)) return { kind: "catchAll", optional: true };
  if (/^\[\.\.\.[^\]]+\]$/.test(name)) return { kind: "catchAll", optional: false };
  if (/^\[[^\]]+\]$/.test(name)) return { kind: "dynamic" };
  return { kind: "static", value: name };
}

/** Every folder of the app that holds a page or a route handler, as a URL pattern. */
export function findRoutePatterns(appDir: string): Pattern[] {
  const found: Pattern[] = [];
  const walk = (dir: string, url: string[]) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((entry) => entry.isFile() && ROUTE_FILE.test(entry.name))) {
      found.push({ pattern: `/${url.join("/")}`, segments: url.map(parseSegment) });
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const name = entry.name;
      // Private folders are not routes; intercepting routes share their target's pattern.
      if (name.startsWith("_") || name.startsWith("(.")) continue;
      // Route groups and parallel slots add nothing to the URL.
      const grouping = /^\(.+\)$/.test(name) || name.startsWith("@");
      walk(join(dir, name), grouping ? url : [...url, name]);
    }
  };
  walk(appDir, []);
  return found;
}

/** Per segment: static beats dynamic beats catch-all, as in Next's own matching. */
function score(pattern: Pattern, parts: string[]): number[] | null {
  const ranks: number[] = [];
  let index = 0;
  for (const segment of pattern.segments) {
    if (segment.kind === "catchAll") {
      const rest = parts.length - index;
      if (rest === 0 && !segment.optional) return null;
      ranks.push(1);
      return ranks;
    }
    const part = parts[index];
    if (part === undefined) return null;
    if (segment.kind === "static") {
      if (segment.value !== part) return null;
      ranks.push(3);
    } else {
      ranks.push(2);
    }
    index++;
  }
  return index === parts.length ? ranks : null;
}

function better(a: number[], b: number[]): boolean {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const x = a[index] ?? 0;
    const y = b[index] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}

export interface RouteMatcher {
  /** The pattern that serves `path` (no query string); "/_next/*" for Next's assets; else "unmatched". */
  match(path: string): string;
}

export function routeMatcher(appDir: string): RouteMatcher {
  const patterns = findRoutePatterns(appDir);
  const cache = new Map<string, string>();
  return {
    match(path) {
      if (path.startsWith("/_next/")) return "/_next/*";
      const cached = cache.get(path);
      if (cached) return cached;
      let parts: string[];
      try {
        parts = path.split("/").filter(Boolean).map(decodeURIComponent);
      } catch {
        return "unmatched";
      }
      let best: { pattern: string; ranks: number[] } | null = null;
      for (const pattern of patterns) {
        const ranks = score(pattern, parts);
        if (ranks && (!best || better(ranks, best.ranks)))
          best = { pattern: pattern.pattern, ranks };
      }
      const result = best?.pattern ?? "unmatched";
      // Only known patterns are remembered: arbitrary paths must not grow the cache.
      if (best && cache.size < 10_000) cache.set(path, result);
      return result;
    },
  };
}
