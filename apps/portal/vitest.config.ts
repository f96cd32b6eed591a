import { configDefaults } from "vitest/config";
import { databaseProjects } from "@cowork/vitest-config";

// Every suite here starts real portal processes: one file at a time, generous timeouts.
const config = databaseProjects({
  maxWorkers: 1,
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 180_000,
  include: ["test/**/*.test.ts", "e2e/**/*.test.ts"],
});

// `*.pg.test.ts` need several processes on one PostgreSQL database (or a proxy in front of it):
// they belong to the postgres project only, and are not part of the pglite one at all.
const projects = (config.test?.projects ?? []) as { test: { name: string; exclude?: string[] } }[];
for (const project of projects) {
  if (project.test.name === "pglite")
    project.test.exclude = [...configDefaults.exclude, "**/*.pg.test.ts"];
}

export default config;
