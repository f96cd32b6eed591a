// GET /api/sys/audit/export over a real socket (the one HTTP application, in-process, no Next):
// 20,000 events stream out as CSV in id order with RFC 4180 quoting (read back by a parser
// written here) and as NDJSON whose lines hash to their leafHash (@cowork/client's verifier);
// pages are read only as the client reads (events written mid-export still arrive); filters and
// refusals; admins of the active location only, on REST and on the page's cookie download.
import { auditLeafHash } from "@cowork/client";
import { createServiceDeps, loadConfig, sealAll, type ServiceDeps } from "@cowork/api";
import { auditExportAnswer, CSV_COLUMNS } from "@cowork/api/rest";
import { queryRows } from "@cowork/db";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { sql } from "drizzle-orm";
import { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../src/server/api-app";

const ROWS = 20_000;
let database: TestDatabase;
let deps: ServiceDeps;
let app: FastifyInstance;
let base: string;
const token: Record<string, string> = {};

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

const get = (path: string, bearer?: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
  });

beforeAll(async () => {
  database = await createTestDatabase();
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  deps = await createServiceDeps(database.db, loadConfig({ AUTH_ISSUER: "http://portal.test" }));
  app = await buildApiApp({ deps });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
  token.ada = await signIn("ada.admin@demo.test", "demo-admin-pass");
  token.adaL2 = await signIn("ada.admin@demo.test", "demo-admin-pass", 2);
  token.otto = await signIn("otto.operator@demo.test", "demo-operator-pass");
  token.milo = await signIn("milo.member@demo.test", "demo-member-pass");
  const grant = (await (
    await get("/api/sys/users/impersonate?coworkerId=42", token.otto)
  ).json()) as { token: string };
  const exchanged = await fetch(`${base}/api/sys/users/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: grant.token }),
  });
  token.impersonated = ((await exchanged.json()) as { access_token: string }).access_token;
  // Many events, some with every character CSV must quote, a third of them sealed.
  await queryRows(
    database.db,
    sql`insert into audit_events (type, outcome, actor_user_id, target_coworker_id, location_id, reason, ip, detail, at)
        select case when n % 3 = 0 then 'impersonation.issued' else 'signin' end,
               case when n % 7 = 0 then 'refused' else 'success' end,
               2, case when n % 3 = 0 then 42 end, 1,
               case when n % 5 = 0 then 'said "hi", then' || chr(10) || 'left' when n % 11 = 0 then '' end,
               '203.0.113.' || (n % 250), null,
               timestamptz '2026-01-01 00:00:00+00' + n * interval '1 minute'
        from generate_series(1, ${ROWS}) as n`,
  );
  await sealAll(deps);
  await queryRows(
    database.db,
    sql`insert into audit_events (type, outcome, actor_user_id, location_id, reason, at)
        select 'signin', 'success', 2, 1, 'after sealing, ' || n, now() from generate_series(1, 50) as n`,
  );
}, 300_000);

afterAll(async () => {
  await app.close();
  await database.close();
});

/** RFC 4180, read back here: fields, quoted ones with "" for a quote; null for an empty unquoted field. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let index = 0;
  while (index < text.length) {
    let field: string | null;
    if (text[index] === '"') {
      let value = "";
      index++;
      for (;;) {
        const quote = text.indexOf('"', index);
        value += text.slice(index, quote);
        index = quote + 1;
        if (text[index] === '"') {
          value += '"';
          index++;
        } else break;
      }
      field = value;
    } else {
      const end = text.slice(index).search(/,|\r\n/);
      const value = end === -1 ? text.slice(index) : text.slice(index, index + end);
      index += value.length;
      field = value === "" ? null : value;
    }
    row.push(field);
    if (text.startsWith("\r\n", index)) {
      rows.push(row);
      row = [];
      index += 2;
    } else if (text[index] === ",") index++;
    else if (index < text.length) throw new Error(`bad CSV at ${index}`);
  }
  if (row.length) rows.push(row);
  return rows;
}

const locationEvents = async (locationId: number) =>
  queryRows<{ id: number; reason: string | null; seq: number | null }>(
    database.db,
    sql`select id, reason, seq from audit_events where location_id = ${locationId} order by id`,
  );

describe("GET /api/sys/audit/export", () => {
  it("streams every event of the location as CSV, oldest first, quoted as RFC 4180 says", async () => {
    const response = await get("/api/sys/audit/export?format=csv", token.ada);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="audit-location-1-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(response.headers.get("cache-control")).toBe("no-store");
    // Streamed: sent in chunks as it is produced, no length known up front.
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
    expect(response.headers.get("content-length")).toBeNull();
    const [header, ...rows] = parseCsv(await response.text());
    expect(header).toEqual(CSV_COLUMNS);
    expect(header!.slice(0, 2)).toEqual(["seq", "leafHash"]);
    const expected = await locationEvents(1);
    expect(rows.length).toBeGreaterThan(ROWS);
    expect(rows.length).toBe(expected.length);
    const column = (name: string) => header!.indexOf(name);
    expect(rows.map((row) => Number(row[column("id")]))).toEqual(expected.map((event) => event.id));
    expect(rows.map((row) => row[column("reason")])).toEqual(expected.map((event) => event.reason));
    expect(rows.map((row) => row[column("seq")])).toEqual(
      expected.map((event) => (event.seq === null ? null : String(event.seq))),
    );
    expect(rows.some((row) => row[column("reason")]?.includes('"hi",'))).toBe(true);
    expect(rows.some((row) => row[column("reason")] === "")).toBe(true);
  });

  it("streams NDJSON: one audit item a line, as the list shows it, each sealed line hashing to its leafHash", async () => {
    const response = await get("/api/sys/audit/export?format=ndjson", token.ada);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const text = await response.text();
    expect(text.endsWith("\n")).toBe(true);
    const items = text
      .trimEnd()
      .split("\n")
      .map(
        (line) => JSON.parse(line) as Record<string, unknown> & { id: number; seq: number | null },
      );
    expect(items.length).toBe((await locationEvents(1)).length);
    const listed = (await (await get("/api/sys/audit?limit=200", token.ada)).json()) as {
      items: { id: number }[];
    };
    const byId = new Map(items.map((item) => [item.id, item]));
    for (const item of listed.items) expect(byId.get(item.id)).toEqual(item);
    const sealed = items.filter((item) => item.seq !== null);
    expect(sealed.length).toBeGreaterThan(ROWS);
    for (const item of sealed.filter((_, index) => index % 97 === 0))
      expect(await auditLeafHash(item)).toBe(item.leafHash);
  });

  it("filters by type, actor, target and a time range (from inclusive, to exclusive)", async () => {
    const count = async (query: string) => {
      const response = await get(`/api/sys/audit/export?format=ndjson&${query}`, token.ada);
      expect(response.status, query).toBe(200);
      const text = await response.text();
      return text === "" ? 0 : text.trimEnd().split("\n").length;
    };
    const inDatabase = async (where: ReturnType<typeof sql>) =>
      (
        await queryRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from audit_events where location_id = 1 and ${where}`,
        )
      )[0]!.n;
    expect(await count("type=impersonation.issued")).toBe(
      await inDatabase(sql`type = 'impersonation.issued'`),
    );
    expect(await count("targetCoworkerId=42&type=impersonation.issued")).toBe(
      await inDatabase(sql`type = 'impersonation.issued' and target_coworker_id = 42`),
    );
    expect(await count("actorUserId=4")).toBe(await inDatabase(sql`actor_user_id = 4`));
    // Minutes 60 … 119 after the first event's hour: exactly 60 events.
    expect(
      await count("from=2026-01-01T01:00:00Z&to=2026-01-01T02:00:00%2B00:00&actorUserId=2"),
    ).toBe(60);
  });

  it("reads a page only when the client has taken the one before: events written meanwhile still arrive", async () => {
    const answer = await auditExportAnswer({
      deps,
      meta: {
        ip: "203.0.113.9",
        requestId: "lazy",
        deadline: new Date(Date.now() + 60_000),
        answerBy: Date.now() + 60_000,
      },
      token: token.ada!,
      dpop: null,
      url: "/api/sys/audit/export?format=ndjson",
    });
    const chunks = answer.stream![Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    await queryRows(
      database.db,
      sql`insert into audit_events (type, outcome, location_id, reason) values ('signin', 'success', 1, 'written during the export')`,
    );
    let rest = "";
    for (let chunk = await chunks.next(); !chunk.done; chunk = await chunks.next())
      rest += chunk.value;
    expect(rest).toContain("written during the export");
  });

  it("answers 400 invalid_request for a bad format or filter, before anything is streamed", async () => {
    for (const query of [
      "",
      "format=xml",
      "format=csv&format=ndjson",
      "format=csv&type=nonsense",
      "format=csv&from=yesterday",
      "format=csv&to=2026-01-01",
      "format=csv&actorUserId=abc",
      "format=csv&limit=10",
      "format=csv&after=1",
      "format=csv&colour=blue",
    ]) {
      const response = await get(`/api/sys/audit/export?${query}`, token.ada);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
    }
  });

  it("answers 401 to anonymous, member, operator and impersonated callers", async () => {
    for (const who of [undefined, token.milo, token.otto, token.impersonated]) {
      const response = await get("/api/sys/audit/export?format=csv", who);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBe("unauthorized");
    }
  });

  it("gives an admin of another location only that location's events", async () => {
    const response = await get("/api/sys/audit/export?format=ndjson", token.adaL2);
    expect(response.status).toBe(200);
    const items = (await response.text())
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { locationId: number });
    expect(items.length).toBe((await locationEvents(2)).length);
    expect(new Set(items.map((item) => item.locationId))).toEqual(new Set([2]));
  });

  it("is the page's Export CSV download with the session cookie, and REST never reads the cookie", async () => {
    const cookie = { cookie: `portal_session=${token.ada}` };
    const download = await get("/admin/audit/export?format=csv&type=signin", undefined, cookie);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment/);
    const [header, ...rows] = parseCsv(await download.text());
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((row) => row[header!.indexOf("type")]))).toEqual(new Set(["signin"]));
    expect((await get("/admin/audit/export?format=csv")).status).toBe(401);
    expect(
      (
        await get("/admin/audit/export?format=csv", undefined, {
          cookie: `portal_session=${token.otto}`,
        })
      ).status,
    ).toBe(401);
    expect((await get("/api/sys/audit/export?format=csv", undefined, cookie)).status).toBe(401);
  });
});
