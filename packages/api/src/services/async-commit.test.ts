// The issue's grant commits without waiting for the WAL flush (impersonation.ts says why); that
// must not change how the next statement on the same connection commits, nor what other
// connections (other processes) see: the grant is exchangeable at once, and exactly once.
import { createPostgres, queryRows, type Database } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { createContext } from "../context";
import { createCaller } from "../root";
import { testTimes } from "../testing";
import { createServiceDeps } from ".";

let database: TestDatabase;
/** One connection, so that the check below runs in the session the issue ran in. */
let single: { db: Database; close(): Promise<void> };

beforeAll(async () => {
  database = await createTestDatabase();
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  single = database.url ? createPostgres(database.url, 1) : database;
});
afterAll(async () => {
  if (single !== database) await single.close();
  await database.close();
});

const callerOn = async (db: Database, token: string | null = null) => {
  const config = loadConfig({ AUTH_ISSUER: "http://portal.test" });
  const deps = await createServiceDeps(db, config);
  return createCaller(
    await createContext({ deps, token, meta: { ip: null, requestId: "t", ...testTimes() } }),
  );
};

describe("the issue's asynchronous commit", () => {
  it("leaves the connection committing synchronously, and the grant is exchangeable elsewhere at once, once", async () => {
    const signIn = await (
      await callerOn(single.db)
    ).auth.signIn({ email: "ada.admin@demo.test", password: "demo-admin-pass" });
    const { token } = await (
      await callerOn(single.db, signIn.accessToken)
    ).impersonation.impersonate({ coworkerId: 42 });

    const [mode] = await queryRows<{ mode: string }>(
      single.db,
      sql`select current_setting('synchronous_commit') as mode`,
    );
    expect(mode?.mode).toBe("on");

    // Another connection (another process, in production) exchanges it.
    const elsewhere = await callerOn(database.db);
    const exchanged = await elsewhere.impersonation.exchange({ token });
    expect(exchanged.accessToken).toEqual(expect.any(String));
    await expect(elsewhere.impersonation.exchange({ token })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });
});
