// `pnpm audit:verify` against tampering, run as the command runs (a child process on the
// database's files or URL): a clean log passes; a changed, deleted or reordered event, or a
// rewritten leaf hash, is found and named by the first seq that no longer matches, exit status 1.
// On the project's driver (PGlite here, PostgreSQL with TEST_DB=postgres).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  auditEvents,
  coworkers,
  createPglite,
  type DatabaseHandle,
  locations,
  queryRows,
  users,
} from "@cowork/db";
import { migrateDatabase } from "@cowork/db/migrate";
import { createTestDatabase, testDriver } from "@cowork/db/testing";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { createServiceDeps } from "../services";
import { recordAudit } from "../services/audit";
import { auditLeafHash, selectAuditItems, toAuditItem } from "../services/audit-items";
import { sealAll } from "../services/audit-log/seal";
import { verifyAuditLog } from "../services/audit-log/verify";
import { proveInclusion } from "../services/audit-log/read";
import { existingKeys } from "../services/keys";
import { pruneAuditEvents } from "../services/retention/audit-prune";
import { testTimes } from "../testing";

const run = promisify(execFile);
const driver = testDriver();
const ISSUER = "http://portal.test";
const packageDir = fileURLToPath(new URL("../..", import.meta.url));

/** A database with a sealed log: 12 events in location 1 (checkpoints 4, 8, 12), 3 in location 2. */
async function buildLog(handle: DatabaseHandle) {
  // The rows the events name (no passwords are checked here, so no fixture with its slow hashes).
  await handle.db.insert(locations).values([
    { id: 1, name: "Downtown Hub", timeZone: "Europe/London" },
    { id: 2, name: "Riverside Loft", timeZone: "Europe/Madrid" },
  ]);
  await handle.db.insert(users).values([
    { id: 2, email: "otto@verify.test", fullName: "Otto Operator", passwordHash: "-" },
    { id: 7, email: "rita@verify.test", fullName: "Rita Riverside", passwordHash: "-" },
  ]);
  await handle.db
    .insert(coworkers)
    .values({ id: 42, userId: 7, locationId: 1, fullName: 'Rita, "R"' });
  const config = { ...loadConfig({ AUTH_ISSUER: ISSUER }), signingKeys: null };
  const deps = await createServiceDeps(handle.db, config);
  for (let round = 0; round < 3; round++) {
    for (let index = 0; index < 4; index++)
      await recordAudit(
        handle.db,
        {
          type: "impersonation.issued",
          outcome: index % 2 ? "refused" : "success",
          actorUserId: 2,
          targetCoworkerId: 42,
          locationId: 1,
          kind: "staff",
          reason: `ticket "${round}-${index}", urgent`,
          ip: "203.0.113.9",
          detail: index % 2 ? "rank" : null,
          readOnly: false,
        },
        testTimes(),
      );
    await recordAudit(
      handle.db,
      { type: "signin", outcome: "success", actorUserId: 7, locationId: 2 },
      testTimes(),
    );
    await sealAll(deps);
  }
  return deps;
}

interface Outcome {
  code: number;
  stdout: string;
}

