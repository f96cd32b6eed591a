// Several server processes, one PostgreSQL database (CONTRACT §6 "across any number of server
// processes"): single use under racing exchanges split across processes (D2, D3), revocation,
// the feature switch and throttling seen by every process at once, tokens verified everywhere;
// and changes made in the database (roles, teams) take effect on the next request (B12, E8, E10).
import { Agent } from "node:http";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EMAIL,
  exchangeReply,
  impersonate,
  issue,
  issueReply,
  login,
  me,
  signInReply,
} from "./support/flows";
import { call, expectError, fields, pool, type Reply } from "./support/http";
import { invariantViolations } from "./support/invariants";
import { createSharedDatabase, startPortal, type Portal } from "./support/portal";
import { sqlClient } from "./support/store";
import { decodeJwt } from "./support/tokens";

const ISSUE_LIMIT = 25;
const SIGNIN_LIMIT = 5;

describe("scale-out: two processes, one database", () => {
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let sql: postgres.Sql;
  let a: Portal;
  let b: Portal;
  const env = {
    AUTH_ISSUER: "http://portal.test",
    IMPERSONATE_LIMIT_PER_MINUTE: String(ISSUE_LIMIT),
    SIGNIN_LIMIT_PER_15_MINUTES: String(SIGNIN_LIMIT),
    TRUSTED_PROXIES: "127.0.0.1",
  };

  beforeAll(async () => {
    database = await createSharedDatabase({ seed: true });
    sql = sqlClient(database.url!);
    // Started together: the signing key is generated once, by whichever process gets there first.
    [a, b] = await Promise.all([
      startPortal({ databaseUrl: database.url!, env }),
      startPortal({ databaseUrl: database.url!, env }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sql?.end({ timeout: 2 });
    await database?.close();
  });

  it("shares one key set: each process verifies the other's tokens", async () => {
    expect((await call(a, "GET", "/.well-known/jwks.json")).text).toBe(
      (await call(b, "GET", "/.well-known/jwks.json")).text,
    );
    expect((await sql`select count(*)::int as n from signing_keys`)[0]!.n).toBe(1);
    const otto = await login(a, EMAIL.otto);
    expect(fields(await me(b, otto)).userId).toBe(2);
    const token = await issue(b, otto, 42);
    const session = fields(await exchangeReply(a, token)).access_token as string;
    expect(fields(await me(b, session)).userId).toBe(4);
    expect(fields(await me(a, session)).userId).toBe(4);
  });

  it("lets exactly one of 50 racing exchanges of one token win, across both processes, 20 rounds in a row (D2, D3)", async () => {
    const ada = await login(a, EMAIL.ada);
    // One connection per request, so the 50 really race instead of queueing on a few sockets.
    const agents = [
      new Agent({ keepAlive: true, maxSockets: 25 }),
      new Agent({ keepAlive: true, maxSockets: 25 }),
    ];
    const summary: string[] = [];
    for (let round = 0; round < 20; round++) {
      const token = await issue(round % 2 ? a : b, ada, round % 2 ? 42 : 43);
      const jti = decodeJwt(token).payload.jti as string;
      // Warm both sides' connections first, then release all 50 together.
      await Promise.all([me(a, ada), me(b, ada)]);
      const replies: Reply[] = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          call(index % 2 ? a : b, "POST", "/api/sys/users/exchange", {
            json: { token },
            agent: agents[index % 2]!,
          }),
        ),
      );
      const winners = replies.filter((reply) => reply.status === 200);
      for (const reply of replies.filter((reply) => reply.status !== 200))
        expectError(reply, 401, "invalid_token");
      summary.push(`round ${round}: ${winners.length} winner(s)`);
      expect(winners, summary.join("\n")).toHaveLength(1);
      const [row] = await sql`
        select (select count(*) from sessions where grant_jti = ${jti})::int as sessions,
               (select count(*) from audit_events where jti = ${jti} and type = 'impersonation.exchanged' and outcome = 'success')::int as successes,
               (select count(*) from audit_events where jti = ${jti} and type = 'impersonation.exchanged' and outcome = 'refused')::int as refusals,
               (select consumed_at is not null from impersonation_grants where jti = ${jti}) as consumed`;
      expect(row).toEqual({ sessions: 1, successes: 1, refusals: 49, consumed: true });
      // The winner's session is the one in the database, and it works on both processes.
      const sid = decodeJwt(fields(winners[0]!).access_token as string).payload.sid;
      expect(
        (await sql`select grant_jti::text as jti from sessions where id = ${sid as string}`)[0]!
          .jti,
      ).toBe(jti);
    }
    for (const agent of agents) agent.destroy();
    expect(await invariantViolations(sql)).toEqual([]);
  });

  it("signing out on one process ends the session on the other at once", async () => {
    const milo = await login(a, EMAIL.milo);
    expect((await me(b, milo)).status).toBe(200);
    expect((await call(b, "POST", "/api/sys/users/sign-out", { token: milo })).status).toBe(204);
    expectError(await me(a, milo), 401);
    // The actor signing out on A ends the impersonation everywhere, and a pending token.
    const otto = await login(a, EMAIL.otto);
    const live = await impersonate(b, otto, 42);
    const pending = await issue(b, otto, 43);
    expect((await call(a, "POST", "/api/sys/users/sign-out", { token: otto })).status).toBe(204);
    expectError(await me(b, live), 401);
    expectError(await exchangeReply(b, pending), 401, "invalid_token");
  });

  it("stopping an impersonation on one process ends it on the other at once", async () => {
    const otto = await login(b, EMAIL.otto);
    const live = await impersonate(a, otto, 42);
    expect((await me(b, live)).status).toBe(200);
    expect(
      (await call(b, "POST", "/api/sys/users/stop-impersonating", { token: live })).status,
    ).toBe(204);
    expectError(await me(a, live), 401);
    expectError(await call(a, "POST", "/api/sys/users/stop-impersonating", { token: live }), 401);
    expect((await me(a, otto)).status).toBe(200);
  });

  it("IMPERSONATION=off on a third process switches the feature off there only, at once", async () => {
    const off = await startPortal({
      databaseUrl: database.url!,
      env: { ...env, IMPERSONATION: "off" },
    });
    try {
      const otto = await login(a, EMAIL.otto);
      const live = await impersonate(a, otto, 43);
      const pending = await issue(b, otto, 42);
      expectError(await me(off, live), 401);
      expectError(await issueReply(off, otto, 42), 403, "impersonation_disabled");
      expectError(await exchangeReply(off, pending), 401, "invalid_token");
      expect(fields(await me(off, otto)).userId).toBe(2);
      expect(fields(await me(a, live)).userId).toBe(5);
      expect(fields(await me(b, live)).userId).toBe(5);
      expect((await exchangeReply(b, pending)).status).toBe(200);
    } finally {
      await off.stop();
    }
  });

  it("counts throttles across both processes: impersonation per actor, failed sign-ins per account", async () => {
    const tess = await login(a, EMAIL.tess);
    const statuses = await pool(
      Array.from(
        { length: ISSUE_LIMIT },
        (_, index) => () =>
          issueReply(index % 2 ? a : b, tess, 42, { team: true }).then((reply) => reply.status),
      ),
      4,
    );
    expect(statuses).toEqual(Array.from({ length: ISSUE_LIMIT }, () => 200));
    for (const portal of [a, b]) {
      const reply = await issueReply(portal, tess, 42, { team: true });
      expectError(reply, 429);
      expect(Number(reply.headers["retry-after"])).toBeGreaterThan(0);
    }

    for (let attempt = 0; attempt < SIGNIN_LIMIT; attempt++) {
      const portal = attempt % 2 ? a : b;
      expectError(
        await signInReply(portal, EMAIL.sam, {
          password: "wrong",
          headers: { "x-forwarded-for": `198.18.0.${attempt}` },
        }),
        400,
        "invalid_grant",
      );
    }
    for (const portal of [a, b])
      expectError(
        await signInReply(portal, EMAIL.sam, { headers: { "x-forwarded-for": "198.18.1.1" } }),
        429,
      );
  });

  describe("changes in the database take effect on the next request, on every process", () => {
    it("a removed staff role ends the right to issue, pending tokens and live impersonations; restored, it works without signing in again (B12, E8)", async () => {
      const otto = await login(a, EMAIL.otto);
      const live = await impersonate(a, otto, 42);
      const pending = await issue(a, otto, 43);
      await sql`delete from staff_roles where user_id = 2 and location_id = 1`;
      try {
        for (const portal of [a, b]) {
          expectError(await issueReply(portal, otto, 42), 401);
          expectError(await me(portal, live), 401);
          expect(fields(await me(portal, otto)).staffRole).toBeNull();
        }
        expectError(await exchangeReply(b, pending), 401, "invalid_token");
        const refusal =
          await sql`select detail from audit_events where jti = ${decodeJwt(pending).payload.jti as string} and outcome = 'refused'`;
        expect(refusal[0]?.detail).toMatch(/revoked/);
      } finally {
        await sql`insert into staff_roles (user_id, location_id, role) values (2, 1, 'operator')`;
      }
      expect((await issueReply(b, otto, 42)).status).toBe(200);
    });

    it("a demoted admin can no longer impersonate operators (rank is read from the database, not the token)", async () => {
      const ada = await login(b, EMAIL.ada);
      expect((await issueReply(a, ada, 46)).status).toBe(200);
      await sql`update staff_roles set role = 'operator' where user_id = 1 and location_id = 1`;
      try {
        expectError(await issueReply(a, ada, 46), 403, "forbidden");
        expect(fields(await me(b, ada)).staffRole).toBe("operator");
      } finally {
        await sql`update staff_roles set role = 'admin' where user_id = 1 and location_id = 1`;
      }
    });

    it("a target who leaves the team, or becomes staff anywhere, can no longer be impersonated by the team admin (E10, B10)", async () => {
      const ivan = await login(a, EMAIL.ivan); // Tess used up her issue limit above
      const live = await impersonate(a, ivan, 45, { team: true });
      const pending = await issue(b, ivan, 45, { team: true });
      await sql`delete from team_members where team_id = 8 and coworker_id = 45`;
      try {
        expectError(await me(b, live), 401);
        expectError(await exchangeReply(a, pending), 401, "invalid_token");
        expectError(await issueReply(b, ivan, 45, { team: true }), 404, "not_found");
      } finally {
        await sql`insert into team_members (team_id, coworker_id, location_id, team_admin) values (8, 45, 1, false)`;
      }
      const again = await impersonate(a, ivan, 45, { team: true });
      expect((await me(b, again)).status).toBe(200);
      await sql`insert into staff_roles (user_id, location_id, role) values (8, 2, 'operator')`;
      try {
        expectError(await me(a, again), 401);
        expectError(await issueReply(b, ivan, 45, { team: true }), 403, "forbidden");
      } finally {
        await sql`delete from staff_roles where user_id = 8 and location_id = 2`;
      }
    });

    it("leaves nothing half-written", async () => {
      expect(await invariantViolations(sql)).toEqual([]);
    });
  });
});
