// Every database-backed suite runs on in-memory PGlite, and again on PostgreSQL when
// DATABASE_URL is set (each test file then gets its own throwaway database). A file named
// `*.postgres.test.ts` is about PostgreSQL alone (its planner, several connection pools) and runs
// only there.
import { configDefaults, defineConfig } from "vitest/config";

export function databaseProjects(extra = {}) {
  const drivers = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
  return defineConfig({
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      maxWorkers: 2,
      projects: drivers.map((driver) => ({
        extends: true,
        test: {
          name: driver,
          env: { TEST_DB: driver },
          ...(driver === "pglite"
            ? { exclude: [...configDefaults.exclude, "**/*.postgres.test.ts"] }
            : {}),
        },
      })),
      ...extra,
    },
  });
}
