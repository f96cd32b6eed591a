// The audit log: who may read it (admins of the active location only), what each event carries,
// order, pagination and filters; and that every issue, exchange, refusal and stop is in it.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../root";
import { AUDIT_TYPES } from "../services/audit";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
const token: Record<string, string> = {};
let issuedJti: string;
let impersonationToken: string;
let exchangedToken: string;

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (bearer: string | null | undefined, ip?: string) => api.caller(bearer ?? null, ip);
const list = async (
  bearer: string,
  input: Parameters<Awaited<ReturnType<TestApi["caller"]>>["audit"]["listEvents"]>[0] = {},
) => (await as(bearer)).audit.listEvents(input);

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  token.ada = await api.signIn("ada.admin@demo.test");
  token.adaL2 = await api.signIn("ada.admin@demo.test", 2);
  token.otto = await api.signIn("otto.operator@demo.test");
  token.tess = await api.signIn("tess.teamadmin@demo.test");
  token.milo = await api.signIn("milo.member@demo.test");
  token.rita = await api.signIn("rita.riverside@demo.test");

  impersonationToken = (
    await (
      await as(token.otto, "198.51.100.1")
    ).impersonation.impersonate({ coworkerId: 42, reason: "ticket-1" })
  ).token;
  issuedJti = decodeJwt(impersonationToken).jti!;
  await expectRefused(
    (await as(token.otto, "198.51.100.1")).impersonation.impersonate({ coworkerId: 50 }),
    404,
    "not_found",
  );
  await expectRefused(
    (await as(token.otto, "198.51.100.1")).impersonation.impersonate({ coworkerId: 51 }),
    404,
    "not_found",
  );
  await (
    await as(token.tess, "198.51.100.2")
  ).impersonation.impersonateTeamMember({ coworkerId: 43, reason: "team help" });
  exchangedToken = (
    await (await as(null, "198.51.100.3")).impersonation.exchange({ token: impersonationToken })
  ).accessToken!;
  await expectRefused(
    (await as(null, "198.51.100.4")).impersonation.exchange({ token: impersonationToken }),
    401,
    "invalid_token",
  );
  await (await as(exchangedToken, "198.51.100.5")).impersonation.stopImpersonating();
  await (
    await as(token.rita, "198.51.100.6")
  ).impersonation.impersonateTeamMember({ coworkerId: 50 });
  await expectRefused(
    (await as(null, "198.51.100.7")).auth.signIn({
      email: "milo.member@demo.test",
      password: "wrong-password",
    }),
    400,
    "invalid_grant",
  );
});
afterAll(() => api.close());

describe("who may read the audit log", () => {
  it("answers 401 to anyone but an admin of the active location", async () => {
    const adaAsOtto = (
      await (
        await as(null)
      ).impersonation.exchange({
        token: (await (await as(token.ada)).impersonation.impersonate({ coworkerId: 46 })).token,
      })
    ).accessToken!;
    const cases: [string, string | null][] = [
      ["anonymous", null],
      ["a bearer that is not a token", "garbage"],
      ["a customer", token.milo!],
      ["a team admin", token.tess!],
      ["an operator", token.otto!],
      ["an impersonated session of an operator, by an admin", adaAsOtto],
    ];
    for (const [name, bearer] of cases) {
      await expectRefused((await as(bearer)).audit.listEvents({}), 401, "unauthorized", name);
    }
  });

  it("shows an admin only the active location's events", async () => {
    const l1 = await list(token.ada!, { limit: 200 });
    const l2 = await list(token.adaL2!, { limit: 200 });
    expect(l1.items.length).toBeGreaterThan(5);
    expect(l2.items.length).toBeGreaterThan(0);
    expect(l1.items.every((item) => item.locationId === 1)).toBe(true);
    expect(l2.items.every((item) => item.locationId === 2)).toBe(true);
    expect(l2.items).toContainEqual(
      expect.objectContaining({
        type: "impersonation.issued",
        actor: { userId: 7, fullName: "Rita Riverside" },
        target: { coworkerId: 50, fullName: "Nora Nomad" },
      }),
    );
    expect(l1.items.some((item) => item.actor?.userId === 7)).toBe(false);
  });

  it("offers no way to change or delete events", () => {
    const all = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
    const procedures = Object.keys(all).filter((name) => name.startsWith("audit."));
    expect(procedures).toEqual([
      "audit.listEvents",
      "audit.listCheckpoints",
      "audit.proof",
      "audit.exportPage",
    ]);
    // Reads only: nothing of the log can be changed or deleted through the API.
    expect(procedures.map((name) => all[name]!._def.type)).toEqual(procedures.map(() => "query"));
  });
});

