// Sealing the audit log: seq is gapless per location, every leaf hashes the listed item, each
// checkpoint is an EdDSA JWS over the root of the tree it names (checked here with jose and a
// Merkle tree hash written in this file, not with the code under test), a checkpoint only when
// the log grew, and a rename after sealing changes nothing signed. On PostgreSQL: two sealers of
// two pools on one database, with event writers racing them, give no gap and no duplicate.
import { createHash } from "node:crypto";
import { auditEvents, createPostgres, queryRows, users } from "@cowork/db";
import { testDriver } from "@cowork/db/testing";
import canonicalize from "canonicalize";
import { eq, sql } from "drizzle-orm";
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi, testTimes } from "../../testing";
import { recordAudit } from "../audit";
import { SEAL_LOCK, sealAll, sealLocation } from "./seal";
import { startAuditSealer } from "./sealer";

const driver = testDriver();
let api: TestApi;

beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});

// ---- an independent RFC 9162 tree hash, for checking ------------------------------------------
const sha256 = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const leafOf = (item: Record<string, unknown>) => {
  const { seq: _s, leafHash: _l, ...rest } = item;
  return sha256(Buffer.of(0), Buffer.from(canonicalize(rest)!, "utf8")).toString("base64url");
};
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
const rootOf = (hashes: string[]) =>
  mth(hashes.map((hash) => Buffer.from(hash, "base64url"))).toString("base64url");

const adminOf = async (locationId: number) =>
  api.caller(await api.signIn("ada.admin@demo.test", locationId));

