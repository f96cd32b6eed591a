// Liveness and readiness: /api/health and /api/ready on a started portal, and the readiness
// checks themselves against a database that lacks migrations, is closed, or never answers.
import { checkReadiness, createServiceDeps, loadConfig, type ServiceDeps } from "@cowork/api";
import { expectedMigrationCount, queryRows } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { readyResponse } from "@cowork/validators";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPortal, type Portal } from "./support/portal";
import { call } from "./ops-helpers";

describe("a started portal", () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(() => portal?.stop());

  it("GET /api/health: 200 { status: ok }, not cached", async () => {
    const answer = await call(portal, "/api/health");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: "ok" });
    expect(answer.headers.get("cache-control")).toBe("no-store");
  });

  it("GET /api/ready: 200 with every check ok, within 5 s", async () => {
    const started = Date.now();
    const answer = await call(portal, "/api/ready");
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer.status).toBe(200);
    expect(readyResponse.parse(answer.body)).toEqual({
      status: "ok",
      checks: { database: "ok", migrations: "ok", keys: "ok" },
    });
  });
});

describe("readiness checks", () => {
  let database: TestDatabase;
  let deps: ServiceDeps;
  beforeAll(async () => {
    database = await createTestDatabase();
    deps = await createServiceDeps(database.db, loadConfig({ AUTH_ISSUER: "http://portal.test" }));
  });
  afterAll(() => database?.close());

  it("are all ok on a migrated database with keys", async () => {
    expect(await checkReadiness(() => Promise.resolve(deps))).toEqual({
      status: "ok",
      checks: { database: "ok", migrations: "ok", keys: "ok" },
    });
  });

  it("say pending when a migration of this build is not applied", async () => {
    const [last] = await queryRows<{ id: number; hash: string; created_at: string }>(
      database.db,
      sql`delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations) returning id, hash, created_at`,
    );
    try {
      expect(await checkReadiness(() => Promise.resolve(deps))).toEqual({
        status: "unavailable",
        checks: { database: "ok", migrations: "pending", keys: "ok" },
      });
    } finally {
      await queryRows(
        database.db,
        sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last!.id}, ${last!.hash}, ${last!.created_at})`,
      );
    }
    expect(expectedMigrationCount).toBeGreaterThan(0);
  });

  it("fail when the services cannot start (no database): all failed", async () => {
    const result = await checkReadiness(() =>
      Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })),
    );
    expect(result).toEqual({
      status: "unavailable",
      checks: { database: "failed", migrations: "failed", keys: "failed" },
    });
  });

  it("answer in time when the database hangs", async () => {
    const hanging = {
      ...deps,
      db: { execute: () => new Promise(() => undefined) },
    } as unknown as ServiceDeps;
    const started = Date.now();
    const result = await checkReadiness(() => Promise.resolve(hanging), 300);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({
      status: "unavailable",
      checks: { database: "failed", migrations: "failed", keys: "ok" },
    });
  });

  it("fail the database check when the database is gone", async () => {
    const gone = await createTestDatabase();
    const goneDeps = await createServiceDeps(
      gone.db,
      loadConfig({ AUTH_ISSUER: "http://portal.test" }),
    );
    await gone.close();
    const result = await checkReadiness(() => Promise.resolve(goneDeps), 4000);
    expect(result.status).toBe("unavailable");
    expect(result.checks.database).toBe("failed");
  });
});
