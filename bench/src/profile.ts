// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function, and inclusive time by
// area (which library or layer a frame belongs to), so BENCHMARKS.md can say what dominates.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** Seconds before the process exited that the summary covers (the load phase), if limited. */
  window?: { fromS: number; toS: number };
  totalMs: number;
  /** Share of samples that were not idle. */
  busyShare: number;
  topSelf: { frame: string; area: string; selfMs: number; share: number }[];
  /** Inclusive time: samples with a frame of the area anywhere on the stack (node internals left out). */
  areas: { area: string; inclusiveMs: number; share: number }[];
  /**
   * Self time by owner: each sample goes to its leaf frame's area, except that node internals
   * and native code are charged to the nearest library or app frame that called them.
   */
  owners: { area: string; selfMs: number; share: number }[];
}

const INFRASTRUCTURE = /^(native\/builtin|node |\(program)/;

const AREA_RULES: [RegExp, string][] = [
  [/^jose\//, "jose (JWT sign/verify)"],
  [/^postgres\//, "postgres-js (driver)"],
  [/^@electric-sql\/pglite/, "PGlite (embedded database)"],
  [/^drizzle-orm\//, "drizzle-orm"],
  [/^@trpc\//, "tRPC"],
  [/^zod\//, "zod"],
  [/^@opentelemetry\//, "@opentelemetry/api (no-op tracer)"],
  [/\/packages\/api\//, "@cowork/api"],
  [/\/packages\/auth\//, "@cowork/auth"],
  [/\/packages\/db\//, "@cowork/db"],
  [/^react-dom\//, "react-dom"],
  [/next\/dist\/compiled\/next-server\/app-route/, "Next app-route runtime"],
  [
    /next\/dist\/server\/base-server|next\/dist\/server\/next-server|next\/dist\/server\/lib\/router|next\/dist\/server\/route-modules/,
    "Next server (routing, request handling)",
  ],
  [
    /next\/dist\/server\/web|next\/dist\/server\/base-http|next\/dist\/server\/send-response|next\/dist\/server\/lib/,
    "Next server (request/response adapters)",
  ],
  [/next\/dist\/compiled\//, "Next compiled deps"],
  [/next\/dist\//, "Next (other)"],
  [/\/apps\/portal\/src\//, "portal (route glue)"],
  [/\/server\/chunks\/|\/server\/app\//, "app bundle (unmapped)"],
  [/^undici\/|node:internal\/deps\/undici/, "undici (fetch/Request/Response/Headers)"],
  [/^node:internal\/(streams|webstreams)/, "node streams"],
  [/^node:internal\/(crypto)/, "node crypto"],
  [/^node:(internal\/)?(http|_http|net|stream)/, "node http/net"],
  [/^node:/, "node (other)"],
  [/^tsx\//, "tsx loader"],
];

const sourceMaps = new Map<string, SourceMap | null>();

/**
 * Bundled code (the Next build's server chunks, minified) is mapped back to its original source
 * through the chunk's source map, so frames name the library or file they come from.
 */
function original(frame: CallFrame): CallFrame {
  if (!frame.url.startsWith("file://") || !/\/\.next[^/]*\/server\//.test(frame.url)) return frame;
  const file = fileURLToPath(frame.url);
  let map = sourceMaps.get(file);
  if (map === undefined) {
    try {
      map = existsSync(`${file}.map`)
        ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")) as never)
        : null;
    } catch {
      map = null;
    }
    sourceMaps.set(file, map);
  }
  if (!map) return frame;
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as {
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
    name?: string;
  };
  if (!entry.originalSource) return frame;
  const source = entry.originalSource.startsWith("file://")
    ? fileURLToPath(entry.originalSource)
    : resolve(dirname(file), decodeURIComponent(entry.originalSource));
  return {
    functionName:
      frame.functionName && frame.functionName.length > 2
        ? frame.functionName
        : entry.name || frame.functionName,
    url: source,
    lineNumber: entry.originalLine ?? 0,
    columnNumber: entry.originalColumn ?? 0,
  };
}

function areaOf(frame: CallFrame): string {
  if (frame.url === "") {
    if (frame.functionName === "(idle)") return "(idle)";
    if (frame.functionName === "(garbage collector)") return "(garbage collector)";
    if (frame.functionName === "(program)") return "(program: native, not attributed)";
    return "native/builtin";
  }
  const url = frame.url.includes("/node_modules/") ? shortUrl(frame.url) : frame.url;
  for (const [pattern, area] of AREA_RULES) if (pattern.test(url)) return area;
  return "other JS";
}

function shortUrl(url: string): string {
  const marker = url.lastIndexOf("/node_modules/");
  if (marker >= 0) return url.slice(marker + "/node_modules/".length);
  const root = url.indexOf("/work/main/");
  return root >= 0 ? url.slice(root + "/work/main/".length) : url;
}

/**
 * The profile of a process's main thread in a --cpu-prof folder (worker threads, such as the
 * module loader's, write their own files: CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile).
 */
export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
  const main = files.find((name) => name.split(".")[4] === "0") ?? files[0];
  if (!main) throw new Error(`no .cpuprofile in ${dir}`);
  return join(dir, main);
}

/**
 * Summarizes a profile. `window` keeps only the samples taken between two instants given as
 * seconds before the end of the profile (the process's exit), e.g. the load phase only.
 */
export function summarizeProfile(
  file: string,
  top = 25,
  window?: { fromS: number; toS: number },
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const keepFrom = window ? profile.endTime - window.fromS * 1e6 : -Infinity;
  const keepTo = window ? profile.endTime - window.toS * 1e6 : Infinity;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    node.callFrame = original(node.callFrame);
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index] ?? 0;
    if (at < keepFrom || at > keepTo) return;
    const delta = profile.timeDeltas[index + 1] ?? 0;
    totalUs += delta;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    if (byId.get(id)?.callFrame.functionName === "(idle)") idleUs += delta;
  });
  // Self time by function (frame identity: name and location).
  const selfByFrame = new Map<string, { area: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const key = frame.url
      ? `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
      : frame.functionName;
    const entry = selfByFrame.get(key) ?? { area: areaOf(frame), us: 0 };
    entry.us += us;
    selfByFrame.set(key, entry);
  }
  // Inclusive time by area: every area on the sample's stack gets the sample once.
  const inclusive = new Map<string, number>();
  const owners = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const areas = new Set<string>();
    let owner: string | null = null;
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const frame = byId.get(node)!.callFrame;
      if (frame.functionName === "(root)") continue;
      const area = areaOf(frame);
      if (!INFRASTRUCTURE.test(area)) {
        areas.add(area);
        owner ??= area;
      }
    }
    owner ??= areaOf(byId.get(id)!.callFrame);
    for (const area of areas) inclusive.set(area, (inclusive.get(area) ?? 0) + us);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => Math.round((us / busyUs) * 1000) / 1000;
  // The three tables rank the same way: most time first, idle time left out.
  const busiest = <T>(byKey: Map<string, T>, usOf: (value: T) => number) =>
    [...byKey.entries()]
      .filter(([key]) => key !== "(idle)")
      .sort((a, b) => usOf(b[1]) - usOf(a[1]));
  return {
    file,
    ...(window ? { window } : {}),
    totalMs: ms(totalUs),
    busyShare: Math.round((busyUs / Math.max(1, totalUs)) * 1000) / 1000,
    topSelf: busiest(selfByFrame, (entry) => entry.us)
      .slice(0, top)
      .map(([frame, { area, us }]) => ({ frame, area, selfMs: ms(us), share: share(us) })),
    areas: busiest(inclusive, (us) => us).map(([area, us]) => ({
      area,
      inclusiveMs: ms(us),
      share: share(us),
    })),
    owners: busiest(owners, (us) => us).map(([area, us]) => ({
      area,
      selfMs: ms(us),
      share: share(us),
    })),
  };
}

export function printProfile(summary: ProfileSummary, log: (line: string) => void): void {
  log(
    `profile ${summary.file}: ${summary.totalMs} ms sampled, ${(summary.busyShare * 100).toFixed(1)}% busy`,
  );
  log(
    "  busy time by owner (node internals and native code charged to the library or app frame that called them):",
  );
  for (const owner of summary.owners.slice(0, 16))
    log(`    ${(owner.share * 100).toFixed(1).padStart(5)}%  ${owner.area}`);
  log("  inclusive time by area (a sample counts in every area on its stack):");
  for (const area of summary.areas.slice(0, 16))
    log(`    ${(area.share * 100).toFixed(1).padStart(5)}%  ${area.area}`);
  log("  top frames by self time:");
  for (const frame of summary.topSelf)
    log(`    ${(frame.share * 100).toFixed(1).padStart(5)}%  ${frame.frame}  [${frame.area}]`);
}
