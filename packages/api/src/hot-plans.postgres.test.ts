// Every hot statement keeps an index plan at a size where a missing index shows: a database
// seeded with a few hundred thousand rows (pnpm db:seed-scale's shape, scaled down), sealed, and
// analyzed, where PostgreSQL's planner reads a table whole as soon as no index serves the query.
// The statements are the ones the service sends (recorded while the procedures run), explained
// with their own parameters. PostgreSQL only: PGlite has no such planner statistics to speak of.
import { createRecordingPostgres, queryRows, type RecordingDatabase } from "@cowork/db";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import {
  HOT_MEMBER,
  SCALE_ID,
  SCALE_MEMBER_USER,
  SCALE_PASSWORD,
  seedScale,
} from "@cowork/db/seed-scale";
import { createTestDatabase, testDriver, type TestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config";
import { explainStatements, type ExplainedStatement, recordHotStatements } from "./hot-plans";
import { createServiceDeps } from "./services";
import { sealBacklog } from "./services/audit-log/seal-backlog";

const driver = testDriver();
const SIZES = {
  locations: 10,
  coworkers: 20_000,
  audit: 200_000,
  sessions: 200_000,
  grants: 100_000,
};

if (driver === "postgres") {
  describe("the hot paths' plans on a scaled database", () => {
    let database: TestDatabase;
    let recording: RecordingDatabase;
    let explained: ExplainedStatement[];

    beforeAll(async () => {
      database = await createTestDatabase("postgres");
      await seedFixture(database.db, await readFixtureFile(demoFixturePath));
      await seedScale(database, SIZES, () => undefined);
      const config = loadConfig({ AUTH_ISSUER: "http://plans.test" });
      await sealBacklog(await createServiceDeps(database.db, config), () => undefined);
      await (database.connection.client as { unsafe(q: string): Promise<unknown> }).unsafe(
        "vacuum analyze",
      );
      // The busiest seeded location is the first; a cursor 20,000 events deep into its log.
      const [deep] = await queryRows<{ id: number }>(
        database.db,
        sql`select id from audit_events where location_id = ${SCALE_ID + 1} order by id desc offset 20000 limit 1`,
      );
      recording = createRecordingPostgres(database.url!);
      const deps = await createServiceDeps(recording.db, config);
      const statements = await recordHotStatements(recording, deps, {
        flowActor: { email: "ada.admin@demo.test", password: "demo-admin-pass" },
        flowCoworkerId: 42,
        auditAdmin: { email: "scale-admin-1@scale.test", password: SCALE_PASSWORD },
        deepCursor: deep!.id,
        member: {
          email: `scale-member-${HOT_MEMBER.userId - SCALE_MEMBER_USER}@scale.test`,
          password: SCALE_PASSWORD,
        },
      });
      explained = await explainStatements(recording.connection.client as never, statements);
    }, 300_000);

    afterAll(async () => {
      await recording?.close();
      await database?.close();
    });

    it("records the statements of every hot operation", () => {
      const operations = new Set(explained.map((statement) => statement.operation));
      expect([...operations].sort()).toEqual(
        [
          "access history",
          "audit list: deep page",
          "audit list: first page",
          "export: a page",
          "flow: exchange",
          "flow: issue",
          "me",
          "sealer: a round",
        ].sort(),
      );
    });

    it("reads no large table whole on any hot path", () => {
      const scans = explained
        .filter((statement) => statement.seqScans.length > 0)
        .map(
          (statement) =>
            `${statement.operation}: ${statement.seqScans.join(", ")} in ${statement.text}`,
        );
      expect(scans).toEqual([]);
    });

    it("would see a sequential scan if one were planned", async () => {
      const [probe] = await explainStatements(recording.connection.client as never, [
        {
          operation: "probe",
          text: "select id from audit_events where ip = $1",
          params: ["203.0.113.9"],
        },
      ]);
      expect(probe!.seqScans).toEqual(["audit_events"]);
    });
  });
}
