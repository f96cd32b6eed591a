// Applies the committed drizzle-kit migrations; safe to run from several processes at once.
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { type PgliteDatabase } from "drizzle-orm/pglite";
import { type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { createPostgres, type DatabaseHandle } from "./client";

export const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  if (handle.driver === "pglite") {
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  await migratePostgres(handle.db as unknown as PostgresJsDatabase, { migrationsFolder });
}

/** PostgreSQL: one process migrates at a time, serialised by an advisory lock on its own connection. */
export async function migrateUrl(url: string): Promise<void> {
  const handle = createPostgres(url, 1);
  try {
    await handle.db.execute(sql`select pg_advisory_lock(727274)`);
    try {
      await migrateDatabase(handle);
    } finally {
      await handle.db.execute(sql`select pg_advisory_unlock(727274)`);
    }
  } finally {
    await handle.close();
  }
}
