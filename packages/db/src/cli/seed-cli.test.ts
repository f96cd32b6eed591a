// `pnpm db:seed FILE` as a person runs it: a child process against the project's database
// (an embedded data folder, or a throwaway PostgreSQL database named by DATABASE_URL).
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPglite } from "../client";
import { migrateDatabase } from "../migrate";
import { demoFixturePath, readFixtureFile } from "../seed";
import { createTestDatabase, testDriver } from "../testing";
import { type Counts, DEMO_COUNTS, NOTHING, tableCounts } from "../test-support/table-counts";

const packageDir = fileURLToPath(new URL("../../", import.meta.url));

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runSeed(file: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("pnpm", ["exec", "tsx", "src/cli/seed.ts", file], { cwd: packageDir, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A database for the CLI to write to, of the project's driver, and a way to read it afterwards. */
interface Target {
  env: NodeJS.ProcessEnv;
  counts(): Promise<Counts>;
  close(): Promise<void>;
}

let workDir: string;
const targets: Target[] = [];

async function newTarget(options: { migrated: boolean }): Promise<Target> {
  const pgliteDir = await mkdtemp(join(workDir, "pglite-"));
  const env: NodeJS.ProcessEnv = { ...process.env, PGLITE_DIR: pgliteDir };
  delete env.DATABASE_URL;
  let target: Target;
  if (testDriver() === "postgres") {
    const database = await createTestDatabase("postgres");
    env.DATABASE_URL = database.url!;
    target = { env, counts: () => tableCounts(database.db), close: () => database.close() };
  } else {
    if (options.migrated) {
      const handle = createPglite(pgliteDir);
      await migrateDatabase(handle);
      await handle.close();
    }
    target = {
      env,
      // Opened only once the child has exited: one process at a time owns a PGlite folder.
      counts: async () => {
        const handle = createPglite(pgliteDir);
        try {
          return await tableCounts(handle.db);
        } finally {
          await handle.close();
        }
      },
      close: () => Promise.resolve(),
    };
  }
  targets.push(target);
  return target;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "cowork-seed-cli-"));
});

afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe("pnpm db:seed FILE", () => {
  it("seeds the demo fixture into a new database, says so in one line, and leaves one copy when run twice", async () => {
    const target = await newTarget({ migrated: false });

    const first = await runSeed(demoFixturePath, target.env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `Seeded 2 locations, 8 users, 8 coworkers, 3 teams from ${demoFixturePath}.\n`,
    );
    expect(await target.counts()).toEqual(DEMO_COUNTS);

    const second = await runSeed(demoFixturePath, target.env);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(await target.counts()).toEqual(DEMO_COUNTS);
  }, 90_000);

  it("refuses a fixture with a team member from another location, exits 1 and writes nothing", async () => {
    const target = await newTarget({ migrated: true });
    const fixture = await readFixtureFile(demoFixturePath);
    // Rita's profile (coworker 51) is in location 2; Acme Design (team 7) is in location 1.
    fixture.teams.find((t) => t.id === 7)!.members.push({ coworkerId: 51, teamAdmin: false });
    const file = join(workDir, "cross-location-member.json");
    await writeFile(file, JSON.stringify(fixture, null, 2));

    const result = await runSeed(file, target.env);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Seed refused: .*team 7\b.*coworker 51\b.*\n$/);
    expect(await target.counts()).toEqual(NOTHING);
  }, 60_000);

  it("refuses a file that is not JSON and exits 1", async () => {
    const target = await newTarget({ migrated: true });
    const file = join(workDir, "garbled.json");
    await writeFile(file, '{ "locations": [');

    const result = await runSeed(file, target.env);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Seed refused: fixture is not valid JSON/);
    expect(await target.counts()).toEqual(NOTHING);
  }, 60_000);

  it("refuses a bad DATABASE_URL with the server's one line and exits 1", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: "mysql://db/app" };
    const result = await runSeed(demoFixturePath, env);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^Configuration error: DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL\n/,
    );
  }, 60_000);
});