/** A database on the project's driver, built, tampered with, and checked by the command. */
async function verifyAfter(
  tamper: (handle: DatabaseHandle) => Promise<unknown>,
  args: string[] = [],
): Promise<Outcome> {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  if (driver === "pglite") {
    const dir = mkdtempSync(join(tmpdir(), "audit-verify-"));
    const handle = createPglite(dir);
    await migrateDatabase(handle);
    await buildLog(handle);
    await tamper(handle);
    await handle.close();
    env = { PGLITE_DIR: dir };
    cleanup = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
  } else {
    const handle = await createTestDatabase("postgres");
    await buildLog(handle);
    await tamper(handle);
    env = { DATABASE_URL: handle.url! };
    cleanup = () => handle.close();
  }
  try {
    const { stdout } = await run("pnpm", ["-s", "audit:verify", ...args], {
      cwd: packageDir,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, AUTH_ISSUER: ISSUER, ...env },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  } finally {
    await cleanup();
  }
}

const exec = (handle: DatabaseHandle, statement: ReturnType<typeof sql>) =>
  queryRows(handle.db, statement);

/**
 * AUDIT_RETENTION_DAYS=30 after location 1's first six events grew 40 days old: seq 1–6 are
 * pruned, in batches of four.
 */
async function pruneOldest(handle: DatabaseHandle) {
  await exec(
    handle,
    sql`update audit_events set at = at - interval '40 days' where location_id = 1 and seq <= 6`,
  );
  const result = await pruneAuditEvents(handle.db, 30, { batch: 4, over: () => false });
  expect(result).toEqual({ pruned: 6, more: false });
}

describe(`pnpm audit:verify (${driver})`, { timeout: 300_000 }, () => {
  it("passes a log nobody touched: every event and checkpoint checked, exit 0", async () => {
    const outcome = await verifyAfter(() => Promise.resolve());
    expect(outcome).toEqual({ code: 0, stdout: "checked 15 events and 6 checkpoints\n" });
  });

  it("names a changed event by its seq, and exits 1", async () => {
    const outcome = await verifyAfter((handle) =>
      exec(
        handle,
        sql`update audit_events set reason = 'nothing to see' where location_id = 1 and seq = 6`,
      ),
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/^checked 5 events and 1 checkpoints\nlocation 1: seq 6 /);
  });

  it("names a deleted event by its seq, and exits 1", async () => {
    const outcome = await verifyAfter((handle) =>
      exec(handle, sql`delete from audit_events where location_id = 1 and seq = 5`),
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/\nlocation 1: seq 5 is missing/);
  });

  it("names the first of two reordered events, and exits 1", async () => {
    const outcome = await verifyAfter(async (handle) => {
      await exec(handle, sql`update audit_events set seq = 0 where location_id = 1 and seq = 3`);
      await exec(handle, sql`update audit_events set seq = 3 where location_id = 1 and seq = 7`);
      await exec(handle, sql`update audit_events set seq = 7 where location_id = 1 and seq = 0`);
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/\nlocation 1: seq 3 /);
  });

  it("finds a change whose stored leaf hash was rewritten too: the signed root no longer matches", async () => {
    const outcome = await verifyAfter(async (handle) => {
      await exec(
        handle,
        sql`update audit_events set reason = 'rewritten' where location_id = 1 and seq = 6`,
      );
      const [row] = await selectAuditItems(handle.db).where(
        and(eq(auditEvents.locationId, 1), eq(auditEvents.seq, 6)),
      );
      const hash = auditLeafHash(toAuditItem(row!));
      await exec(
        handle,
        sql`update audit_nodes set hash = ${hash} where location_id = 1 and level = 0 and idx = 5`,
      );
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/\nlocation 1: seq 5 … 8: these events no longer have the root/);
  });

  it("names the last event when it is deleted, since a checkpoint covers it", async () => {
    const outcome = await verifyAfter((handle) =>
      exec(handle, sql`delete from audit_events where location_id = 1 and seq = 12`),
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/\nlocation 1: seq 12 is missing/);
  });

  it("checks one location with --location, and refuses arguments it does not know", async () => {
    const tamper = (handle: DatabaseHandle) =>
      exec(handle, sql`update audit_events set ip = '192.0.2.1' where location_id = 1 and seq = 1`);
    expect(await verifyAfter(tamper, ["--location", "2"])).toEqual({
      code: 0,
      stdout: "checked 3 events and 3 checkpoints\n",
    });
    const one = await verifyAfter(tamper, ["--location", "1"]);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/^checked 0 events and 0 checkpoints\nlocation 1: seq 1 /);
    expect((await verifyAfter(() => Promise.resolve(), ["--everything"])).code).toBe(2);
  });

  it("passes a log pruned by AUDIT_RETENTION_DAYS, checking the pruned events from their kept leaf hashes", async () => {
    const outcome = await verifyAfter(pruneOldest);
    expect(outcome).toEqual({
      code: 0,
      stdout:
        "checked 9 events and 6 checkpoints (and 6 events pruned by AUDIT_RETENTION_DAYS, from the leaf hashes kept of them)\n",
    });
  });

  it("after pruning, names the first kept event when it is deleted: it was not pruned", async () => {
    const outcome = await verifyAfter(async (handle) => {
      await pruneOldest(handle);
      await exec(handle, sql`delete from audit_events where location_id = 1 and seq = 7`);
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toMatch(/\nlocation 1: seq 7 is missing/);
  });
});

describe(`verifyAuditLog after pruning (${driver})`, () => {
  async function pruned(tamper: (handle: DatabaseHandle) => Promise<unknown>) {
    const handle = await createTestDatabase();
    try {
      const deps = await buildLog(handle);
      await pruneOldest(handle);
      await tamper(handle);
      const keys = await existingKeys(handle.db, deps.config);
      return await verifyAuditLog(handle.db, keys, ISSUER, { locationId: 1 });
    } finally {
      await handle.close();
    }
  }

  it("still finds a kept event that was changed", async () => {
    const result = await pruned((handle) =>
      exec(
        handle,
        sql`update audit_events set reason = 'nothing' where location_id = 1 and seq = 9`,
      ),
    );
    expect(result.failure).toMatchObject({ locationId: 1, seq: 9 });
    expect(result.failure!.problem).toMatch(/does not match its leaf/);
  });

  it("finds a pruned event's leaf hash rewritten: the signed root no longer matches", async () => {
    const result = await pruned((handle) =>
      exec(
        handle,
        sql`update audit_nodes set hash = (select hash from audit_nodes where location_id = 1 and level = 0 and idx = 0)
            where location_id = 1 and level = 0 and idx = 2`,
      ),
    );
    expect(result.failure).toMatchObject({ locationId: 1, seq: 1 });
    expect(result.failure!.problem).toMatch(
      /no longer have the root signed by the checkpoint of size 4/,
    );
  });

  it("keeps every inclusion proof, of pruned and of kept events alike", async () => {
    const handle = await createTestDatabase();
    try {
      await buildLog(handle);
      const proofs = async () =>
        Promise.all(
          [1, 4, 6, 7, 12].map((seq) =>
            proveInclusion(handle.db, 1, { seq, size: seq === 12 ? 12 : 8 }),
          ),
        );
      const before = await proofs();
      await pruneOldest(handle);
      expect(await proofs()).toEqual(before);
    } finally {
      await handle.close();
    }
  });

  it("prunes neither an unsealed event nor past a missing one, and never twice", async () => {
    const handle = await createTestDatabase();
    try {
      await buildLog(handle);
      await recordAudit(
        handle.db,
        { type: "signin", outcome: "success", actorUserId: 7, locationId: 1 },
        testTimes(),
      );
      await exec(handle, sql`update audit_events set at = at - interval '40 days'`);
      await exec(handle, sql`delete from audit_events where location_id = 1 and seq = 5`);
      const over = () => false;
      expect(await pruneAuditEvents(handle.db, 30, { batch: 4, over })).toEqual({
        pruned: 4 + 3,
        more: false,
      });
      const left = await queryRows<{ location_id: number; seq: number | null }>(
        handle.db,
        sql`select location_id, seq from audit_events order by location_id, seq nulls last`,
      );
      expect(left).toEqual([
        ...[6, 7, 8, 9, 10, 11, 12].map((seq) => ({ location_id: 1, seq })),
        { location_id: 1, seq: null },
      ]);
      expect(await pruneAuditEvents(handle.db, 30, { batch: 4, over })).toEqual({
        pruned: 0,
        more: false,
      });
    } finally {
      await handle.close();
    }
  });
});

describe(`verifyAuditLog (${driver})`, () => {
  it("refuses a checkpoint whose signature does not verify with the service's keys", async () => {
    const handle = await createTestDatabase();
    try {
      const deps = await buildLog(handle);
      const [checkpoint] = await queryRows<{ jws: string }>(
        handle.db,
        sql`select jws from audit_checkpoints where location_id = 1 and size = 8`,
      );
      const [header, payload, signature] = checkpoint!.jws.split(".");
      const forged = `${header}.${payload}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
      await exec(
        handle,
        sql`update audit_checkpoints set jws = ${forged} where location_id = 1 and size = 8`,
      );
      const keys = await existingKeys(handle.db, deps.config);
      const result = await verifyAuditLog(handle.db, keys, ISSUER, { locationId: 1 });
      expect(result.failure).toMatchObject({ locationId: 1, seq: 5 });
      expect(result.failure!.problem).toMatch(
        /signature of the checkpoint of size 8 does not verify/,
      );
    } finally {
      await handle.close();
    }
  });
});
