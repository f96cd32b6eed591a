// The driver factory and migrations: which driver a configuration yields, that raw rows look the
// same on both drivers, that an embedded database survives a restart, and that migrating is safe.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachDatabase, createDatabase, createPostgres, preparedRead, queryRows } from "./client";
import { migrateDatabase } from "./migrate";
import { appliedMigrationCount, expectedMigrationCount } from "./migration-status";
import { locations, users } from "./schema";
import { createTestDatabase, type TestDatabase } from "./testing";

const projectDriver = process.env.TEST_DB ?? "pglite";

let handle: TestDatabase;

beforeAll(async () => {
  handle = await createTestDatabase();
});

afterAll(async () => {
  await handle.close();
});

describe("createDatabase", () => {
  it("gives the driver of this test project", async () => {
    expect(handle.driver).toBe(projectDriver);
    // The configuration the service would use for this database: a URL for PostgreSQL, none for PGlite.
    const configured = createDatabase({ url: handle.url ?? undefined });
    try {
      expect(configured.driver).toBe(projectDriver);
      await migrateDatabase(configured);
      expect(await appliedMigrationCount(configured.db)).toBe(expectedMigrationCount);
    } finally {
      await configured.close();
    }
  });

  it("with no URL gives an in-memory PGlite of its own", async () => {
    const first = createDatabase({});
    const second = createDatabase({});
    try {
      expect(first.driver).toBe("pglite");
      expect(second.driver).toBe("pglite");
      await migrateDatabase(first);
      await first.db.insert(locations).values({ name: "Only in the first", timeZone: "UTC" });
      expect(await first.db.select().from(locations)).toHaveLength(1);
      // Nothing is shared: the second one has not even been migrated, and says so.
      expect(await appliedMigrationCount(second.db)).toBe(0);
      expect(await appliedMigrationCount(first.db)).toBe(expectedMigrationCount);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("with a postgres:// URL gives PostgreSQL, and an unreachable server fails fast instead of hanging", async () => {
    const unreachable = createDatabase({ url: "postgres://nobody@127.0.0.1:1/nowhere" });
    try {
      expect(unreachable.driver).toBe("postgres");
      const started = Date.now();
      await expect(unreachable.db.execute(sql`select 1`)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await unreachable.close();
    }
  });
});

describe("attachDatabase", () => {
  it("works on the connection of another handle, and its close leaves that connection open", async () => {
    const attached = attachDatabase(handle.connection);
    expect(attached.driver).toBe(handle.driver);
    const [written] = await attached.db
      .insert(locations)
      .values({ name: "Written through the attached handle", timeZone: "UTC" })
      .returning({ id: locations.id });
    // The owner sees the row at once: one connection (PGlite) or one pool (PostgreSQL).
    const seen = await queryRows<{ name: string }>(
      handle.db,
      sql`select name from locations where id = ${written!.id}`,
    );
    expect(seen).toEqual([{ name: "Written through the attached handle" }]);
    await attached.close();
    expect(await queryRows(handle.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    await handle.db.delete(locations).where(eq(locations.id, written!.id));
  });
});

describe("queryRows", () => {
  it("returns a plain array of rows with Dates, numbers and booleans, whatever the driver", async () => {
    const before = Date.now();
    const [location] = await handle.db
      .insert(locations)
      .values({ name: "Row Shapes", timeZone: "UTC" })
      .returning();
    await handle.db.insert(users).values([
      { email: "rows.one@client.test", fullName: "Rows One", passwordHash: "scrypt$x" },
      { email: "rows.two@client.test", fullName: "Rows Two", passwordHash: "scrypt$x" },
    ]);

    const rows = await queryRows<{
      id: number;
      email: string;
      created_at: Date;
      is_first: boolean;
      total: number;
      location_id: number;
      missing: string | null;
    }>(
      handle.db,
      sql`select u.id, u.email, u.created_at, u.email = 'rows.one@client.test' as is_first,
                 count(*) over () as total, ${location!.id}::int as location_id, null::text as missing
            from users u where u.email like 'rows.%@client.test' order by u.id`,
    );

    expect(Array.isArray(rows)).toBe(true);
    expect(Object.getPrototypeOf(rows)).toBe(Array.prototype);
    expect(rows).toHaveLength(2);
    const [one, two] = rows;
    expect(one).toEqual({
      id: expect.any(Number) as number,
      email: "rows.one@client.test",
      created_at: expect.any(Date) as Date,
      is_first: true,
      total: 2,
      location_id: location!.id,
      missing: null,
    });
    expect(two?.is_first).toBe(false);
    expect(two!.id).toBeGreaterThan(one!.id);
    expect(one!.created_at.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(one!.created_at.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);

    // The same instant Drizzle's own select reports.
    const [typed] = await handle.db.select().from(users).where(eq(users.id, one!.id));
    expect(one!.created_at.getTime()).toBe(typed!.createdAt.getTime());
  });

  it("reads a timestamptz as the instant it is, whatever the session's time zone", async () => {
    // Kathmandu is UTC+05:45: the server writes the text with that offset.
    const rows = await handle.db.transaction(async (tx) => {
      await tx.execute(sql`set local time zone 'Asia/Kathmandu'`);
      return queryRows<{ at: Date; text: string; count: number }>(
        tx,
        sql`select timestamptz '2030-06-01 12:34:56.789+02' as at,
                   (timestamptz '2030-06-01 12:34:56.789+02')::text as text,
                   count(*) as count
              from (values (1), (2), (3)) v(x)`,
      );
    });
    expect(rows).toEqual([
      { at: new Date("2030-06-01T10:34:56.789Z"), text: "2030-06-01 16:19:56.789+05:45", count: 3 },
    ]);
  });

  it("returns an empty array when nothing matches, and [] for statements without rows", async () => {
    expect(await queryRows(handle.db, sql`select id from users where false`)).toEqual([]);
    expect(
      await queryRows(handle.db, sql`update users set full_name = full_name where false`),
    ).toEqual([]);
  });

  it("answers a repeated statement the same way each time, and fails the way drizzle's execute fails", async () => {
    // On PostgreSQL these are prepared statements, reused from the second call on.
    for (let round = 0; round < 3; round++) {
      for (const value of [1, 2, null]) {
        expect(
          await queryRows<{ v: number | null }>(handle.db, sql`select ${value}::int as v`),
        ).toEqual([{ v: value }]);
      }
    }
    const failure = await queryRows(handle.db, sql`select ${1}::int / 0 as boom`).catch(
      (error: unknown) => error,
    );
    const direct = await handle.db
      .execute(sql`select ${1}::int / 0 as boom`)
      .catch((error: unknown) => error);
    expect((failure as Error).constructor).toBe((direct as Error).constructor);
    expect((failure as Error).message).toBe((direct as Error).message);
    expect(((failure as Error).cause as { code?: string }).code).toBe("22012");
    expect(((failure as Error).cause as Error).constructor).toBe(
      ((direct as Error).cause as Error).constructor,
    );
  });
});

describe("preparedRead", () => {
  const byEmail = preparedRead("client_test_read", (db) =>
    db
      .select({ id: users.id, fullName: users.fullName, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.email, sql.placeholder("email")))
      .orderBy(asc(users.id)),
  );

  it("answers as the builder's own statement does, again and again, with each call's values", async () => {
    await handle.db.insert(users).values([
      { email: "prepared.one@client.test", fullName: "Prepared One", passwordHash: "scrypt$x" },
      { email: "prepared.two@client.test", fullName: "Prepared Two", passwordHash: "scrypt$x" },
    ]);
    const direct = (email: string) =>
      handle.db
        .select({ id: users.id, fullName: users.fullName, createdAt: users.createdAt })
        .from(users)
        .where(eq(users.email, email))
        .orderBy(asc(users.id));
    for (let round = 0; round < 3; round++) {
      for (const email of ["prepared.one@client.test", "prepared.two@client.test", "nobody"]) {
        const prepared = await byEmail(handle.db, { email });
        expect(prepared).toEqual(await direct(email));
        if (email !== "nobody") expect(prepared[0]!.createdAt).toBeInstanceOf(Date);
      }
    }
  });

  // Named statements are PostgreSQL's (PGlite runs in-process): this case exists on PostgreSQL only.
  if (projectDriver === "postgres")
    it("sends a named statement on PostgreSQL, prepared once per connection", async () => {
      const single = createPostgres(handle.url!, 1);
      const named = preparedRead("client_test_named", (db) =>
        db
          .select({ id: users.id })
          .from(users)
          .where(eq(users.email, sql.placeholder("email"))),
      );
      try {
        for (let round = 0; round < 3; round++)
          await named(single.db, { email: `nobody-${round}` });
        const text = single.db
          .select({ id: users.id })
          .from(users)
          .where(eq(users.email, sql.placeholder("email")))
          .toSQL().sql;
        const statements = await queryRows<{ name: string }>(
          single.db,
          sql`select name from pg_prepared_statements where statement = ${text}`,
        );
        expect(statements).toHaveLength(1);
      } finally {
        await single.close();
      }
    });
});

describe("migrations", () => {
  it("applies every committed migration", async () => {
    expect(expectedMigrationCount).toBeGreaterThan(0);
    expect(await appliedMigrationCount(handle.db)).toBe(expectedMigrationCount);
  });

  it("does nothing when run again, and keeps the data", async () => {
    await handle.db.insert(locations).values({ name: "Survives Migration", timeZone: "UTC" });
    const before = await handle.db.select().from(locations).orderBy(asc(locations.id));

    await migrateDatabase(handle);
    await migrateDatabase(handle);

    expect(await appliedMigrationCount(handle.db)).toBe(expectedMigrationCount);
    expect(await handle.db.select().from(locations).orderBy(asc(locations.id))).toEqual(before);
  });
});

describe("an embedded database in a data folder", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cowork-pglite-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps its migrations and data across close and reopen", async () => {
    // A folder that does not exist yet is created.
    const dataDir = join(dir, "nested", "pglite");
    const first = createDatabase({ pgliteDir: dataDir });
    try {
      expect(first.driver).toBe("pglite");
      await migrateDatabase(first);
      await first.db
        .insert(locations)
        .values({ id: 77, name: "Persistent Place", timeZone: "Europe/Berlin" });
    } finally {
      await first.close();
    }

    const reopened = createDatabase({ pgliteDir: dataDir });
    try {
      expect(await appliedMigrationCount(reopened.db)).toBe(expectedMigrationCount);
      expect(await reopened.db.select().from(locations)).toEqual([
        { id: 77, name: "Persistent Place", timeZone: "Europe/Berlin" },
      ]);
      // Migrating the reopened database again changes nothing.
      await migrateDatabase(reopened);
      expect(await appliedMigrationCount(reopened.db)).toBe(expectedMigrationCount);
    } finally {
      await reopened.close();
    }
  });
});
