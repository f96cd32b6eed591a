// A statement whose own commit need not wait for the WAL flush. Used as a FROM item
// (`from …, ${asyncCommit} as commit_mode`), so the setting is made inside the statement and
// lasts only for its implicit transaction: later statements on the same connection commit
// synchronously again. The rows are visible to every process at once, as with any commit; only a
// crash of PostgreSQL itself within a fraction of a second can lose them. Callers run it outside
// any transaction and use it only where such a loss is harmless (each caller says why).
import { sql } from "drizzle-orm";

export const asyncCommit = sql`(select set_config('synchronous_commit', 'off', true))`;
