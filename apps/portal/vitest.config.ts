import { databaseProjects } from "@cowork/vitest-config";

// Every suite here starts real portal processes: one file at a time, generous timeouts.
export default databaseProjects({ maxWorkers: 1, fileParallelism: false, testTimeout: 120_000, hookTimeout: 180_000, include: ["test/**/*.test.ts", "e2e/**/*.test.ts"] });
