// The throttle's sliding log (migration 0004, throttle.ts): exact over any window of its length,
// atomic under concurrency, all or nothing over several keys without deadlocks, an honest
// Retry-After, places given back; committed asynchronously, which must not change what any later
// statement on the same connection sees or how it commits. Times are the database's clock.
import { createPostgres, queryRows, type Database } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneThrottle, settle, take, type Taken } from "./throttle";

let database: TestDatabase;
/** One connection, so the statements below share the session take ran in. */
let single: { db: Database; close(): Promise<void> };

beforeAll(async () => {
  database = await createTestDatabase();
  single = database.url ? createPostgres(database.url, 1) : database;
});
afterAll(async () => {
  if (single !== database) await single.close();
  await database.close();
});

let serial = 0;
const freshKey = (label: string) => `test:${label}:${Date.now()}:${serial++}`;

/** The database clock, in epoch seconds. */
async function dbNow(): Promise<number> {
  const [row] = await queryRows<{ now: number }>(
    database.db,
    sql`select extract(epoch from clock_timestamp())::float8 as now`,
  );
  return row!.now;
}

/** The times (epoch seconds) of a key's counted hits, oldest first. */
async function hitsOf(key: string): Promise<number[]> {
  const rows = await queryRows<{ at: number }>(
    database.db,
    sql`select extract(epoch from at)::float8 as at from throttle_hits where key = ${key} order by seq`,
  );
  return rows.map((row) => row.at);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const admittedCount = (results: Taken[]) => results.filter((result) => result.admitted).length;

describe("take", () => {
  it("counts every admitted attempt, and leaves the connection committing synchronously", async () => {
    const key = freshKey("count");
    const results = [];
    for (let round = 0; round < 3; round++)
      results.push(await take(single.db, [key, `${key}:other`], { windowS: 60, limit: 5 }));
    expect(results.map((result) => result.admitted)).toEqual([true, true, true]);
    const [mode] = await queryRows<{ mode: string }>(
      single.db,
      sql`select current_setting('synchronous_commit') as mode`,
    );
    expect(mode?.mode).toBe("on");
    expect(await hitsOf(key)).toHaveLength(3);
    expect(await hitsOf(`${key}:other`)).toHaveLength(3);
  });

  it("answers a read alongside in the same statement, admitted or not, and still counts when it finds nothing", async () => {
    const key = freshKey("alongside");
    const throttle = { windowS: 60, limit: 2 };
    const first = await take<{ answer: number; label: string }>(
      single.db,
      [key],
      throttle,
      sql`select 41 + 1 as answer, 'found' as label`,
    );
    expect(first).toMatchObject({ admitted: true, row: { answer: 42, label: "found" } });
    const second = await take(single.db, [key], throttle, sql`select 1 as answer where false`);
    expect(second).toMatchObject({ admitted: true, row: null });
    const third = await take<{ answer: number }>(
      single.db,
      [key],
      throttle,
      sql`select 7 as answer`,
    );
    expect(third).toMatchObject({ admitted: false, row: { answer: 7 } });
    expect(await hitsOf(key)).toHaveLength(2);
  });

  it("admits exactly the limit of 20 concurrent attempts, and a refused attempt takes no place", async () => {
    const key = freshKey("concurrent");
    const results = await Promise.all(
      Array.from({ length: 20 }, () => take(database.db, [key], { windowS: 60, limit: 5 })),
    );
    expect(admittedCount(results)).toBe(5);
    expect(await hitsOf(key)).toHaveLength(5);
  });

  it("is all or nothing over several keys, and never deadlocks whatever order the keys come in", async () => {
    const [a, b] = [freshKey("a"), freshKey("b")];
    const throttle = { windowS: 60, limit: 4 };
    // 40 attempts over both keys, half of them naming the keys the other way round, and single
    // keys in between: a take that locked in the order given would deadlock here on PostgreSQL.
    const keysOf = (index: number) => [[a, b], [b, a], [a], [b]][index % 4]!;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) => take(database.db, keysOf(index), throttle)),
    );
    const hitsA = await hitsOf(a);
    const hitsB = await hitsOf(b);
    expect(hitsA.length).toBe(4);
    expect(hitsB.length).toBe(4);
    // Every admitted attempt is under each of its keys, and nothing else is.
    const expected = { a: 0, b: 0 };
    results.forEach((result, index) => {
      if (!result.admitted) return;
      for (const key of keysOf(index)) expected[key === a ? "a" : "b"]++;
    });
    expect(expected).toEqual({ a: 4, b: 4 });

    // A key that is full refuses the attempt under every key: the other key's log is unchanged.
    const c = freshKey("c");
    const refused = await take(database.db, [c, a], throttle);
    expect(refused.admitted).toBe(false);
    expect(await hitsOf(c)).toEqual([]);
  });

  it("counts over any window of its length: no boundary lets a burst through", async () => {
    const windowS = 2;
    const limit = 3;
    const key = freshKey("boundary");
    // A burst just before a multiple of the window (where a fixed window would start afresh),
    // then more just after it: still inside one window of the log's, so all refused.
    const untilBoundary = windowS - ((await dbNow()) % windowS);
    if (untilBoundary > 0.4) await sleep((untilBoundary - 0.4) * 1000);
    const before = await Promise.all(
      Array.from({ length: limit }, () => take(database.db, [key], { windowS, limit })),
    );
    expect(admittedCount(before)).toBe(limit);
    await sleep(600);
    const after = await Promise.all(
      Array.from({ length: limit }, () => take(database.db, [key], { windowS, limit })),
    );
    expect(admittedCount(after)).toBe(0);

    // Attempts without pause for longer than a window: no window of 2 s, wherever it starts,
    // holds more than the limit of admitted attempts (their times are the database's).
    const hammered = freshKey("hammer");
    const admittedAt: number[] = [];
    const end = (await dbNow()) + windowS * 1.5;
    while ((await dbNow()) < end) {
      const wave = await Promise.all(
        Array.from({ length: 4 }, () => take(database.db, [hammered], { windowS, limit })),
      );
      for (const result of wave) if (result.admitted) admittedAt.push(Date.parse(result.place));
    }
    admittedAt.sort((x, y) => x - y);
    for (const [index, start] of admittedAt.entries()) {
      const inWindow = admittedAt.slice(index).filter((at) => at < start + windowS * 1000);
      expect(inWindow.length).toBeLessThanOrEqual(limit);
    }
    // And the log lets the next one in as soon as the oldest has left, not at a boundary.
    expect(admittedAt.length).toBeGreaterThan(limit);
  });

  it("refuses until the oldest counted hit leaves, with that as Retry-After, then admits exactly one more", async () => {
    const windowS = 3;
    const limit = 2;
    const key = freshKey("retry");
    // A second apart, so that the oldest leaves the window well before the other.
    for (let index = 0; index < limit; index++) {
      if (index > 0) await sleep(1000);
      expect((await take(database.db, [key], { windowS, limit })).admitted).toBe(true);
    }
    const [oldest] = await hitsOf(key);
    const asked = await dbNow();
    const refused = await take(database.db, [key], { windowS, limit });
    const answered = await dbNow();
    if (refused.admitted) return expect.fail("the third attempt was admitted");
    // Seconds until the oldest hit leaves the window, as the database's clock saw it.
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(Math.ceil(oldest! + windowS - answered));
    expect(refused.retryAfterS).toBeLessThanOrEqual(Math.ceil(oldest! + windowS - asked));
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterS).toBeLessThanOrEqual(windowS);

    // Not before the oldest has left, whatever the clock says about minutes.
    const wait = oldest! + windowS - (await dbNow());
    if (wait > 0.3) {
      await sleep((wait - 0.3) * 1000);
      expect((await take(database.db, [key], { windowS, limit })).admitted).toBe(false);
    }
    const left = oldest! + windowS - (await dbNow());
    if (left > -0.05) await sleep((left + 0.05) * 1000);
    const freed = await Promise.all(
      Array.from({ length: 3 }, () => take(database.db, [key], { windowS, limit })),
    );
    expect(admittedCount(freed)).toBe(1);
  });

  it("gives a pending place back under every key, and counts on as if it had never been taken", async () => {
    const [account, address] = [freshKey("account"), freshKey("address")];
    const throttle = { windowS: 60, limit: 3, holdS: 30 };
    const places = [];
    for (let index = 0; index < 3; index++) {
      const taken = await take(database.db, [account, address], throttle);
      if (!taken.admitted) return expect.fail(`attempt ${index + 1} was refused`);
      places.push(taken.place);
    }
    const [first, , third] = await hitsOf(account);
    // Full of pending places: busy, not refused (one may be given back).
    expect(await take(database.db, [account], throttle)).toMatchObject({
      admitted: false,
      busy: true,
    });
    // The first and last count; the middle one turned out not to.
    await settle(database.db, [account, address], places[0]!, true);
    await settle(database.db, [address, account], places[2]!, true);
    await settle(database.db, [address, account], places[1]!, false);
    expect(await hitsOf(account)).toEqual([first, third]);
    expect(await hitsOf(address)).toHaveLength(2);
    const again = await take(database.db, [account, address], throttle);
    if (!again.admitted) return expect.fail("the freed place was not taken");
    await settle(database.db, [account, address], again.place, true);
    // Full of places that count: refused, and what refuses is the oldest, the first one.
    const asked = await dbNow();
    const full = await take(database.db, [account], throttle);
    if (full.admitted) return expect.fail("a fourth place was taken");
    expect(full.busy).toBe(false);
    expect(full.retryAfterS).toBeLessThanOrEqual(Math.ceil(first! + 60 - asked));
    expect(full.retryAfterS).toBeGreaterThanOrEqual(Math.floor(first! + 60 - asked) - 1);
    // A place that is not (or no longer) in the log changes nothing.
    await settle(database.db, [account], places[1]!, false);
    expect(await hitsOf(account)).toHaveLength(3);
  });

  it("counts a pending place once its hold has passed (its process may be gone)", async () => {
    const key = freshKey("hold");
    const throttle = { windowS: 60, limit: 2, holdS: 0.3 };
    for (let index = 0; index < 2; index++)
      expect((await take(database.db, [key], throttle)).admitted).toBe(true);
    expect(await take(database.db, [key], throttle)).toMatchObject({ busy: true });
    await sleep(400);
    expect(await take(database.db, [key], throttle)).toMatchObject({
      admitted: false,
      busy: false,
    });
  });

  it("never lets more than the limit of pending and counted places be taken at once", async () => {
    const key = freshKey("pending-concurrent");
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        take(database.db, [key], { windowS: 60, limit: 5, holdS: 30 }),
      ),
    );
    expect(admittedCount(results)).toBe(5);
    expect(results.filter((result) => !result.admitted && result.busy)).toHaveLength(15);
  });

  it("drops keys whose hits have all left the window, and counts afresh after", async () => {
    const key = freshKey("prune");
    const throttle = { windowS: 0.2, limit: 1 };
    expect((await take(database.db, [key], throttle)).admitted).toBe(true);
    await sleep(400);
    await pruneThrottle(database.db);
    expect(await hitsOf(key)).toEqual([]);
    const [head] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from throttle_log where key = ${key}`,
    );
    expect(head?.n).toBe(0);
    expect((await take(database.db, [key], throttle)).admitted).toBe(true);
    expect((await take(database.db, [key], throttle)).admitted).toBe(false);
  });
});
