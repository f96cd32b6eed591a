// The throttle counter: one atomic upsert per attempt, committed asynchronously, which must not
// change what any later statement on the same connection sees or how it commits.
import { createPostgres, queryRows, type Database } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hit } from "./throttle";

let database: TestDatabase;
/** One connection, so the statements below share the session hit ran in. */
let single: { db: Database; close(): Promise<void> };

beforeAll(async () => {
  database = await createTestDatabase();
  single = database.url ? createPostgres(database.url, 1) : database;
});
afterAll(async () => {
  if (single !== database) await single.close();
  await database.close();
});

describe("hit", () => {
  it("counts every attempt, and leaves the connection committing synchronously", async () => {
    const key = `test:${Date.now()}`;
    const counts = [];
    for (let round = 0; round < 3; round++)
      counts.push((await hit(single.db, [key, `${key}:other`], 60)).count);
    expect(counts).toEqual([1, 2, 3]);
    const [mode] = await queryRows<{ mode: string }>(
      single.db,
      sql`select current_setting('synchronous_commit') as mode`,
    );
    expect(mode?.mode).toBe("on");
    const [stored] = await queryRows<{ count: number }>(
      database.db,
      sql`select count from throttle_counters where key = ${key}`,
    );
    expect(stored?.count).toBe(3);
  });

  it("answers a read alongside in the same statement, and still counts when it finds nothing", async () => {
    const key = `test:alongside:${Date.now()}`;
    const first = await hit<{ answer: number; label: string }>(
      single.db,
      [key],
      60,
      sql`select 41 + 1 as answer, 'found' as label`,
    );
    expect(first).toMatchObject({ count: 1, row: { answer: 42, label: "found" } });
    expect(first.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(first.retryAfterS).toBeLessThanOrEqual(60);
    const second = await hit(single.db, [key], 60, sql`select 1 as answer where false`);
    expect(second).toMatchObject({ count: 2, row: null });
  });
});
