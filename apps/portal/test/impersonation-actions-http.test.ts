// Actions while impersonating (CONTRACT §9) over HTTP, in-process (Fastify's inject, no Next):
// REST calls and tRPC calls (batched ones too) of an impersonated session are recorded under the
// procedure each calls, refusals included; GET /api/sys/impersonations/{sessionId}/actions
// answers the location's admins only.
import { createServiceDeps, loadConfig, type ServiceDeps } from "@cowork/api";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { type FastifyInstance } from "fastify";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../src/server/api-app";

let database: TestDatabase;
let deps: ServiceDeps;
let app: FastifyInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  deps = await createServiceDeps(database.db, loadConfig({ AUTH_ISSUER: "http://portal.test" }));
  app = await buildApiApp({ deps });
});

afterAll(async () => {
  await app.close();
  await deps.actions.stop();
  await database.close();
});

interface Call {
  method: "GET" | "POST" | "PUT";
  url: string;
  bearer?: string | null;
  body?: unknown;
}

const call = ({ method, url, bearer = null, body }: Call) =>
  app.inject({
    method,
    url,
    remoteAddress: "203.0.113.9",
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

async function signIn(username: string, password: string, locationId?: number) {
  const reply = await call({
    method: "POST",
    url: "/api/token",
    body: { grant_type: "password", username, password, location_id: locationId },
  });
  expect(reply.statusCode, username).toBe(200);
  return reply.json<{ access_token: string }>().access_token;
}

async function impersonate(actor: string, coworkerId: number, mode = "full") {
  const issued = await call({
    method: "GET",
    url: `/api/sys/users/impersonate?coworkerId=${coworkerId}&mode=${mode}`,
    bearer: actor,
  });
  expect(issued.statusCode).toBe(200);
  const exchanged = await call({
    method: "POST",
    url: "/api/sys/users/exchange",
    body: { token: issued.json<{ token: string }>().token },
  });
  expect(exchanged.statusCode).toBe(200);
  return exchanged.json<{ access_token: string }>().access_token;
}

const sid = (token: string) => decodeJwt(token).sid as string;

let otto: string;
let adaL1: string;
let adaL2: string;

beforeAll(async () => {
  otto = await signIn("otto.operator@demo.test", "demo-operator-pass");
  adaL1 = await signIn("ada.admin@demo.test", "demo-admin-pass", 1);
  adaL2 = await signIn("ada.admin@demo.test", "demo-admin-pass", 2);
});

/** The session's actions as the admin's route answers them, without their times. */
async function actionsOf(session: string, admin = adaL1) {
  const reply = await call({
    method: "GET",
    url: `/api/sys/impersonations/${sid(session)}/actions`,
    bearer: admin,
  });
  expect(reply.statusCode).toBe(200);
  const { items } = reply.json<{
    items: { at: string; procedure: string; kind: string; outcome: string }[];
  }>();
  for (const item of items) expect(new Date(item.at).toISOString()).toBe(item.at);
  return items.map(({ procedure, kind, outcome }) => `${kind} ${procedure} ${outcome}`);
}

describe("an impersonated session's calls over HTTP", () => {
  it("REST: records successes, refusals (forbidden, unauthorized), input errors and read-only refusals", async () => {
    const asMilo = await impersonate(otto, 42);
    const expectStatus = async (request: Call, status: number) =>
      expect((await call(request)).statusCode, request.url).toBe(status);
    await expectStatus({ method: "GET", url: "/api/sys/users/me", bearer: asMilo }, 200);
    await expectStatus(
      {
        method: "PUT",
        url: "/api/public/coworkers/profiles/current",
        bearer: asMilo,
        body: { coworkerId: 42 },
      },
      403,
    );
    await expectStatus({ method: "GET", url: "/api/sys/audit", bearer: asMilo }, 401);
    await expectStatus(
      { method: "GET", url: "/api/sys/users/impersonate?coworkerId=abc", bearer: asMilo },
      400,
    );
    expect(await actionsOf(asMilo)).toEqual([
      "query auth.me success",
      "mutation profiles.setCurrentProfile refused",
      "query audit.listEvents refused",
      "mutation impersonation.impersonate refused",
    ]);

    const readOnly = await impersonate(otto, 43, "readonly");
    const refused = await call({
      method: "PUT",
      url: "/api/public/coworkers/profiles/current",
      bearer: readOnly,
      body: { coworkerId: 43 },
    });
    expect(refused.json()).toMatchObject({ error: "read_only" });
    await expectStatus(
      { method: "POST", url: "/api/sys/users/stop-impersonating", bearer: readOnly },
      204,
    );
    expect(await actionsOf(readOnly)).toEqual([
      "mutation profiles.setCurrentProfile refused",
      "mutation impersonation.stopImpersonating success",
    ]);
  });

  it("tRPC: records each call of a batch, and a single call refused for its input, under their procedures", async () => {
    const asNora = await impersonate(otto, 43);
    const batch = await call({
      method: "GET",
      url: `/api/trpc/auth.me,profiles.listProfiles,audit.listEvents?batch=1&input=${encodeURIComponent(
        JSON.stringify({ 2: { limit: 5 } }),
      )}`,
      bearer: asNora,
    });
    expect(
      batch.json<{ result?: unknown; error?: unknown }[]>().map((item) => "result" in item),
    ).toEqual([true, true, false]);
    const input = await call({
      method: "POST",
      url: "/api/trpc/impersonation.impersonate",
      bearer: asNora,
      body: { coworkerId: "forty-three" },
    });
    expect(input.statusCode).toBe(400);
    expect(await actionsOf(asNora)).toEqual([
      "query auth.me success",
      "query profiles.listProfiles success",
      "query audit.listEvents refused",
      "mutation impersonation.impersonate refused",
    ]);
  });

  it("never records the actor's own calls or the exchange", async () => {
    const asIvan = await impersonate(otto, 44);
    await call({ method: "GET", url: "/api/sys/users/me", bearer: otto });
    expect(await actionsOf(asIvan)).toEqual([]);
  });
});

describe("GET /api/sys/impersonations/{sessionId}/actions", () => {
  it("answers 401 to anyone but an admin of the active location, 404 for what is not an impersonation of it", async () => {
    const asMilo = await impersonate(otto, 42);
    const milo = await signIn("milo.member@demo.test", "demo-member-pass");
    const url = `/api/sys/impersonations/${sid(asMilo)}/actions`;
    for (const [who, bearer] of [
      ["anonymous", null],
      ["a member", milo],
      ["an operator", otto],
      ["the impersonated session itself", asMilo],
    ] as const) {
      const reply = await call({ method: "GET", url, bearer });
      expect({ who, status: reply.statusCode, body: reply.json<unknown>() }).toEqual({
        who,
        status: 401,
        body: expect.objectContaining({ error: "unauthorized" }) as unknown,
      });
    }
    for (const [what, path, bearer] of [
      ["another location's admin", url, adaL2],
      [
        "an unknown id",
        "/api/sys/impersonations/00000000-0000-4000-8000-000000000000/actions",
        adaL1,
      ],
      ["a malformed id", "/api/sys/impersonations/nope/actions", adaL1],
      ["an own session", `/api/sys/impersonations/${sid(otto)}/actions`, adaL1],
    ] as const) {
      const reply = await call({ method: "GET", url: path, bearer });
      expect({ what, status: reply.statusCode, body: reply.json<unknown>() }).toEqual({
        what,
        status: 404,
        body: expect.objectContaining({ error: "not_found" }) as unknown,
      });
    }
    // None of those calls was the impersonated session's but its own refused one.
    expect(await actionsOf(asMilo)).toEqual([
      "query impersonationActions.listSessionActions refused",
    ]);
  });
});
