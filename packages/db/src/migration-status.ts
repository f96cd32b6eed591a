// Whether the database has every migration this build ships (for readiness checks).
import { sql } from "drizzle-orm";
import journal from "../drizzle/meta/_journal.json" with { type: "json" };
import { type Database, queryRows } from "./client";

/** Number of migrations committed with this build. */
export const expectedMigrationCount = journal.entries.length;

/** How many migrations the database has applied (0 when none). */
export async function appliedMigrationCount(db: Database): Promise<number> {
  // Two statements: a single one naming the journal table fails to plan while it does not exist.
  const [journalTable] = await queryRows<{ present: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!journalTable?.present) return 0;
  const rows = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return rows[0]?.n ?? 0;
}
