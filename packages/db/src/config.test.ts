// The database's variables, as the command-line tools read them: defaults, a relative
// PGLITE_DIR resolved against the repository root, and a bad value refused in one line.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadDatabaseConfig, repoRoot } from "./config";

function refusal(env: Record<string, string>): string {
  try {
    loadDatabaseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  return expect.fail(`accepted ${JSON.stringify(env)}`);
}

describe("loadDatabaseConfig", () => {
  it("has the defaults: the embedded database in .data/pglite of the repository", () => {
    expect(existsSync(join(repoRoot, "pnpm-workspace.yaml"))).toBe(true);
    expect(loadDatabaseConfig({ DATABASE_URL: "  " })).toEqual({
      url: undefined,
      pgliteDir: join(repoRoot, ".data/pglite"),
      poolSize: Math.max(2, availableParallelism()),
    });
    expect(loadDatabaseConfig({ PGLITE_DIR: "a/b" }).pgliteDir).toBe(join(repoRoot, "a/b"));
    expect(loadDatabaseConfig({ PGLITE_DIR: "/srv/db" }).pgliteDir).toBe("/srv/db");
  });

  it("refuses a bad value with one line naming the variable", () => {
    // The tools used to accept "postgres://" with nothing after it; the server never did.
    expect(refusal({ DATABASE_URL: "postgres://" })).toBe(
      "DATABASE_URL must be a postgres:// or postgresql:// URL",
    );
    expect(refusal({ DATABASE_POOL_SIZE: "0" })).toBe(
      'DATABASE_POOL_SIZE must be a whole number from 1 to 100 (got "0")',
    );
  });
});
