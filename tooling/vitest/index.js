// Every database-backed suite runs on in-memory PGlite, and again on PostgreSQL when
// DATABASE_URL is set (each test file then gets its own throwaway database).
import { defineConfig } from "vitest/config";

export function databaseProjects(extra = {}) {
  const drivers = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
  return defineConfig({
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      maxWorkers: 2,
      projects: drivers.map((driver) => ({
        extends: true,
        test: { name: driver, env: { TEST_DB: driver } },
      })),
      ...extra,
    },
  });
}
