// Work that one process at a time may do, across every process sharing a PostgreSQL database:
// held by a session-level advisory lock on a connection reserved for the work, not by a
// transaction, so the work runs its statements on that connection, each committing on its own,
// and no snapshot or row lock is held while it lasts; the rest of the pool stays free for
// requests. PGlite is one process's database: it runs the work on the database it was given.
import { attachDatabase, type Database, postgresClientOf } from "./client";

/**
 * Runs `work` if no other session holds the advisory lock (`space`, `key`), and answers its
 * result; answers null at once, without waiting, when another holds it. `work` gets the database
 * to run its statements on (on PostgreSQL, the lock's own connection). The lock is released when
 * the work ends (or with its connection, if the process dies).
 */
export async function withAdvisoryLock<T>(
  db: Database,
  space: number,
  key: number,
  work: (db: Database) => Promise<T>,
): Promise<T | null> {
  const client = postgresClientOf(db);
  if (!client) return work(db);
  const reserved = await client.reserve();
  try {
    const [row] = await reserved<{ locked: boolean }[]>`
      select pg_try_advisory_lock(${space}::int, ${key}::int) as locked`;
    if (!row?.locked) return null;
    try {
      // Drizzle reads the client's options (its type parsers), which a reserved connection
      // does not carry: they are the pool's.
      const connection = Object.assign(reserved, { options: client.options });
      return await work(attachDatabase({ driver: "postgres", client: connection }).db);
    } finally {
      await reserved`select pg_advisory_unlock(${space}::int, ${key}::int)`;
    }
  } finally {
    reserved.release();
  }
}
