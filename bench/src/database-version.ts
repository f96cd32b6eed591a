// The database line of the report's heading, so figures from different servers are not compared
// unawares.
import { sql } from "drizzle-orm";
import { createPostgres, queryRows } from "@cowork/db";
import type { Driver } from "./options";

export async function databaseVersion(driver: Driver): Promise<string> {
  if (driver === "pglite") return "PGlite 0.5 (PostgreSQL 17 in WebAssembly, in-process)";
  const handle = createPostgres(process.env.DATABASE_URL!, 1);
  try {
    const [row] = await queryRows<{ version: string }>(handle.db, sql`select version()`);
    return row!.version.replace(/ on .*$/, "");
  } finally {
    await handle.close();
  }
}
