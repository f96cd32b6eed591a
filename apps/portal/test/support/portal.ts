// Starts the real portal (production build, `server.ts`) on a free port with its own database:
// a throwaway PGlite folder, or a throwaway PostgreSQL database when TEST_DB=postgres.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPglite, type DatabaseHandle } from "@cowork/db";
import { migrateDatabase } from "@cowork/db/migrate";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { type Fixture } from "@cowork/validators";
import { pidListeningOn } from "./proc";

export const portalDir = fileURLToPath(new URL("../..", import.meta.url));

export interface Portal {
  url: string;
  port: number;
  /** The PostgreSQL database of this portal (null on PGlite). */
  databaseUrl: string | null;
  logs(): string;
  stop(): Promise<void>;
  /** The node process that listens on the port (the harness spawns it directly). */
  serverPid(): number | null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Share an existing PostgreSQL database (several processes, one service). */
  databaseUrl?: string;
  /**
   * Use this PGlite folder instead of a fresh one (kept on stop: the caller owns it). One process
   * at a time: start the next portal on it only after the previous one stopped.
   */
  pgliteDir?: string;
  /** Seed this fixture instead of the demo data (fresh databases only). */
  fixture?: Fixture;
}

/**
 * A throwaway PostgreSQL database for portals to share; close() drops it. With `seed`, the
 * demo data (or the given fixture) is loaded, as a fresh portal database would have it.
 */
export async function createSharedDatabase(
  options: { seed?: boolean | Fixture } = {},
): Promise<TestDatabase> {
  const database = await createTestDatabase("postgres");
  if (options.seed) await seed(database, options.seed === true ? undefined : options.seed);
  return database;
}

/** A PGlite folder for portals started one after another (`pgliteDir`); migrated and seeded. */
export async function createPgliteFolder(
  fixture?: Fixture,
): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "portal-test-"));
  const handle = createPglite(dir);
  try {
    await migrateDatabase(handle);
    await seed(handle, fixture);
  } finally {
    await handle.close();
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The OTP_ENCRYPTION_KEY of every portal this test file starts. */
const TEST_OTP_KEY = randomBytes(32).toString("base64");

export async function startPortal(options: StartOptions = {}): Promise<Portal> {
  const port = await freePort();
  let database: TestDatabase | null = null;
  let pgliteDir: string | null = null;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    AUTH_ISSUER: `http://localhost:${port}`,
    // Production refuses to start without it. One key for every portal of this test file, as
    // the processes of one deployment share theirs (they may share a database).
    OTP_ENCRYPTION_KEY: TEST_OTP_KEY,
    ...options.env,
  };
  delete env.TEST_DB;
  if (options.databaseUrl) {
    env.DATABASE_URL = options.databaseUrl;
  } else if (options.pgliteDir) {
    delete env.DATABASE_URL;
    env.PGLITE_DIR = options.pgliteDir;
  } else if (process.env.TEST_DB === "postgres") {
    database = await createTestDatabase("postgres");
    env.DATABASE_URL = database.url!;
    await seed(database, options.fixture);
  } else {
    delete env.DATABASE_URL;
    if (options.fixture) {
      pgliteDir = (await createPgliteFolder(options.fixture)).dir;
    } else {
      pgliteDir = mkdtempSync(join(tmpdir(), "portal-test-"));
    }
    env.PGLITE_DIR = pgliteDir;
  }
  let output = "";
  // The production server as `pnpm start` runs it: compiled JavaScript under plain node.
  const child: ChildProcess = spawn(process.execPath, ["--enable-source-maps", "dist/server.js"], {
    cwd: portalDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://localhost:${port}`;
  const stop = async () => {
    const running = () => child.exitCode === null && child.signalCode === null;
    // Idempotent: a portal may be stopped by its test and again by an afterAll.
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // the group is gone already
      }
    };
    if (running() && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      signal("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (running()) signal("SIGKILL");
    }
    if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
    await database?.close();
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`portal exited with ${child.exitCode}:\n${output}`);
    }
    if (output.includes("Portal ready on")) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`portal did not start within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    port,
    databaseUrl: env.DATABASE_URL ?? null,
    logs: () => output,
    stop,
    serverPid: () => pidListeningOn(port),
  };
}

/** The demo data set of packages/db/seed/demo.json. */
export async function demoFixture(): Promise<Fixture> {
  const { demoFixturePath, readFixtureFile } = await import("@cowork/db/seed");
  return readFixtureFile(demoFixturePath);
}

async function seed(database: DatabaseHandle, fixture?: Fixture): Promise<void> {
  const { seedFixture } = await import("@cowork/db/seed");
  await seedFixture(database.db, fixture ?? (await demoFixture()));
}

/** Signs in over HTTP with the demo password and returns the access token. */
export async function signIn(portal: Portal, email: string, locationId?: number): Promise<string> {
  const password = email.startsWith("ada.")
    ? "demo-admin-pass"
    : email.startsWith("otto.")
      ? "demo-operator-pass"
      : "demo-member-pass";
  const response = await fetch(`${portal.url}/api/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "password",
      username: email,
      password,
      ...(locationId ? { location_id: locationId } : {}),
    }),
  });
  if (response.status !== 200)
    throw new Error(`sign-in of ${email} failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A portal's error-level log lines since `since` (pino's "error"/"fatal", in words or numbers) and Next's own error marks. */
export const errorLinesSince = (portal: Portal, since: number): string[] =>
  portal
    .logs()
    .slice(since)
    .split("\n")
    .filter((line) => /"level":\s*(50|60|"error"|"fatal")/.test(line) || line.includes("⨯"));
