import type { UserConfig } from "vitest/config";
export declare function databaseProjects(extra?: Record<string, unknown>): UserConfig;
