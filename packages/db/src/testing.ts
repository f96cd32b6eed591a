// Fresh, migrated databases for tests: in-memory PGlite, or a throwaway PostgreSQL database
// (created on the server of DATABASE_URL and dropped afterwards) when TEST_DB=postgres.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createPglite, createPostgres, type DatabaseHandle } from "./client";
import { migrateDatabase } from "./migrate";

export type TestDriver = "pglite" | "postgres";

export function testDriver(): TestDriver {
  return process.env.TEST_DB === "postgres" ? "postgres" : "pglite";
}

export interface TestDatabase extends DatabaseHandle {
  /** Connection URL of the throwaway database (PostgreSQL only), for child processes. */
  url: string | null;
}

export async function createTestDatabase(driver: TestDriver = testDriver()): Promise<TestDatabase> {
  if (driver === "pglite") {
    const handle = createPglite("memory");
    await migrateDatabase(handle);
    return { ...handle, url: null };
  }
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error("TEST_DB=postgres needs DATABASE_URL");
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  const url = withDatabase(serverUrl, name);
  const handle = createPostgres(url, 10);
  await migrateDatabase(handle);
  return {
    ...handle,
    driver: "postgres",
    url,
    close: async () => {
      await handle.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 2 });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
