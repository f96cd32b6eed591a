// Readiness on PostgreSQL when the migration journal loses its last row: a shared database
// another process (or an operator) changed under a running portal.
import { queryRows } from "@cowork/db";
import type { TestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSharedDatabase, startPortal, type Portal } from "./support/portal";
import { call } from "./ops-helpers";

describe("a portal on PostgreSQL whose database loses a migration", () => {
  let shared: TestDatabase;
  let portal: Portal;
  beforeAll(async () => {
    shared = await createSharedDatabase();
    const { demoFixturePath, readFixtureFile, seedFixture } = await import("@cowork/db/seed");
    await seedFixture(shared.db, await readFixtureFile(demoFixturePath));
    portal = await startPortal({ databaseUrl: shared.url! });
  });
  afterAll(async () => {
    await portal?.stop();
    await shared?.close();
  });

  it("answers 503 with migrations pending, and 200 again once it is back", async () => {
    expect((await call(portal, "/api/ready")).status).toBe(200);
    const [last] = await queryRows<{ id: number; hash: string; created_at: string }>(
      shared.db,
      sql`delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations) returning id, hash, created_at`,
    );
    const down = await call(portal, "/api/ready");
    expect(down.status).toBe(503);
    expect(down.body).toEqual({
      status: "unavailable",
      checks: { database: "ok", migrations: "pending", keys: "ok" },
    });
    // Liveness does not depend on the database.
    expect((await call(portal, "/api/health")).status).toBe(200);
    await queryRows(
      shared.db,
      sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last!.id}, ${last!.hash}, ${last!.created_at})`,
    );
    expect((await call(portal, "/api/ready")).status).toBe(200);
  });
});
