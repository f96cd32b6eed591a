// Sealing a bulk load (`pnpm db:seed-scale`): every seeded event gets its place in its location's
// log in rounds of the given size, each with a signed checkpoint, and the whole log verifies as
// `pnpm audit:verify` verifies it; a second pass finds nothing left. PostgreSQL only, as the
// seed is.
import { queryRows } from "@cowork/db";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { SCALE_ID, seedScale } from "@cowork/db/seed-scale";
import { createTestDatabase, testDriver, type TestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config";
import { createServiceDeps } from "..";
import { type ServiceDeps } from "../deps";
import { sealBacklog, unsealedCount } from "./seal-backlog";
import { verifyAuditLog } from "./verify";

const SIZES = { locations: 4, coworkers: 500, audit: 5000, sessions: 500, grants: 100 };

if (testDriver() === "postgres") {
  describe("sealing a seeded backlog", () => {
    let database: TestDatabase;
    let deps: ServiceDeps;
    const lines: string[] = [];
    let sealed = 0;

    beforeAll(async () => {
      database = await createTestDatabase("postgres");
      await seedFixture(database.db, await readFixtureFile(demoFixturePath));
      await seedScale(database, SIZES, () => undefined);
      deps = await createServiceDeps(database.db, loadConfig({ AUTH_ISSUER: "http://seal.test" }));
      sealed = await sealBacklog(deps, (line) => lines.push(line), { batch: 700, everyMs: 0 });
    }, 120_000);
    afterAll(async () => database?.close());

    it("seals every seeded event, in rounds of the batch size, with a checkpoint each", async () => {
      expect(sealed).toBe(SIZES.audit);
      expect(await unsealedCount(database.db)).toBe(0);
      const [row] = await queryRows<{ checkpoints: number; locations: number; gaps: number }>(
        database.db,
        sql`select
          (select count(*)::int from audit_checkpoints where location_id > ${SCALE_ID}) as checkpoints,
          (select count(distinct location_id)::int from audit_events where location_id > ${SCALE_ID}) as locations,
          (select count(*)::int from (
             select location_id, count(*) as n, max(seq) as top from audit_events
             where location_id > ${SCALE_ID} group by location_id) l where n <> top) as gaps`,
      );
      expect(row?.gaps).toBe(0);
      // At least one round per location, and a round never takes more than the batch.
      expect(row?.checkpoints).toBeGreaterThanOrEqual(Math.ceil(SIZES.audit / 700));
      expect(row?.checkpoints).toBeGreaterThanOrEqual(row!.locations);
      expect(lines.at(-1)).toMatch(
        new RegExp(`^audit sealing: ${SIZES.audit}/${SIZES.audit} events`),
      );
    });

    it("leaves a log that verifies, and nothing to seal a second time", async () => {
      const result = await verifyAuditLog(database.db, deps.signer.keys, "http://seal.test");
      expect(result.failure).toBeNull();
      expect(result.events).toBe(SIZES.audit);
      expect(await sealBacklog(deps, () => undefined)).toBe(0);
    });

    it("is caught by the verification when a sealed seeded event is changed", async () => {
      await queryRows(
        database.db,
        sql`update audit_events set reason = 'changed' where id = (
              select min(id) from audit_events where location_id = ${SCALE_ID + 2})`,
      );
      const result = await verifyAuditLog(database.db, deps.signer.keys, "http://seal.test", {
        locationId: SCALE_ID + 2,
      });
      expect(result.failure?.seq).toBe(1);
    });
  });
}
