// `pnpm db:seed-scale`'s data set (seed-scale.ts): beside a fixture loaded before it, which keeps
// its rows; under one loaded after it, whose ids still insert; idempotent; the shape the bench
// relies on (a busy first location, mostly expired sessions, the member impersonated 1,000
// times); refused on PGlite. Sealing is the API's (hot-plans.postgres.test.ts seals a seeded database).
import { verifyPassword } from "@cowork/auth";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "./client";
import { demoFixturePath, readFixtureFile, seedFixture } from "./seed";
import {
  HOT_MEMBER,
  HOT_MEMBER_IMPERSONATIONS,
  parseScaleArgs,
  SCALE_ID,
  SCALE_PASSWORD,
  ScaleSeedError,
  scaleLocationOf,
  seedScale,
} from "./seed-scale";
import { createTestDatabase, testDriver, type TestDatabase } from "./testing";

const SIZES = { locations: 8, coworkers: 3000, audit: 6000, sessions: 4000, grants: 2000 };
const quiet = () => undefined;

describe("seed-scale arguments", () => {
  it("reads the sizes over the full defaults and refuses what it does not know", () => {
    expect(parseScaleArgs(["--audit", "5", "--locations", "3"])).toMatchObject({
      audit: 5,
      locations: 3,
      coworkers: 200_000,
    });
    expect(() => parseScaleArgs(["--rows", "5"])).toThrow(ScaleSeedError);
    expect(() => parseScaleArgs(["--audit", "-1"])).toThrow(ScaleSeedError);
    expect(() => parseScaleArgs(["--locations", "0"])).toThrow(ScaleSeedError);
  });
});

if (testDriver() === "pglite") {
  it("refuses the embedded database", async () => {
    const database = await createTestDatabase("pglite");
    try {
      await expect(seedScale(database, SIZES, quiet)).rejects.toThrow(/needs PostgreSQL/);
    } finally {
      await database.close();
    }
  });
}

if (testDriver() === "postgres") {
  describe("seed-scale on PostgreSQL", () => {
    let database: TestDatabase;
    const counts = async () =>
      (
        await queryRows<Record<string, number>>(
          database.db,
          sql`select
            (select count(*)::int from locations) as locations,
            (select count(*)::int from users) as users,
            (select count(*)::int from coworkers) as coworkers,
            (select count(*)::int from team_members) as team_members,
            (select count(*)::int from sessions) as sessions,
            (select count(*)::int from impersonation_grants) as grants,
            (select count(*)::int from impersonation_actions) as actions,
            (select count(*)::int from support_access_grants) as consents,
            (select count(*)::int from audit_events) as audit`,
        )
      )[0]!;

    beforeAll(async () => {
      database = await createTestDatabase("postgres");
      await seedFixture(database.db, await readFixtureFile(demoFixturePath));
      await seedScale(database, SIZES, quiet);
    }, 120_000);
    afterAll(async () => database?.close());

    it("adds the sizes asked for, in its own id range", async () => {
      const seeded = await queryRows<Record<string, number>>(
        database.db,
        sql`select
          (select count(*)::int from locations where id > ${SCALE_ID}) as locations,
          (select count(*)::int from coworkers where id > ${SCALE_ID}) as coworkers,
          (select count(*)::int from support_access_grants where location_id > ${SCALE_ID}) as consents,
          (select count(*)::int from audit_events where location_id > ${SCALE_ID}) as audit,
          (select count(*)::int from sessions where user_id > ${SCALE_ID}) as sessions`,
      );
      expect(seeded[0]).toEqual({
        locations: 8,
        coworkers: 3000,
        consents: 2000,
        audit: 6000,
        // The members' sessions, the hot member's impersonations and one per admin.
        sessions: 4000 + HOT_MEMBER_IMPERSONATIONS + 8,
      });
    });

    it("leaves the fixture's people as they were: Ada still signs in with her password", async () => {
      const [ada] = await queryRows<{ hash: string; name: string }>(
        database.db,
        sql`select password_hash as hash, full_name as name from users where email = 'ada.admin@demo.test'`,
      );
      expect(ada?.name).toBe("Ada Admin");
      expect(await verifyPassword("demo-admin-pass", ada!.hash)).toBe(true);
      const [admin] = await queryRows<{ hash: string }>(
        database.db,
        sql`select password_hash as hash from users where id = ${SCALE_ID + 1}`,
      );
      expect(await verifyPassword(SCALE_PASSWORD, admin!.hash)).toBe(true);
    });

    it("adds nothing on a second run", async () => {
      const before = await counts();
      await seedScale(database, SIZES, quiet);
      expect(await counts()).toEqual(before);
    });

    it("leaves room for a fixture loaded after it: its ids still insert", async () => {
      const fixture = await readFixtureFile(demoFixturePath);
      fixture.locations.push({ id: 3, name: "Third", timeZone: "Europe/Paris" });
      fixture.users.push({
        id: 9,
        email: "nina.new@demo.test",
        fullName: "Nina New",
        password: "demo-member-pass",
      });
      fixture.coworkers.push({ id: 60, userId: 9, locationId: 3, fullName: "Nina New" });
      await seedFixture(database.db, fixture);
      const [row] = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from coworkers where id = 60 and user_id = 9 and location_id = 3`,
      );
      expect(row?.n).toBe(1);
    });

    it("has the shape the bench measures: a busy first location, expired sessions, a hot member", async () => {
      const [shape] = await queryRows<{
        busiest: number;
        busiestShare: number;
        expiredShare: number;
        hotImpersonations: number;
        hotLocation: number;
      }>(
        database.db,
        sql`select
          (select location_id from audit_events where location_id > ${SCALE_ID}
             group by location_id order by count(*) desc limit 1) as busiest,
          (select count(*) filter (where location_id = ${SCALE_ID + 1})::float8 / count(*)
             from audit_events where location_id > ${SCALE_ID}) as "busiestShare",
          (select count(*) filter (where expires_at <= now() or revoked_at is not null)::float8 / count(*)
             from sessions where user_id > ${SCALE_ID}) as "expiredShare",
          (select count(*)::int from sessions where user_id = ${HOT_MEMBER.userId} and grant_jti is not null)
             as "hotImpersonations",
          (select location_id from coworkers where id = ${HOT_MEMBER.coworkerId}) as "hotLocation"`,
      );
      expect(shape?.busiest).toBe(SCALE_ID + 1);
      expect(shape?.busiestShare).toBeGreaterThan(0.3);
      expect(shape?.expiredShare).toBeGreaterThan(0.95);
      expect(shape?.hotImpersonations).toBeGreaterThanOrEqual(HOT_MEMBER_IMPERSONATIONS);
      expect(shape?.hotLocation).toBe(scaleLocationOf(1, SIZES.locations));
    });
  });
}
