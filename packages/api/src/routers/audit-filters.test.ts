// The audit log's filters (CONTRACT §9, §11): person by name, type, outcome and a time range,
// alone and together, on the list (newest first, paged by cursor) and on the export's pages
// (oldest first). Each selection is checked against the full list filtered here, in the test, so
// a filter that drops or adds one event fails. The person filter reads the names the items show
// (sealed names once sealed, current ones before) and never reaches another location's events.
import { type AuditItem } from "@cowork/validators";
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealAll } from "../services/audit-log/seal";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
const token: Record<string, string> = {};

type Caller = Awaited<ReturnType<TestApi["caller"]>>;
type ListInput = Parameters<Caller["audit"]["listEvents"]>[0];
type Filter = Omit<NonNullable<ListInput>, "limit" | "cursor">;

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (bearer: string | null | undefined, ip?: string) => api.caller(bearer ?? null, ip);

/** Every event a filter selects, page by page through the list (small pages: the cursor works). */
async function listAll(bearer: string, filter: Filter, limit = 7): Promise<AuditItem[]> {
  const caller = await as(bearer);
  const items: AuditItem[] = [];
  let cursor: number | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await caller.audit.listEvents({
      ...filter,
      limit,
      ...(cursor ? { cursor } : {}),
    });
    expect(result.items.length).toBeLessThanOrEqual(limit);
    items.push(...result.items);
    if (result.nextCursor === null) return items;
    cursor = result.nextCursor;
  }
  return expect.fail("the list did not end");
}

/** The same selection through the export's pages, oldest first. */
async function exportAll(bearer: string, filter: Filter, limit = 9): Promise<AuditItem[]> {
  const caller = await as(bearer);
  const items: AuditItem[] = [];
  let after: number | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await caller.audit.exportPage({ ...filter, limit, ...(after ? { after } : {}) });
    items.push(...result.items);
    if (result.nextCursor === null) return items;
    after = result.nextCursor;
  }
  return expect.fail("the export did not end");
}

/** What the filter should select, decided here from the unfiltered list. */
function expected(all: AuditItem[], filter: Filter): number[] {
  const person = filter.person?.trim().toLowerCase();
  return all
    .filter(
      (item) =>
        (person === undefined ||
          [item.actor?.fullName, item.target?.fullName].some((name) =>
            name?.toLowerCase().includes(person),
          )) &&
        (filter.type === undefined || item.type === filter.type) &&
        (filter.outcome === undefined || item.outcome === filter.outcome) &&
        (filter.from === undefined || Date.parse(item.at) >= Date.parse(filter.from)) &&
        (filter.to === undefined || Date.parse(item.at) < Date.parse(filter.to)) &&
        (filter.actorUserId === undefined || item.actor?.userId === filter.actorUserId) &&
        (filter.targetCoworkerId === undefined ||
          item.target?.coworkerId === filter.targetCoworkerId),
    )
    .map((item) => item.id);
}

const ids = (items: AuditItem[]) => items.map((item) => item.id);

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  token.ada = await api.signIn("ada.admin@demo.test");
  token.adaL2 = await api.signIn("ada.admin@demo.test", 2);
  token.otto = await api.signIn("otto.operator@demo.test");
  await api.signIn("milo.member@demo.test");
  await api.signIn("rita.riverside@demo.test");
  await (await as(token.otto)).impersonation.impersonate({ coworkerId: 42, reason: "desk" });
  await (await as(token.otto)).impersonation.impersonate({ coworkerId: 43 });
  // Otto probes Rita's coworker id in L2 from L1: the L1 event must not name her.
  await expectRefused(
    (await as(token.otto)).impersonation.impersonate({ coworkerId: 51 }),
    404,
    "not_found",
  );
  await expectRefused(
    (await as(null)).auth.signIn({ email: "milo.member@demo.test", password: "wrong-password" }),
    400,
    "invalid_grant",
  );
  // Events at known instants, minute by minute from 1 March 2026 00:00 UTC: 60 of them, of
  // three types and both outcomes, by Otto, about Milo on every fourth.
  await rows(sql`insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, ip, at)
      select case n % 3 when 0 then 'impersonation.issued' when 1 then 'signin' else 'session.signed_out' end,
             case when n % 5 = 0 then 'refused' else 'success' end,
             2, case when n % 4 = 0 then 42 end, 1, '198.51.100.20',
             timestamptz '2026-03-01 00:00:00+00' + n * interval '1 minute'
      from generate_series(0, 59) as n`);
  // Names in the log that a LIKE pattern would treat as wildcards.
  await rows(sql`update users set full_name = 'Ivan 100% Indie_' where id = 6`);
  await api.signIn("ivan.indie@demo.test");
});
afterAll(() => api.close());