describe("what the events say", () => {
  it("records an issue with actor, target, location, reason, time, address and outcome (G1)", async () => {
    const { items } = await list(token.ada!, { actorUserId: 2, targetCoworkerId: 42 });
    const issued = items.find(
      (item) => item.type === "impersonation.issued" && item.outcome === "success",
    );
    expect(issued).toMatchObject({
      actor: { userId: 2, fullName: "Otto Operator" },
      target: { coworkerId: 42, fullName: "Milo Member" },
      locationId: 1,
      reason: "ticket-1",
      ip: "198.51.100.1",
      detail: null,
    });
    expect(issued!.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(issued!.at) - Date.now())).toBeLessThan(120_000);
    const team = (await list(token.ada!, { actorUserId: 3 })).items.find(
      (item) => item.type === "impersonation.issued",
    );
    expect(team).toMatchObject({
      actor: { userId: 3 },
      target: { coworkerId: 43 },
      reason: "team help",
      ip: "198.51.100.2",
      outcome: "success",
    });
  });

  it("records exchange, replay and stop with the grant's actor and target (G2, G4)", async () => {
    const { items } = await list(token.ada!, { targetCoworkerId: 42, limit: 200 });
    const mine = items.filter((item) => item.actor?.userId === 2);
    const byType = (type: string, outcome: string) =>
      mine.filter((item) => item.type === type && item.outcome === outcome);
    expect(byType("impersonation.exchanged", "success")).toEqual([
      expect.objectContaining({ ip: "198.51.100.3", reason: "ticket-1", detail: null }),
    ]);
    expect(byType("impersonation.exchanged", "refused")).toEqual([
      expect.objectContaining({ ip: "198.51.100.4", detail: "already_used" }),
    ]);
    expect(byType("impersonation.stopped", "success")).toEqual([
      expect.objectContaining({
        ip: "198.51.100.5",
        target: { coworkerId: 42, fullName: "Milo Member" },
      }),
    ]);
    const [counts] = await rows<{ issued: number; exchanged: number; stopped: number }>(
      sql`select count(*) filter (where type = 'impersonation.issued')::int as issued,
                 count(*) filter (where type = 'impersonation.exchanged')::int as exchanged,
                 count(*) filter (where type = 'impersonation.stopped')::int as stopped
          from audit_events where jti = ${issuedJti}`,
    );
    expect(counts).toEqual({ issued: 1, exchanged: 2, stopped: 1 });
  });

  it("records a refused issue with the reason code (G3)", async () => {
    const { items } = await list(token.ada!, { actorUserId: 2 });
    expect(items).toContainEqual(
      expect.objectContaining({
        type: "impersonation.issued",
        outcome: "refused",
        detail: "not_found",
        locationId: 1,
        ip: "198.51.100.1",
      }),
    );
  });

  it("records a refused issue by a customer or an impersonated session (G3: every refusal)", async () => {
    await expectRefused(
      (await as(token.milo, "198.51.100.8")).impersonation.impersonate({ coworkerId: 43 }),
      401,
      "unauthorized",
      "customer",
    );
    const asMilo = (
      await (
        await as(null)
      ).impersonation.exchange({
        token: (await (await as(token.otto)).impersonation.impersonate({ coworkerId: 42 })).token,
      })
    ).accessToken!;
    await expectRefused(
      (await as(asMilo, "198.51.100.9")).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      401,
      "unauthorized",
      "impersonated",
    );
    const refused = await rows<{
      ip: string;
      type: string;
      outcome: string;
      actor_user_id: number;
    }>(
      sql`select ip, type, outcome, actor_user_id from audit_events where ip in ('198.51.100.8', '198.51.100.9') order by ip`,
    );
    expect(refused).toMatchObject([
      { ip: "198.51.100.8", type: "impersonation.issued", outcome: "refused", actor_user_id: 4 },
      { ip: "198.51.100.9", type: "impersonation.issued", outcome: "refused" },
    ]);
  });

  it("does not name another location's coworker in this location's log", async () => {
    // Otto (L1) probed coworker 51, who exists only in L2: L1's admins must not learn her name.
    const { items } = await list(token.ada!, { limit: 200 });
    const probe = items.filter(
      (item) =>
        item.type === "impersonation.issued" &&
        item.outcome === "refused" &&
        item.ip === "198.51.100.1",
    );
    expect(probe).toHaveLength(2);
    expect(items.some((item) => item.target?.fullName === "Rita Riverside")).toBe(false);
  });

  it("files a failed sign-in under the account's home location", async () => {
    const { items } = await list(token.ada!, { actorUserId: 4 });
    expect(items).toContainEqual(
      expect.objectContaining({
        type: "signin.failed",
        outcome: "refused",
        detail: "invalid_credentials",
        ip: "198.51.100.7",
        locationId: 1,
      }),
    );
  });

  it("uses only the contract's event types and outcomes", async () => {
    const { items } = await list(token.ada!, { limit: 200 });
    for (const item of items) {
      expect(AUDIT_TYPES).toContain(item.type);
      expect(["success", "refused"]).toContain(item.outcome);
      expect(Object.keys(item)).toEqual(
        expect.arrayContaining([
          "id",
          "at",
          "type",
          "actor",
          "target",
          "locationId",
          "reason",
          "ip",
          "outcome",
          "detail",
        ]),
      );
    }
  });

  it("never stores a raw token (G2)", async () => {
    const secrets = [impersonationToken, exchangedToken, token.otto!, token.ada!].map(
      (value) => value.split(".")[2]!,
    );
    const dump = (
      await rows<{ row: string }>(sql`select row_to_json(a)::text as row from audit_events a`)
    )
      .map((row) => row.row)
      .join("\n");
    expect(dump.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(dump).not.toContain(secret);
  });
});

