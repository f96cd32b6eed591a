// The database goes away (security cases I1, I2, I4; CONTRACT §5 "503 within 5 s, nothing
// half-written"): a TCP proxy of the test's own sits between the portal and PostgreSQL and is
// cut and restored in the middle of traffic. Answers stay 503 `unavailable` within 5 s, never a
// hang nor a 500; the database, read directly, holds no half-written change; the portal recovers
// by itself. And token checks need no database: a forgery is a 401 even while it is gone.
import { Agent } from "node:http";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL, exchangeReply, issue, issueReply, login, me, sleep } from "./support/flows";
import { call, expectError, expectNoLeak, fields, type Reply } from "./support/http";
import { invariantViolations } from "./support/invariants";
import { createSharedDatabase, startPortal, type Portal } from "./support/portal";
import { sqlClient } from "./support/store";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy";
import { decodeJwt, signEdDSA, generateTestKey } from "./support/tokens";

/** The contract's answer guarantee. */
const ANSWER_MS = 5000;

function expectUnavailable(reply: Reply, what: string): void {
  expect({ what, status: reply.status, body: reply.text.slice(0, 200) }).toMatchObject({
    what,
    status: 503,
  });
  expectError(reply, 503, "unavailable");
  expect(reply.ms, `${what} answered after ${Math.round(reply.ms)} ms`).toBeLessThan(ANSWER_MS);
}

/** tRPC answers in its own error shape, with the contract's domain code and HTTP status. */
function expectTrpcUnavailable(reply: Reply, what: string): void {
  expect({ what, status: reply.status, body: reply.text.slice(0, 200) }).toMatchObject({
    what,
    status: 503,
  });
  const body = reply.json as { error?: { data?: { error?: unknown; httpStatus?: unknown } } };
  expect(body.error?.data, what).toMatchObject({ error: "unavailable", httpStatus: 503 });
  expectNoLeak(reply);
  expect(reply.ms, `${what} answered after ${Math.round(reply.ms)} ms`).toBeLessThan(ANSWER_MS);
}

/** A page says, in its HTML, that the service is unavailable, with status 503. */
function expectUnavailablePage(reply: Reply, what: string): void {
  expect({ what, status: reply.status }).toEqual({ what, status: 503 });
  expect(reply.headers["content-type"]).toMatch(/^text\/html/);
  expect(reply.text).toMatch(/Temporarily unavailable/);
  expect(reply.text).toMatch(/The service is temporarily unavailable/);
  expect(reply.ms, `${what} answered after ${Math.round(reply.ms)} ms`).toBeLessThan(ANSWER_MS);
}

const labelled = (what: string, reply: Promise<Reply>): Promise<[string, Reply]> =>
  reply.then((answer) => [what, answer]);

/** Every door of the portal that needs the database and is not REST: tRPC, and a page. */
const otherDoors = (portal: Portal, token: string): Promise<[string, Reply]>[] => [
  labelled("tRPC query", call(portal, "GET", "/api/trpc/auth.me", { token, timeoutMs: 12_000 })),
  labelled(
    "tRPC mutation",
    call(portal, "POST", "/api/trpc/profiles.setCurrentProfile", {
      token,
      json: { coworkerId: 50 },
      timeoutMs: 12_000,
    }),
  ),
  labelled(
    "page",
    call(portal, "GET", "/", {
      headers: { cookie: `portal_session=${token}` },
      timeoutMs: 12_000,
    }),
  ),
];

function expectDoorsUnavailable(replies: [string, Reply][]): void {
  for (const [what, reply] of replies) {
    if (what === "page") expectUnavailablePage(reply, what);
    else expectTrpcUnavailable(reply, what);
  }
}