async function allItems(locationId: number) {
  const caller = await adminOf(locationId);
  const items = [];
  let cursor: number | undefined;
  for (;;) {
    const page = await caller.audit.listEvents({ limit: 200, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return items.filter((item) => item.seq !== null).sort((a, b) => a.seq! - b.seq!);
}

async function checkpoints(db = api.database.db, locationId?: number) {
  return queryRows<{
    location_id: number;
    size: number;
    root: string;
    jws: string;
    signed_at: Date;
  }>(
    db,
    sql`select location_id, size, root, jws, signed_at from audit_checkpoints
        where ${locationId ?? null}::int is null or location_id = ${locationId ?? null}
        order by location_id, size`,
  );
}

describe("sealing", () => {
  it("numbers each location's events 1, 2, 3 … and hashes each leaf from the listed item", async () => {
    await api.signIn("milo.member@demo.test");
    await api.signIn("rita.riverside@demo.test");
    await sealAll(api.deps);
    for (const locationId of [1, 2]) {
      const items = await allItems(locationId);
      expect(items.length).toBeGreaterThan(0);
      expect(items.map((item) => item.seq)).toEqual(items.map((_, index) => index + 1));
      for (const item of items) expect(item.leafHash).toBe(leafOf(item));
    }
  });

  it("signs checkpoints that verify against the JWKS and name the root of the tree they cover", async () => {
    await sealAll(api.deps);
    const jwks = createLocalJWKSet(api.deps.signer.keys.jwks);
    for (const locationId of [1, 2]) {
      const leaves = (await allItems(locationId)).map((item) => item.leafHash!);
      const signed = await checkpoints(api.database.db, locationId);
      expect(signed.length).toBeGreaterThan(0);
      for (const checkpoint of signed) {
        const header = decodeProtectedHeader(checkpoint.jws);
        expect(header).toEqual({
          alg: "EdDSA",
          typ: "audit-checkpoint+jwt",
          kid: api.deps.signer.keys.signing.kid,
        });
        const { payload } = await compactVerify(checkpoint.jws, jwks, { algorithms: ["EdDSA"] });
        const claims = JSON.parse(Buffer.from(payload).toString("utf8")) as Record<string, unknown>;
        expect(Object.keys(claims).sort()).toEqual(["iat", "iss", "loc", "root", "size"]);
        expect(claims).toMatchObject({
          iss: "http://portal.test",
          loc: locationId,
          size: Number(checkpoint.size),
          root: checkpoint.root,
        });
        expect(claims.iat).toBe(Math.floor(checkpoint.signed_at.getTime() / 1000));
        expect(checkpoint.root).toBe(rootOf(leaves.slice(0, Number(checkpoint.size))));
      }
    }
  });

  it("signs a new checkpoint only when the log grew", async () => {
    await sealAll(api.deps);
    const before = await checkpoints();
    expect(await sealAll(api.deps)).toEqual([]);
    expect(await checkpoints()).toEqual(before);
    await api.signIn("milo.member@demo.test");
    const signed = await sealAll(api.deps);
    expect(signed.map((checkpoint) => checkpoint.locationId)).toEqual([1]);
    expect((await checkpoints()).length).toBe(before.length + 1);
  });

  it("leaves seq and leafHash null until the event is sealed", async () => {
    await api.signIn("milo.member@demo.test");
    const [newest] = (await (await adminOf(1)).audit.listEvents({ limit: 1 })).items;
    expect(newest).toMatchObject({ seq: null, leafHash: null });
    await sealAll(api.deps);
    const [sealed] = (await (await adminOf(1)).audit.listEvents({ limit: 200 })).items.filter(
      (item) => item.id === newest!.id,
    );
    expect(sealed!.seq).toBeGreaterThan(0);
    expect(sealed!.leafHash).toBe(leafOf(sealed!));
  });

  it("keeps the names an event was sealed with: a later rename changes nothing signed", async () => {
    await api.signIn("milo.member@demo.test");
    await sealAll(api.deps);
    const before = await allItems(1);
    const milo = before.filter((item) => item.actor?.userId === 4);
    expect(milo.length).toBeGreaterThan(0);
    await api.database.db.update(users).set({ fullName: "Milo Renamed" }).where(eq(users.id, 4));
    try {
      const after = await allItems(1);
      expect(after).toEqual(before);
      for (const item of after) expect(item.leafHash).toBe(leafOf(item));
    } finally {
      await api.database.db.update(users).set({ fullName: "Milo Member" }).where(eq(users.id, 4));
    }
  });

  it("seals within one interval when started as the server starts it, and stops cleanly", async () => {
    await api.signIn("milo.member@demo.test");
    const sealer = startAuditSealer(api.deps, { intervalMs: 50 });
    try {
      await expect
        .poll(
          async () =>
            (
              await queryRows<{ n: number }>(
                api.database.db,
                sql`select count(*)::int as n from audit_events where seq is null and location_id is not null`,
              )
            )[0]!.n,
          { timeout: 5000, interval: 50 },
        )
        .toBe(0);
    } finally {
      await sealer.stop();
    }
  });

  it("seals a backlog in rounds of at most one batch, one checkpoint per round", async () => {
    for (let index = 0; index < 7; index++)
      await recordAudit(
        api.database.db,
        { type: "signin", outcome: "success", actorUserId: 4, locationId: 2 },
        testTimes(),
      );
    const before = (await checkpoints(api.database.db, 2)).at(-1)!;
    const first = await sealLocation(api.deps, 2, { batch: 3 });
    expect(first).toMatchObject({ size: Number(before.size) + 3 });
    const rest = await sealAll(api.deps, { batch: 3 });
    expect(rest.map((checkpoint) => checkpoint.size)).toEqual([
      Number(before.size) + 6,
      Number(before.size) + 7,
    ]);
  });
});

if (driver === "postgres") {
  describe("two sealers on one PostgreSQL database, with concurrent event writers", () => {
    it("never makes an event write wait for a sealer: 32 sign-ins complete while another process holds the location's seal, and this sealer skips it at once", async () => {
      const other = createPostgres(api.database.url!, 2);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      // Another process mid-round: its transaction holds location 1's seal until released.
      const round = other.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${SEAL_LOCK}, 1)`);
        holding();
        await released;
      });
      await held;
      try {
        const before = await queryRows<{ n: number }>(
          api.database.db,
          sql`select count(*)::int as n from audit_events where location_id = 1`,
        );
        await Promise.all(Array.from({ length: 32 }, () => api.signIn("milo.member@demo.test")));
        const after = await queryRows<{ n: number }>(
          api.database.db,
          sql`select count(*)::int as n from audit_events where location_id = 1`,
        );
        expect(after[0]!.n - before[0]!.n).toBe(32);
        expect(await sealLocation(api.deps, 1)).toBeNull();
      } finally {
        release();
        await round;
        await other.close();
      }
      expect((await sealAll(api.deps)).map((checkpoint) => checkpoint.locationId)).toContain(1);
    });

    it("gives every event exactly one seq, without gaps, and a checkpoint per round that grew", async () => {
      const other = createPostgres(api.database.url!, 4);
      const second = { ...api.deps, db: other.db };
      try {
        const writers = Array.from({ length: 8 }, async (_, writer) => {
          for (let index = 0; index < 40; index++) {
            await recordAudit(
              writer % 2 ? api.database.db : other.db,
              { type: "signin", outcome: "success", actorUserId: 4, locationId: 1 + (index % 2) },
              testTimes(),
            );
          }
        });
        let writing = true;
        const done = Promise.all(writers).finally(() => (writing = false));
        const sealers = [api.deps, second].map(async (deps) => {
          while (writing) await sealAll(deps, { batch: 7 });
        });
        await Promise.all([done, ...sealers]);
        await sealAll(api.deps);

        const unsealed = await api.database.db
          .select({ id: auditEvents.id })
          .from(auditEvents)
          .where(sql`${auditEvents.seq} is null and ${auditEvents.locationId} is not null`);
        expect(unsealed).toEqual([]);
        for (const locationId of [1, 2]) {
          const items = await allItems(locationId);
          expect(items.map((item) => item.seq)).toEqual(items.map((_, index) => index + 1));
          const leaves = items.map((item) => item.leafHash!);
          for (const item of items) expect(item.leafHash).toBe(leafOf(item));
          const signed = await checkpoints(api.database.db, locationId);
          expect(signed.at(-1)!.size).toBe(items.length);
          for (const checkpoint of signed)
            expect(checkpoint.root).toBe(rootOf(leaves.slice(0, Number(checkpoint.size))));
        }
      } finally {
        await other.close();
      }
    });
  });
}