describe("order, pagination and filters", () => {
  it("lists newest first", async () => {
    const { items } = await list(token.ada!, { limit: 200 });
    for (let i = 1; i < items.length; i++) {
      expect(items[i]!.id).toBeLessThan(items[i - 1]!.id);
      expect(Date.parse(items[i]!.at)).toBeLessThanOrEqual(Date.parse(items[i - 1]!.at));
    }
  });

  it("pages with a cursor through exactly the full list", async () => {
    const full = (await list(token.ada!, { limit: 200 })).items.map((item) => item.id);
    const paged: number[] = [];
    let cursor: number | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await list(token.ada!, { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(result.items.length).toBeLessThanOrEqual(3);
      paged.push(...result.items.map((item) => item.id));
      if (result.nextCursor === null) break;
      expect(result.nextCursor).toBe(result.items.at(-1)!.id);
      cursor = result.nextCursor;
    }
    expect(paged).toEqual(full);
    expect(new Set(paged).size).toBe(paged.length);
  });

  it("answers an exact last page without a next cursor", async () => {
    const full = (await list(token.ada!, { limit: 200 })).items;
    const exact = await list(token.ada!, { limit: full.length });
    expect(exact.items).toHaveLength(full.length);
    expect(exact.nextCursor).toBeNull();
    expect((await list(token.ada!, { limit: full.length - 1 })).nextCursor).toBe(full.at(-2)!.id);
  });

  it("filters by actor and by target, alone and together", async () => {
    const byActor = (await list(token.ada!, { actorUserId: 3, limit: 200 })).items;
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((item) => item.actor?.userId === 3)).toBe(true);
    const byTarget = (await list(token.ada!, { targetCoworkerId: 42, limit: 200 })).items;
    expect(byTarget.length).toBeGreaterThan(0);
    expect(byTarget.every((item) => item.target?.coworkerId === 42)).toBe(true);
    const both = (await list(token.ada!, { actorUserId: 3, targetCoworkerId: 42, limit: 200 }))
      .items;
    expect(both.every((item) => item.actor?.userId === 3 && item.target?.coworkerId === 42)).toBe(
      true,
    );
    expect((await list(token.ada!, { actorUserId: 7, limit: 200 })).items).toEqual([]);
  });

  it("defaults to 50 and accepts at most 200", async () => {
    // Enough history for full pages, written directly (signing in 250 times would take minutes).
    await rows(sql`insert into audit_events (type, outcome, actor_user_id, location_id, ip)
                   select 'signin', 'success', 4, 1, '198.51.100.99' from generate_series(1, 250)`);
    const defaults = await list(token.ada!);
    expect(defaults.items).toHaveLength(50);
    expect(defaults.nextCursor).toBe(defaults.items[49]!.id);
    const largest = await list(token.ada!, { limit: 200 });
    expect(largest.items).toHaveLength(200);
    expect(largest.nextCursor).toBe(largest.items[199]!.id);
    for (const input of [
      { limit: 201 },
      { limit: 0 },
      { limit: 1.5 },
      { cursor: 0 },
      { actorUserId: -1 },
      { targetCoworkerId: "42" },
      { locationId: 2 },
    ]) {
      await expectRefused(
        (await as(token.ada)).audit.listEvents(input as never),
        400,
        "invalid_request",
        JSON.stringify(input),
      );
    }
  });
});
