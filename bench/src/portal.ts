// The production portal for the HTTP benchmarks: built into NEXT_DIST_DIR (rebuilt when older
// than its sources), started as `node dist/server.js` (as `pnpm start` runs it) on a free port with its own
// throwaway database, and found again by its listening port to read its memory.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const portalDir = resolve(repoRoot, "apps/portal");
export const distDir = process.env.NEXT_DIST_DIR?.trim() || ".next";

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Newest modification time among the files the production build is made of. */
function newestSource(): number {
  let newest = 0;
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        walk(join(path, entry));
      }
    } else if (!/\.test\.tsx?$/.test(path)) {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const path of ["src", "next.config.ts", "server.ts"]) walk(join(portalDir, path));
  for (const pkg of readdirSync(join(repoRoot, "packages")))
    walk(join(repoRoot, "packages", pkg, "src"));
  return newest;
}

export interface BuildInfo {
  distDir: string;
  buildId: string;
  builtAt: string;
  rebuilt: boolean;
}

/**
 * Makes sure a production build exists in NEXT_DIST_DIR and is not older than the sources.
 * BENCH_BUILD=always rebuilds, BENCH_BUILD=never uses whatever is there.
 */
export function ensureBuild(log: (line: string) => void): BuildInfo {
  const mode = process.env.BENCH_BUILD ?? "auto";
  const buildIdFile = join(portalDir, distDir, "BUILD_ID");
  const exists = existsSync(buildIdFile);
  const stale = exists && statSync(buildIdFile).mtimeMs < newestSource();
  let rebuilt = false;
  if (mode === "always" || (mode !== "never" && (!exists || stale))) {
    log(
      `building the portal into apps/portal/${distDir} (${!exists ? "no build yet" : stale ? "sources are newer" : "BENCH_BUILD=always"}) …`,
    );
    // The workspace packages' dist/ first (what the server imports), then the portal itself.
    const packages = spawnSync(
      "pnpm",
      ["exec", "turbo", "run", "build", "--filter=@cowork/portal^..."],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    if (packages.status !== 0)
      throw new Error(`the packages' build failed:\n${packages.stdout}\n${packages.stderr}`);
    const result = spawnSync("pnpm", ["run", "build"], {
      cwd: portalDir,
      env: { ...process.env, NEXT_DIST_DIR: distDir, NEXT_TELEMETRY_DISABLED: "1" },
      encoding: "utf8",
    });
    if (result.status !== 0)
      throw new Error(`the portal's build failed:\n${result.stdout}\n${result.stderr}`);
    rebuilt = true;
  }
  if (!existsSync(buildIdFile)) throw new Error(`no production build in apps/portal/${distDir}`);
  return {
    distDir,
    buildId: readFileSync(buildIdFile, "utf8").trim(),
    builtAt: statSync(buildIdFile).mtime.toISOString(),
    rebuilt,
  };
}

export interface Portal {
  url: string;
  port: number;
  /** The node process that listens on the port (found via /proc, not assumed). */
  pid: number;
  logs(): string;
  stop(): Promise<void>;
}

export interface PortalOptions {
  /** postgres:// URL of the portal's database; without it, a throwaway PGlite folder. */
  databaseUrl?: string | null;
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

export async function startPortal(options: PortalOptions = {}): Promise<Portal> {
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    NEXT_DIST_DIR: distDir,
    PORT: String(port),
    AUTH_ISSUER: `http://localhost:${port}`,
    // Production refuses to start without it.
    OTP_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    // The bench's actor signs in once per portal; a full run may outlast the default step-up age
    // (the check still runs on every issue, it just keeps passing).
    STEP_UP_MAX_AGE_SECONDS: "86400",
    // The retention job would start purging a scaled database's year of expired rows a minute
    // after start, in the middle of a measurement; the bench measures the request paths.
    RETENTION_DAYS: "3650",
    ...options.env,
  };
  delete env.TEST_DB;
  let pgliteDir: string | null = null;
  if (options.databaseUrl) {
    env.DATABASE_URL = options.databaseUrl;
  } else {
    delete env.DATABASE_URL;
    pgliteDir = mkdtempSync(join(tmpdir(), "portal-bench-"));
    env.PGLITE_DIR = pgliteDir;
  }
  // The server logs every request; keep only the tail, for error messages.
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 256 * 1024) output = output.slice(-128 * 1024);
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), "--enable-source-maps", "dist/server.js"],
    {
      cwd: portalDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((done) => child.once("exit", done));
      process.kill(-child.pid, "SIGTERM");
      // A CPU profile is written on exit; give it time.
      await Promise.race([exited, new Promise((done) => setTimeout(done, 15_000))]);
      if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    }
    if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`portal exited with ${child.exitCode}:\n${output}`);
    }
    if (output.includes("Portal ready on")) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`portal did not start within 120 s:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  const pid = pidListeningOn(port) ?? child.pid!;
  return { url: `http://127.0.0.1:${port}`, port, pid, logs: () => output, stop };
}

/** The process holding the listening socket of a TCP port, via /proc/net/tcp{,6} and /proc/<pid>/fd. */
export function pidListeningOn(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT; state 0A is LISTEN; inode is the 10th field.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A" && fields[9])
        inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (match && inodes.has(match[1]!)) return Number(entry);
      } catch {
        // the fd closed while we looked
      }
    }
  }
  return null;
}

/** Resident memory of a process in MiB (VmRSS), or null when it is gone. */
export function residentMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every second until stopped. */
export function sampleMemory(pid: number, everyMs = 1000) {
  const samples: { t: number; rssMiB: number }[] = [];
  const started = Date.now();
  const take = () => {
    const rss = residentMiB(pid);
    if (rss !== null) samples.push({ t: (Date.now() - started) / 1000, rssMiB: rss });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** A bare node:http server in its own process: what the load generator and the kernel can do at all. */
export async function startNodeFloor(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const source = `require("node:http").createServer((q, s) => { s.setHeader("content-type", "application/json"); s.end('{"status":"ok"}'); }).listen(${port}, () => console.log("ready"));`;
  const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((done, fail) => {
    child.stdout.once("data", () => done());
    child.once("exit", (code) => fail(new Error(`node floor server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