describe("database outage (faults)", () => {
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let sql: postgres.Sql;
  let proxy: TcpProxy;
  let portal: Portal;
  let serverPid: number | null;

  beforeAll(async () => {
    database = await createSharedDatabase({ seed: true });
    sql = sqlClient(database.url!);
    const upstream = new URL(process.env.DATABASE_URL!);
    proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    portal = await startPortal({
      databaseUrl: proxy.urlFor(database.url!),
      // Tokens outlive an outage and its recovery: whether one still exchanges says what happened.
      env: { IMPERSONATE_LIMIT_PER_MINUTE: "100000", IMPERSONATION_TOKEN_TTL_SECONDS: "300" },
    });
    serverPid = portal.serverPid();
  });

  afterAll(async () => {
    await portal?.stop();
    await proxy?.close();
    await sql?.end({ timeout: 2 });
    await database?.close();
  });

  /** Waits (bounded) until the portal answers a live session again. */
  const recovered = async (token: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reply = await me(portal, token);
      if (reply.status === 200) return;
      expect(reply.status).toBe(503);
      if (Date.now() > deadline)
        throw new Error("the portal did not recover within 30 s of the database coming back");
      await sleep(250);
    }
  };

  it("answers 503 unavailable within 5 s on every route while the database is gone, and recovers without a restart (I1, I2)", async () => {
    const otto = await login(portal, EMAIL.otto);
    const tess = await login(portal, EMAIL.tess);
    const nora = await login(portal, EMAIL.nora);
    const ada = await login(portal, EMAIL.ada);
    const pending = await issue(portal, otto, 42);
    const asMilo = fields(await exchangeReply(portal, await issue(portal, otto, 42)))
      .access_token as string;
    const grantsBefore = await sql`select count(*)::int as n from impersonation_grants`;

    await proxy.cut();
    const replies: [string, Reply][] = [
      [
        "sign-in",
        await call(portal, "POST", "/api/token", {
          json: { grant_type: "password", username: EMAIL.milo, password: "demo-member-pass" },
        }),
      ],
      ["staff issue", await issueReply(portal, otto, 42)],
      ["team issue", await issueReply(portal, tess, 42, { team: true })],
      ["exchange", await exchangeReply(portal, pending)],
      ["me", await me(portal, otto)],
      ["profiles", await call(portal, "GET", "/api/public/coworkers/profiles", { token: nora })],
      [
        "switch profile",
        await call(portal, "PUT", "/api/public/coworkers/profiles/current", {
          token: nora,
          json: { coworkerId: 50 },
        }),
      ],
      ["stop", await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: asMilo })],
      ["sign-out", await call(portal, "POST", "/api/sys/users/sign-out", { token: otto })],
      ["audit", await call(portal, "GET", "/api/sys/audit", { token: ada })],
      [
        "access history",
        await call(portal, "GET", "/api/public/coworkers/access-history", { token: nora }),
      ],
    ];
    for (const [what, reply] of replies) expectUnavailable(reply, what);
    // Several at once, all bounded too.
    const burst = await Promise.all(Array.from({ length: 12 }, () => me(portal, otto)));
    for (const reply of burst) expectUnavailable(reply, "me (burst)");
    // tRPC and pages answer in time too (a refused connection, as on REST).
    expectDoorsUnavailable(await Promise.all(otherDoors(portal, nora)));

    // Nothing was written meanwhile (checked directly, not through the proxy).
    expect((await sql`select count(*)::int as n from impersonation_grants`)[0]!.n).toBe(
      grantsBefore[0]!.n,
    );
    const [revoked] =
      await sql`select count(*)::int as n from sessions where revoked_at is not null`;
    expect(revoked!.n).toBe(0);

    await proxy.restore();
    await recovered(otto);
    expect(portal.serverPid()).toBe(serverPid);
    // The refused attempts changed nothing: the sessions live, the pending token exchanges once.
    expect(fields(await me(portal, asMilo)).userId).toBe(4);
    expect((await exchangeReply(portal, pending)).status).toBe(200);
    expectError(await exchangeReply(portal, pending), 401, "invalid_token");
    expect(await invariantViolations(sql)).toEqual([]);
  });

  it("lets nothing a 503 answered happen later: statements the network held during the outage change nothing once it heals, and every door answers 503 within 5 s (I5)", async () => {
    const otto = await login(portal, EMAIL.otto);
    const nora = await login(portal, EMAIL.nora);
    const ada = await login(portal, EMAIL.ada);
    const milo = await login(portal, EMAIL.milo);
    const tess = await login(portal, EMAIL.tess);
    const pending = await issue(portal, otto, 42);
    const jti = decodeJwt(pending).payload.jti as string;
    const sid = (token: string) => decodeJwt(token).payload.sid as string;
    const history = async () =>
      (
        fields(await call(portal, "GET", "/api/public/coworkers/access-history", { token: milo }))
          .items as unknown[]
      ).length;
    const historyBefore = await history();
    const [audit] = await sql`select coalesce(max(id), 0)::int as last from audit_events`;
    const [sessions] = await sql`select count(*)::int as n from sessions`;
    const [grants] = await sql`select count(*)::int as n from impersonation_grants`;

    // Nothing is refused and nothing arrives: each request's statements wait in the network.
    proxy.blackHole();
    let settled: PromiseSettledResult<[string, Reply]>[];
    try {
      const timeoutMs = 12_000;
      settled = await Promise.allSettled<[string, Reply]>([
        labelled("exchange", exchangeReply(portal, pending)),
        labelled(
          "sign-out",
          call(portal, "POST", "/api/sys/users/sign-out", { token: otto, timeoutMs }),
        ),
        labelled(
          "switch profile",
          call(portal, "PUT", "/api/public/coworkers/profiles/current", {
            token: nora,
            json: { coworkerId: 50 },
            timeoutMs,
          }),
        ),
        labelled("team issue", issueReply(portal, tess, 42, { team: true })),
        labelled(
          "tRPC sign-out",
          call(portal, "POST", "/api/trpc/auth.signOut", { token: ada, json: null, timeoutMs }),
        ),
        ...otherDoors(portal, nora),
      ]);
    } finally {
      await proxy.restore();
    }
    const failed = settled.filter((result) => result.status === "rejected");
    expect(failed.map((result) => String(result.reason))).toEqual([]);
    for (const result of settled) {
      const [what, reply] = (result as PromiseFulfilledResult<[string, Reply]>).value;
      if (what.startsWith("tRPC")) expectTrpcUnavailable(reply, what);
      else if (what === "page") expectUnavailablePage(reply, what);
      else expectUnavailable(reply, what);
    }

    // The held statements reach the database now; give them time to run, then read it directly.
    await recovered(milo);
    await sleep(2000);
    const [grant] =
      await sql`select consumed_at is null as unused from impersonation_grants where jti = ${jti}`;
    expect(grant?.unused, "the token was consumed by an exchange answered 503").toBe(true);
    expect(
      await sql`select id from sessions where grant_jti = ${jti}`,
      "a session exists that no one was given",
    ).toEqual([]);
    const live =
      await sql`select id::text, revoked_at is null as live, coworker_id from sessions where id = any(${[sid(otto), sid(ada), sid(nora)]}::uuid[]) order by id`;
    expect(
      live.every((row) => row.live === true),
      "a sign-out answered 503 took effect",
    ).toBe(true);
    expect(
      live.find((row) => row.id === sid(nora))?.coworker_id,
      "a profile switch answered 503",
    ).toBe(43);
    expect(
      await sql`select type, outcome, detail from audit_events where id > ${Number(audit!.last)} order by id`,
      "audit events of requests answered 503",
    ).toEqual([]);
    expect((await sql`select count(*)::int as n from sessions`)[0]!.n).toBe(sessions!.n);
    expect((await sql`select count(*)::int as n from impersonation_grants`)[0]!.n).toBe(grants!.n);
    expect(await history(), "the access history shows an access answered 503").toBe(historyBefore);

    // The token was never used: it exchanges now, exactly once.
    expect((await exchangeReply(portal, pending)).status).toBe(200);
    expectError(await exchangeReply(portal, pending), 401, "invalid_token");
    expect(await history()).toBe(historyBefore + 1);
    expect(await invariantViolations(sql)).toEqual([]);
  });

  it("keeps every answer bounded and nothing half-written when the database is cut, and its backends killed, in the middle of issue and exchange traffic (I4)", async () => {
    const actors = [await login(portal, EMAIL.otto), await login(portal, EMAIL.ada)];
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const replies: { kind: string; reply: Reply }[] = [];
    const transport: string[] = [];
    const issuedJtis: string[] = [];
    const sessionIds: string[] = [];
    let running = true;

    const worker = async (index: number) => {
      const actor = actors[index % actors.length]!;
      while (running) {
        try {
          const issued = await call(
            portal,
            "GET",
            `/api/sys/users/impersonate?coworkerId=${42 + (index % 2)}`,
            { token: actor, agent, timeoutMs: 15_000 },
          );
          replies.push({ kind: "issue", reply: issued });
          if (issued.status !== 200) {
            await sleep(50);
            continue;
          }
          const token = fields(issued).token as string;
          issuedJtis.push(decodeJwt(token).payload.jti as string);
          const exchanged = await call(portal, "POST", "/api/sys/users/exchange", {
            json: { token },
            agent,
            timeoutMs: 15_000,
          });
          replies.push({ kind: "exchange", reply: exchanged });
          if (exchanged.status === 200)
            sessionIds.push(
              decodeJwt(fields(exchanged).access_token as string).payload.sid as string,
            );
        } catch (error) {
          transport.push(String(error));
        }
      }
    };

    const workers = Array.from({ length: 8 }, (_, index) => worker(index));
    await sleep(1500);
    await proxy.cut();
    await sleep(6000);
    await proxy.restore();
    await sleep(3000);
    // Kill every backend of the service's database: in-flight statements die mid-way.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    await sleep(2000);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    await sleep(3000);
    running = false;
    await Promise.all(workers);
    agent.destroy();

    expect(transport, "requests that hung or lost their connection").toEqual([]);
    const byStatus: Record<string, number> = {};
    for (const { kind, reply } of replies) {
      byStatus[`${kind} ${reply.status}`] = (byStatus[`${kind} ${reply.status}`] ?? 0) + 1;
      expect(reply.ms, `${kind} took ${Math.round(reply.ms)} ms`).toBeLessThan(ANSWER_MS);
      if (reply.status === 503) expectError(reply, 503, "unavailable");
      else if (reply.status === 401) expectError(reply, 401, "invalid_token");
      else
        expect({ kind, status: reply.status, body: reply.text.slice(0, 300) }).toMatchObject({
          kind,
          status: 200,
        });
    }
    // Traffic ran on both sides of the outage.
    expect(byStatus["issue 200"] ?? 0, JSON.stringify(byStatus)).toBeGreaterThan(10);
    expect(byStatus["issue 503"] ?? 0, JSON.stringify(byStatus)).toBeGreaterThan(0);

    // What clients were given is durable; nothing is half-written.
    const grants =
      await sql`select jti::text from impersonation_grants where jti = any(${issuedJtis}::uuid[])`;
    expect(grants.length).toBe(new Set(issuedJtis).size);
    const sessions = await sql`select id::text from sessions where id = any(${sessionIds}::uuid[])`;
    expect(sessions.length).toBe(new Set(sessionIds).size);
    expect(await invariantViolations(sql)).toEqual([]);

    // Recovered by itself, same process.
    await recovered(actors[0]!);
    expect(portal.serverPid()).toBe(serverPid);
    const token = await issue(portal, actors[1]!, 43);
    expect((await exchangeReply(portal, token)).status).toBe(200);
  });

  it("refuses forged tokens with 401 while the database is gone: no database work before the signature checks out (C12, H4)", async () => {
    const otto = await login(portal, EMAIL.otto);
    const genuine = await issue(portal, otto, 42);
    const attacker = await generateTestKey();
    const forgedGrant = await signEdDSA(
      decodeJwt(genuine).header,
      decodeJwt(genuine).payload,
      attacker.privateKey,
    );
    const forgedAccess = await signEdDSA(
      decodeJwt(otto).header,
      { ...decodeJwt(otto).payload, sub: "1" },
      attacker.privateKey,
    );
    const [h, p] = genuine.split(".");

    await proxy.cut();
    try {
      const cases: [string, Reply][] = [
        ["exchange: attacker-signed", await exchangeReply(portal, forgedGrant)],
        ["exchange: alg none", await exchangeReply(portal, `${h}.${p}.`)],
        ["exchange: garbage", await exchangeReply(portal, "not-a-token")],
        ["exchange: an access token", await exchangeReply(portal, otto)],
        ["me: attacker-signed", await me(portal, forgedAccess)],
        ["me: garbage", await me(portal, "a.b.c")],
        ["me: an impersonation token", await me(portal, genuine)],
        ["staff issue: attacker-signed", await issueReply(portal, forgedAccess, 42)],
        ["team issue: garbage", await issueReply(portal, "x.y.z", 42, { team: true })],
        ["me: no bearer", await me(portal, null)],
      ];
      const failures = cases
        .filter(([, reply]) => reply.status !== 401)
        .map(([what, reply]) => `${what}: ${reply.status} ${reply.text.slice(0, 100)}`);
      expect(failures).toEqual([]);
      for (const [what, reply] of cases) {
        expectError(reply, 401);
        expect(reply.ms, what).toBeLessThan(ANSWER_MS);
      }
    } finally {
      await proxy.restore();
    }
    await recovered(otto);
    // The genuine token was never touched.
    expect((await exchangeReply(portal, genuine)).status).toBe(200);
  });
});
