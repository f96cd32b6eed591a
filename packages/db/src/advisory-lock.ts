// Work that one process at a time may do, across every process sharing a PostgreSQL database:
// held by a session-level advisory lock on a connection reserved for the work, not by a
// transaction, so the work itself runs in short transactions of its own on the pool and no
// snapshot or row lock is held while it lasts. PGlite is one process's database: it runs the work.
import { type Database, postgresClientOf } from "./client";

/**
 * Runs `work` if no other session holds the advisory lock (`space`, `key`), and answers its
 * result; answers null at once, without waiting, when another holds it. The lock is released
 * when the work ends (or with its connection, if the process dies).
 */
export async function withAdvisoryLock<T>(
  db: Database,
  space: number,
  key: number,
  work: () => Promise<T>,
): Promise<T | null> {
  const client = postgresClientOf(db);
  if (!client) return work();
  const reserved = await client.reserve();
  try {
    const [row] = await reserved<{ locked: boolean }[]>`
      select pg_try_advisory_lock(${space}::int, ${key}::int) as locked`;
    if (!row?.locked) return null;
    try {
      return await work();
    } finally {
      await reserved`select pg_advisory_unlock(${space}::int, ${key}::int)`;
    }
  } finally {
    reserved.release();
  }
}