describe("the filters of the audit list and the export", () => {
  it("select exactly the events each filter names, alone and together, on both, in their orders", async () => {
    const all = await listAll(token.ada!, {}, 200);
    expect(all.length).toBeGreaterThan(65);
    const filters: Filter[] = [
      { person: "milo" },
      { person: "MILO MEMBER" },
      { person: "  ember " },
      { person: "otto" },
      { person: "Nomad" },
      { type: "impersonation.issued" },
      { type: "signin.failed" },
      { type: "policy.changed" },
      { outcome: "refused" },
      { outcome: "success" },
      { from: "2026-03-01T00:10:00Z" },
      { to: "2026-03-01T00:10:00Z" },
      { from: "2026-03-01T00:10:00Z", to: "2026-03-01T00:20:00Z" },
      { from: "2026-03-01T01:10:00+01:00", to: "2026-03-01T00:20:00.000Z" },
      { type: "signin", outcome: "refused" },
      { person: "milo", type: "impersonation.issued" },
      { person: "milo", outcome: "refused", from: "2026-03-01T00:00:00Z" },
      {
        person: "otto",
        type: "impersonation.issued",
        outcome: "success",
        from: "2026-03-01T00:05:00Z",
        to: "2026-03-01T00:50:00Z",
      },
      { person: "otto", targetCoworkerId: 42 },
      { actorUserId: 2, type: "session.signed_out", outcome: "refused" },
    ];
    for (const filter of filters) {
      const want = expected(all, filter);
      const label = JSON.stringify(filter);
      expect(ids(await listAll(token.ada!, filter)), label).toEqual(want);
      expect(ids(await exportAll(token.ada!, filter)), label).toEqual([...want].reverse());
    }
  });

  it("selects what each filter says, counted in the database", async () => {
    const count = async (filter: Filter) => (await listAll(token.ada!, filter, 200)).length;
    // The range holds minutes 10 … 19: from inclusive, to exclusive.
    expect(await count({ from: "2026-03-01T00:10:00Z", to: "2026-03-01T00:20:00Z" })).toBe(10);
    expect(await count({ from: "2026-03-01T00:10:00.001Z", to: "2026-03-01T00:20:00.001Z" })).toBe(
      10,
    );
    // Minutes 0, 15, 30, 45 are refused issues (n % 3 = 0 and n % 5 = 0).
    expect(
      await count({
        type: "impersonation.issued",
        outcome: "refused",
        from: "2026-03-01T00:00:00Z",
        to: "2026-03-01T01:00:00Z",
      }),
    ).toBe(4);
    const [inDatabase] = await rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events where location_id = 1 and outcome = 'refused'`,
    );
    expect(await count({ outcome: "refused" })).toBe(inDatabase!.n);
    // Every event listed for a person names them as actor or target.
    const milo = await listAll(token.ada!, { person: "mIlO" }, 200);
    expect(milo.length).toBeGreaterThan(15);
    for (const item of milo)
      expect([item.actor?.fullName, item.target?.fullName]).toContain("Milo Member");
  });

  it("takes %, _ and \\ in a name literally, not as wildcards", async () => {
    const ivan = await listAll(token.ada!, { person: "100% Indie_" });
    expect(ivan.map((item) => item.actor?.fullName)).toEqual(["Ivan 100% Indie_"]);
    expect(await listAll(token.ada!, { person: "%" })).toHaveLength(1);
    expect(await listAll(token.ada!, { person: "_" })).toHaveLength(1);
    expect(await listAll(token.ada!, { person: "a%n" })).toEqual([]);
    expect(await listAll(token.ada!, { person: "M_lo" })).toEqual([]);
    expect(await listAll(token.ada!, { person: "\\" })).toEqual([]);
  });

  it("never finds another location's events or people by name", async () => {
    // Rita and Nora-in-L2 appear in L2's log only; L1's probe of Rita's id names nobody.
    for (const person of ["Rita", "riverside"]) {
      expect(await listAll(token.ada!, { person }), person).toEqual([]);
      expect(await exportAll(token.ada!, { person }), person).toEqual([]);
    }
    const l2 = await listAll(token.adaL2!, { person: "rita" });
    expect(l2.length).toBeGreaterThan(0);
    expect(l2.every((item) => item.locationId === 2)).toBe(true);
    // A name found in both locations: each admin sees only their own location's events.
    const nomadL1 = await listAll(token.ada!, { person: "nomad" });
    expect(nomadL1.length).toBeGreaterThan(0);
    expect(nomadL1.every((item) => item.locationId === 1)).toBe(true);
    expect(
      (await listAll(token.adaL2!, { person: "milo" })).every((item) => item.locationId === 2),
    ).toBe(true);
  });

  it("finds a sealed event by the name it was sealed with, an unsealed one by the current name", async () => {
    await api.signIn("sam.second@demo.test");
    await (await as(token.otto)).impersonation.impersonate({ coworkerId: 44 });
    await sealAll(api.deps);
    await rows(sql`update users set full_name = 'Samantha Renamed' where id = 8`);
    await rows(sql`update coworkers set full_name = 'Ivo Renamed' where id = 44`);
    await api.signIn("sam.second@demo.test");
    await (await as(token.otto)).impersonation.impersonate({ coworkerId: 44 });

    const sealedSam = await listAll(token.ada!, { person: "sam second" });
    expect(sealedSam.length).toBe(1);
    expect(sealedSam[0]).toMatchObject({ type: "signin", actor: { fullName: "Sam Second" } });
    expect(sealedSam[0]!.seq).not.toBeNull();
    const renamedSam = await listAll(token.ada!, { person: "samantha" });
    expect(renamedSam.length).toBe(1);
    expect(renamedSam[0]).toMatchObject({
      type: "signin",
      actor: { fullName: "Samantha Renamed" },
      seq: null,
    });

    const sealedIvo = await listAll(token.ada!, { person: "indie", type: "impersonation.issued" });
    expect(sealedIvo.map((item) => [item.target?.fullName, item.seq !== null])).toEqual([
      ["Ivan Indie", true],
    ]);
    const renamed = await listAll(token.ada!, { person: "renamed" });
    expect(renamed.map((item) => [item.type, item.seq])).toEqual([
      ["impersonation.issued", null],
      ["signin", null],
    ]);
    // The export agrees with the list.
    expect(ids(await exportAll(token.ada!, { person: "renamed" }))).toEqual(ids(renamed).reverse());
  });

  it("keeps the actor and target id filters, with the new ones", async () => {
    const byActor = await listAll(token.ada!, { actorUserId: 2, outcome: "refused" });
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((item) => item.actor?.userId === 2 && item.outcome === "refused")).toBe(
      true,
    );
    const byTarget = await listAll(token.ada!, { targetCoworkerId: 42, person: "otto" });
    expect(byTarget.length).toBeGreaterThan(0);
    expect(
      byTarget.every(
        (item) => item.target?.coworkerId === 42 && item.actor?.fullName === "Otto Operator",
      ),
    ).toBe(true);
  });
});

describe("bad filters", () => {
  const bad: [string, Record<string, unknown>][] = [
    ["an empty person", { person: "" }],
    ["a blank person", { person: "   " }],
    ["a person too long", { person: "x".repeat(101) }],
    ["a person with a control character", { person: "Milo\u0000" }],
    ["a person that is not text", { person: 42 }],
    ["an unknown type", { type: "nonsense" }],
    ["a type in another case", { type: "SIGNIN" }],
    ["an unknown outcome", { outcome: "error" }],
    ["an outcome in another case", { outcome: "Success" }],
    ["a from that is no instant", { from: "yesterday" }],
    ["a from that is a date only", { from: "2026-03-01" }],
    ["a to without its offset", { to: "2026-03-01T00:00:00" }],
    ["a to that is a number", { to: 1767225600000 }],
    [
      "a range that ends before it starts",
      { from: "2026-03-02T00:00:00Z", to: "2026-03-01T00:00:00Z" },
    ],
    ["an empty range", { from: "2026-03-01T00:00:00Z", to: "2026-03-01T01:00:00+01:00" }],
    ["an unknown filter", { name: "milo" }],
  ];
  it("are refused with 400 invalid_request, by the list and by the export alike", async () => {
    const caller = await as(token.ada);
    for (const [label, input] of bad) {
      await expectRefused(
        caller.audit.listEvents(input),
        400,
        "invalid_request",
        `list: ${label}`,
      );
      await expectRefused(
        caller.audit.exportPage(input),
        400,
        "invalid_request",
        `export: ${label}`,
      );
    }
  });

  it("are refused to anyone but an admin before they are read (401 first)", async () => {
    await expectRefused(
      (await as(token.otto)).audit.listEvents({ person: "milo" }),
      401,
      "unauthorized",
    );
    await expectRefused(
      (await as(null)).audit.listEvents({ type: "nonsense" } as never),
      401,
      "unauthorized",
    );
  });
});
