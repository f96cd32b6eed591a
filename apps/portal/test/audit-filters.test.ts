// The audit filters over HTTP (CONTRACT §9, §11): GET /api/sys/audit and GET /api/sys/audit/export
// read person, type, outcome, from and to from the query the same way, so one query selects the
// same events on both (the list newest first, the export oldest first), the page's cookie
// download included; a bad or repeated value is 400 invalid_request on both.
import { createServiceDeps, loadConfig, type ServiceDeps } from "@cowork/api";
import { queryRows } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { sql } from "drizzle-orm";
import { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../src/server/api-app";

interface Item {
  id: number;
  type: string;
  outcome: string;
  at: string;
  locationId: number;
  actor: { fullName: string } | null;
  target: { fullName: string } | null;
}

let database: TestDatabase;
let deps: ServiceDeps;
let app: FastifyInstance;
let base: string;
const token: Record<string, string> = {};

const get = (path: string, bearer?: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
  });

async function signIn(username: string, password: string, locationId?: number) {
  const response = await fetch(`${base}/api/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "password",
      username,
      password,
      ...(locationId ? { location_id: locationId } : {}),
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Every item of the list for a query, following nextCursor. */
async function listed(query: string, bearer = token.ada): Promise<Item[]> {
  const items: Item[] = [];
  let cursor = "";
  for (;;) {
    const response = await get(`/api/sys/audit?limit=5&${query}${cursor}`, bearer);
    expect(response.status, query).toBe(200);
    const page = (await response.json()) as { items: Item[]; nextCursor: number | null };
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    cursor = `&cursor=${page.nextCursor}`;
  }
}

async function exported(query: string, bearer = token.ada): Promise<Item[]> {
  const response = await get(`/api/sys/audit/export?format=ndjson&${query}`, bearer);
  expect(response.status, query).toBe(200);
  const text = await response.text();
  return text === ""
    ? []
    : text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as Item);
}

beforeAll(async () => {
  database = await createTestDatabase();
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  deps = await createServiceDeps(database.db, loadConfig({ AUTH_ISSUER: "http://portal.test" }));
  app = await buildApiApp({ deps });
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  token.ada = await signIn("ada.admin@demo.test", "demo-admin-pass");
  token.adaL2 = await signIn("ada.admin@demo.test", "demo-admin-pass", 2);
  token.otto = await signIn("otto.operator@demo.test", "demo-operator-pass");
  await signIn("rita.riverside@demo.test", "demo-member-pass");
  // Half an hour of events by Otto, about Milo on every other one, a third of them refused.
  await queryRows(
    database.db,
    sql`insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, at)
        select case when n % 2 = 0 then 'impersonation.issued' else 'signin' end,
               case when n % 3 = 0 then 'refused' else 'success' end,
               2, case when n % 2 = 0 then 42 end, 1,
               timestamptz '2026-05-01 09:00:00+00' + n * interval '1 minute'
        from generate_series(0, 29) as n`,
  );
});

afterAll(async () => {
  await app?.close();
  await deps?.actions.stop();
  await database?.close();
});

describe("GET /api/sys/audit and its export with filters", () => {
  it("select the same events for the same query, each in its own order", async () => {
    const queries = [
      "person=milo",
      "person=OTTO%20op",
      "type=impersonation.issued",
      "outcome=refused",
      "from=2026-05-01T09:10:00Z&to=2026-05-01T11:20:00%2B02:00",
      "person=milo&type=impersonation.issued&outcome=refused&from=2026-05-01T09:00:00Z&to=2026-05-01T09:30:00Z",
      "person=otto&actorUserId=2&outcome=success",
      "person=rita",
    ];
    for (const query of queries) {
      const list = await listed(query);
      const file = await exported(query);
      expect(
        file.map((item) => item.id),
        query,
      ).toEqual(list.map((item) => item.id).reverse());
      expect(list.every((item) => item.locationId === 1)).toBe(true);
    }
  });

  it("selects what each parameter says", async () => {
    // Minutes 0, 6, 12, 18, 24 are refused issues about Milo.
    const refusedIssues = await listed(
      "person=milo&type=impersonation.issued&outcome=refused&from=2026-05-01T09:00:00Z&to=2026-05-01T09:30:00Z",
    );
    expect(refusedIssues.map((item) => item.at)).toEqual(
      [24, 18, 12, 6, 0].map((minute) => new Date(Date.UTC(2026, 4, 1, 9, minute)).toISOString()),
    );
    // 09:10 inclusive to 09:20 exclusive (11:20 at +02:00).
    expect(await listed("from=2026-05-01T09:10:00Z&to=2026-05-01T11:20:00%2B02:00")).toHaveLength(
      10,
    );
    expect(await listed("person=rita")).toEqual([]);
    expect((await listed("person=rita", token.adaL2)).length).toBeGreaterThan(0);
    const otto = await listed("person=OTTO%20op");
    expect(otto.length).toBeGreaterThan(30);
    expect(otto.every((item) => item.actor?.fullName === "Otto Operator")).toBe(true);
  });

  it("answers 400 invalid_request for a bad or repeated filter on both", async () => {
    for (const query of [
      "person=",
      "person=a&person=b",
      "type=nonsense",
      "type=signin&type=signin.failed",
      "outcome=error",
      "from=yesterday",
      "to=2026-05-01",
      "from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z",
      "who=milo",
    ]) {
      for (const path of [`/api/sys/audit?${query}`, `/api/sys/audit/export?format=csv&${query}`]) {
        const response = await get(path, token.ada);
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
      }
    }
  });

  it("answers 401 before reading a filter to anyone but an admin", async () => {
    for (const path of ["/api/sys/audit?person=milo", "/api/sys/audit?type=nonsense"]) {
      expect((await get(path, token.otto)).status).toBe(401);
      expect((await get(path)).status).toBe(401);
    }
  });

  it("is what the page's Export CSV downloads for the page's filters", async () => {
    const cookie = { cookie: `portal_session=${token.ada}` };
    const download = await get(
      "/admin/audit/export?format=csv&person=milo&outcome=refused",
      undefined,
      cookie,
    );
    expect(download.status).toBe(200);
    const lines = (await download.text()).trimEnd().split("\r\n");
    const expected = await listed("person=milo&outcome=refused");
    expect(lines.length - 1).toBe(expected.length);
    expect(lines.slice(1).every((line) => line.includes(",refused,"))).toBe(true);
  });
});
