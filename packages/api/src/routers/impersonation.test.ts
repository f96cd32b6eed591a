// Issuing and exchanging impersonation tokens through the real procedures: the authorization
// matrix of both issue routes, the token's shape, the exchange's effect, replay and forgery.
import { randomUUID } from "node:crypto";
import { signToken } from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { domainErrorOf } from "../errors";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused, refusal } from "../testing-refusals";

const EMAIL = {
  ada: "ada.admin@demo.test",
  otto: "otto.operator@demo.test",
  tess: "tess.teamadmin@demo.test",
  milo: "milo.member@demo.test",
  nora: "nora.nomad@demo.test",
  ivan: "ivan.indie@demo.test",
  rita: "rita.riverside@demo.test",
  sam: "sam.second@demo.test",
} as const;
const ISSUER = "http://portal.test";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let api: TestApi;
const token: Record<string, string> = {};

beforeAll(async () => {
  // A high issue limit: this file issues many tokens per actor; throttling has its own suite.
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  for (const [name, email] of Object.entries(EMAIL)) token[name] = await api.signIn(email);
  token.adaL2 = await api.signIn(EMAIL.ada, 2);
  token.ritaL2 = token.rita!;
  token.noraL2 = await api.signIn(EMAIL.nora, 2);
  // Impersonated sessions: Ada as Otto (46, an operator), Otto as Tess (40, a team admin).
  token.adaAsOtto = await impersonatedSession(token.ada, 46);
  token.ottoAsTess = await impersonatedSession(token.otto, 40);
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (bearer: string | null | undefined, ip?: string) => api.caller(bearer ?? null, ip);

async function impersonatedSession(actor: string | undefined, coworkerId: number): Promise<string> {
  const { token: grant } = await (await as(actor)).impersonation.impersonate({ coworkerId });
  const { accessToken } = await (await as(null)).impersonation.exchange({ token: grant });
  return accessToken!;
}

const grantsCount = async () =>
  (await rows<{ n: number }>(sql`select count(*)::int as n from impersonation_grants`))[0]!.n;

describe("impersonate (staff route)", () => {
  const matrix: {
    name: string;
    caller: string | null;
    coworkerId: number;
    status: number;
    code?: string;
  }[] = [
    { name: "anonymous", caller: null, coworkerId: 42, status: 401, code: "unauthorized" },
    {
      name: "a bearer that is not a token",
      caller: "not-a-token",
      coworkerId: 42,
      status: 401,
      code: "unauthorized",
    },
    { name: "a customer", caller: "milo", coworkerId: 43, status: 401, code: "unauthorized" },
    {
      name: "a team admin who is not staff",
      caller: "tess",
      coworkerId: 43,
      status: 401,
      code: "unauthorized",
    },
    {
      name: "a customer with profiles in two locations",
      caller: "nora",
      coworkerId: 42,
      status: 401,
      code: "unauthorized",
    },
    {
      name: "an operator targeting himself",
      caller: "otto",
      coworkerId: 46,
      status: 403,
      code: "forbidden",
    },
    {
      name: "an operator targeting another location",
      caller: "otto",
      coworkerId: 50,
      status: 404,
      code: "not_found",
    },
    {
      name: "an admin whose active location is another",
      caller: "adaL2",
      coworkerId: 42,
      status: 404,
      code: "not_found",
    },
    {
      name: "an impersonated session whose user is an operator",
      caller: "adaAsOtto",
      coworkerId: 42,
      status: 401,
      code: "unauthorized",
    },
    {
      name: "an impersonated session of a team admin",
      caller: "ottoAsTess",
      coworkerId: 42,
      status: 401,
      code: "unauthorized",
    },
    { name: "an operator, happy path", caller: "otto", coworkerId: 42, status: 200 },
    {
      name: "an admin targeting an operator (lower rank)",
      caller: "ada",
      coworkerId: 46,
      status: 200,
    },
    { name: "an admin in the second location", caller: "adaL2", coworkerId: 51, status: 200 },
  ];

  for (const row of matrix) {
    it(`${row.name} → ${row.status}${row.code ? ` ${row.code}` : ""}`, async () => {
      const bearer = row.caller === null ? null : (token[row.caller] ?? row.caller);
      const before = await grantsCount();
      const call = (await as(bearer)).impersonation.impersonate({
        coworkerId: row.coworkerId,
        reason: "matrix",
      });
      if (row.status === 200) {
        const { token: issued } = await call;
        expect(decodeJwt(issued).coworker_id).toBe(row.coworkerId);
        expect(await grantsCount()).toBe(before + 1);
      } else {
        await expectRefused(call, row.status, row.code!);
        expect(await grantsCount()).toBe(before);
      }
    });
  }

  it("issues a token of the contract's shape and records the grant (B1)", async () => {
    const result = await (
      await as(token.otto, "198.51.100.21")
    ).impersonation.impersonate({ coworkerId: 42, reason: "ticket-1" });
    const header = decodeProtectedHeader(result.token);
    expect(header).toEqual({
      alg: "EdDSA",
      typ: "cowork-impersonation+jwt",
      kid: api.deps.signer.keys.signing.kid,
    });
    expect(api.deps.signer.keys.jwks.keys.map((key) => key.kid)).toContain(header.kid);
    const claims = decodeJwt(result.token);
    expect(Object.keys(claims).sort()).toEqual([
      "act",
      "aud",
      "coworker_id",
      "exp",
      "iat",
      "iss",
      "jti",
      "sub",
    ]);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: `${ISSUER}/api/sys/users/exchange`,
      sub: "4",
      coworker_id: 42,
      act: { sub: "2" },
    });
    expect(claims.jti).toMatch(UUID);
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(10);
    expect(Math.floor(Date.parse(result.expiresAt) / 1000)).toBe(claims.exp);

    const [grant] = await rows<Record<string, unknown>>(
      sql`select kind, actor_user_id, target_user_id, coworker_id, location_id, team_id, reason, read_only, consumed_at
          from impersonation_grants where jti = ${claims.jti}`,
    );
    expect(grant).toEqual({
      kind: "staff",
      actor_user_id: 2,
      target_user_id: 4,
      coworker_id: 42,
      location_id: 1,
      team_id: null,
      reason: "ticket-1",
      read_only: false,
      consumed_at: null,
    });
    const events = await rows<Record<string, unknown>>(
      sql`select type, outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip from audit_events where jti = ${claims.jti}`,
    );
    expect(events).toEqual([
      {
        type: "impersonation.issued",
        outcome: "success",
        actor_user_id: 2,
        target_coworker_id: 42,
        location_id: 1,
        kind: "staff",
        reason: "ticket-1",
        ip: "198.51.100.21",
      },
    ]);

    const ada = await (await as(token.ada)).impersonation.impersonate({ coworkerId: 43 });
    expect(decodeJwt(ada.token)).toMatchObject({ sub: "5", coworker_id: 43, act: { sub: "1" } });
    expect(decodeJwt(ada.token).jti).not.toBe(claims.jti);
  });

  it("grants staff rights only in the active location (B4)", async () => {
    const inL2 = await (await as(token.adaL2)).impersonation.impersonate({ coworkerId: 51 });
    const [grant] = await rows<{ location_id: number }>(
      sql`select location_id from impersonation_grants where jti = ${decodeJwt(inL2.token).jti}`,
    );
    expect(grant?.location_id).toBe(2);
    await expectRefused(
      (await as(token.adaL2)).impersonation.impersonate({ coworkerId: 42 }),
      404,
      "not_found",
    );
    await expectRefused(
      (await as(token.ada)).impersonation.impersonate({ coworkerId: 51 }),
      404,
      "not_found",
    );
    await expectRefused(
      (await as(token.ada)).impersonation.impersonate({ coworkerId: 50 }),
      404,
      "not_found",
    );
    await expect(
      (await as(token.ada)).impersonation.impersonate({ coworkerId: 43 }),
    ).resolves.toHaveProperty("token");
  });

  it("answers another location's coworker exactly like one that does not exist (B3)", async () => {
    const answers = [];
    for (const coworkerId of [50, 51, 99_999, 2_147_483_647]) {
      answers.push(await refusal((await as(token.otto)).impersonation.impersonate({ coworkerId })));
    }
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 404, code: "not_found" });
  });

  it("never takes identity or tenant from input (B6)", async () => {
    const before = await grantsCount();
    const extras = [
      { actorId: 1 },
      { userId: 1 },
      { locationId: 2 },
      { act: { sub: "1" } },
      { sub: "1" },
    ];
    for (const extra of extras) {
      await expectRefused(
        (await as(token.otto)).impersonation.impersonate({ coworkerId: 42, ...extra }),
        400,
        "invalid_request",
        JSON.stringify(extra),
      );
    }
    expect(await grantsCount()).toBe(before);
  });

  it("validates coworkerId, reason and returnPath", async () => {
    const bad: unknown[] = [
      {},
      { coworkerId: "42" },
      { coworkerId: 0 },
      { coworkerId: -1 },
      { coworkerId: 1.5 },
      { coworkerId: 2_147_483_648 },
      { coworkerId: Number.NaN },
      { coworkerId: [42] },
      { coworkerId: { gt: 0 } },
      { coworkerId: null },
      { coworkerId: 42, reason: "x".repeat(501) },
      { coworkerId: 42, reason: 5 },
      { coworkerId: 42, readOnly: "yes" },
      { coworkerId: 42, returnPath: "//evil.test/" },
      { coworkerId: 42, returnPath: "https://evil.test/" },
      { coworkerId: 42, returnPath: "/\\evil.test" },
      { coworkerId: 42, returnPath: "javascript:alert(1)" },
    ];
    for (const input of bad) {
      await expectRefused(
        (await as(token.otto)).impersonation.impersonate(input as never),
        400,
        "invalid_request",
        JSON.stringify(input),
      );
      await expectRefused(
        (await as(token.tess)).impersonation.impersonateTeamMember(input as never),
        400,
        "invalid_request",
        `team ${JSON.stringify(input)}`,
      );
    }
    const longest = await (
      await as(token.otto)
    ).impersonation.impersonate({
      coworkerId: 42,
      reason: "r".repeat(500),
      returnPath: "/team?tab=members",
    });
    const [grant] = await rows<{ reason: string; return_path: string }>(
      sql`select reason, return_path from impersonation_grants where jti = ${decodeJwt(longest.token).jti}`,
    );
    expect(grant).toEqual({ reason: "r".repeat(500), return_path: "/team?tab=members" });
  });

  it("stores a blank reason as none and an injected reason verbatim", async () => {
    const blank = await (
      await as(token.otto)
    ).impersonation.impersonate({ coworkerId: 42, reason: "   " });
    const injected = '\r\n{"type":"impersonation.issued","actor":1}<script>';
    const tricky = await (
      await as(token.otto)
    ).impersonation.impersonate({ coworkerId: 42, reason: injected });
    const reasons = await rows<{ jti: string; reason: string | null }>(
      sql`select jti::text, reason from audit_events where jti in (${decodeJwt(blank.token).jti}, ${decodeJwt(tricky.token).jti})`,
    );
    expect(reasons).toHaveLength(2);
    expect(reasons.find((row) => row.jti === decodeJwt(blank.token).jti)?.reason).toBeNull();
    expect(reasons.find((row) => row.jti === decodeJwt(tricky.token).jti)?.reason).toBe(injected);
  });
});

describe("impersonateTeamMember (team route)", () => {
  const matrix: {
    name: string;
    caller: string | null;
    coworkerId: number;
    status: number;
    code?: string;
  }[] = [
    { name: "anonymous", caller: null, coworkerId: 42, status: 401, code: "unauthorized" },
    {
      name: "a bearer that is not a token",
      caller: "not-a-token",
      coworkerId: 42,
      status: 401,
      code: "unauthorized",
    },
    { name: "a plain team member", caller: "milo", coworkerId: 43, status: 403, code: "forbidden" },
    {
      name: "an operator who is a plain team member",
      caller: "otto",
      coworkerId: 43,
      status: 403,
      code: "forbidden",
    },
    {
      name: "an admin without a profile",
      caller: "ada",
      coworkerId: 43,
      status: 403,
      code: "forbidden",
    },
    {
      name: "a plain member in another location",
      caller: "noraL2",
      coworkerId: 51,
      status: 403,
      code: "forbidden",
    },
    {
      name: "a team admin targeting another team",
      caller: "tess",
      coworkerId: 44,
      status: 404,
      code: "not_found",
    },
    {
      name: "a team admin targeting another team's member",
      caller: "tess",
      coworkerId: 45,
      status: 404,
      code: "not_found",
    },
    {
      name: "a team admin targeting another location",
      caller: "tess",
      coworkerId: 51,
      status: 404,
      code: "not_found",
    },
    {
      name: "a team admin targeting a member's profile in another location",
      caller: "tess",
      coworkerId: 50,
      status: 404,
      code: "not_found",
    },
    {
      name: "a team admin targeting a missing coworker",
      caller: "tess",
      coworkerId: 99_999,
      status: 404,
      code: "not_found",
    },
    {
      name: "another team's admin",
      caller: "ivan",
      coworkerId: 42,
      status: 404,
      code: "not_found",
    },
    {
      name: "a team admin in another location",
      caller: "ritaL2",
      coworkerId: 43,
      status: 404,
      code: "not_found",
    },
    {
      name: "a team admin targeting staff in her team",
      caller: "tess",
      coworkerId: 46,
      status: 403,
      code: "forbidden",
    },
    {
      name: "a team admin targeting herself",
      caller: "tess",
      coworkerId: 40,
      status: 403,
      code: "forbidden",
    },
    {
      name: "a team admin of a two-person team targeting himself",
      caller: "ivan",
      coworkerId: 44,
      status: 403,
      code: "forbidden",
    },
    {
      name: "an impersonated team admin session",
      caller: "ottoAsTess",
      coworkerId: 42,
      status: 401,
      code: "unauthorized",
    },
    {
      name: "an impersonated operator session",
      caller: "adaAsOtto",
      coworkerId: 43,
      status: 401,
      code: "unauthorized",
    },
    { name: "a team admin, happy path", caller: "tess", coworkerId: 42, status: 200 },
    { name: "a team admin, another member", caller: "tess", coworkerId: 43, status: 200 },
    { name: "a team admin of another team", caller: "ivan", coworkerId: 45, status: 200 },
    { name: "a team admin in the second location", caller: "ritaL2", coworkerId: 50, status: 200 },
  ];

  for (const row of matrix) {
    it(`${row.name} → ${row.status}${row.code ? ` ${row.code}` : ""}`, async () => {
      const bearer = row.caller === null ? null : (token[row.caller] ?? row.caller);
      const before = await grantsCount();
      const call = (await as(bearer)).impersonation.impersonateTeamMember({
        coworkerId: row.coworkerId,
      });
      if (row.status === 200) {
        const { token: issued } = await call;
        expect(decodeJwt(issued).coworker_id).toBe(row.coworkerId);
        expect(await grantsCount()).toBe(before + 1);
      } else {
        await expectRefused(call, row.status, row.code!);
        expect(await grantsCount()).toBe(before);
      }
    });
  }

  it("issues a token naming the team admin as actor (B7)", async () => {
    const result = await (
      await as(token.tess, "198.51.100.22")
    ).impersonation.impersonateTeamMember({ coworkerId: 42, reason: "help with invoices" });
    expect(decodeProtectedHeader(result.token)).toMatchObject({
      alg: "EdDSA",
      typ: "cowork-impersonation+jwt",
    });
    const claims = decodeJwt(result.token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: `${ISSUER}/api/sys/users/exchange`,
      sub: "4",
      coworker_id: 42,
      act: { sub: "3" },
    });
    expect(claims.exp! - claims.iat!).toBe(60);
    const [grant] = await rows<Record<string, unknown>>(
      sql`select kind, actor_user_id, coworker_id, location_id, team_id, reason from impersonation_grants where jti = ${claims.jti}`,
    );
    expect(grant).toEqual({
      kind: "team",
      actor_user_id: 3,
      coworker_id: 42,
      location_id: 1,
      team_id: 7,
      reason: "help with invoices",
    });
    const events = await rows<Record<string, unknown>>(
      sql`select type, outcome, actor_user_id, kind, ip from audit_events where jti = ${claims.jti}`,
    );
    expect(events).toEqual([
      {
        type: "impersonation.issued",
        outcome: "success",
        actor_user_id: 3,
        kind: "team",
        ip: "198.51.100.22",
      },
    ]);
  });

  it("validates its input before it looks anything up or writes to the audit log", async () => {
    const reason = "flood-".repeat(200);
    await expectRefused(
      (await as(token.milo)).impersonation.impersonateTeamMember({ coworkerId: 43, reason }),
      400,
      "invalid_request",
      "caller who is no team admin",
    );
    await expectRefused(
      (await as(token.tess)).impersonation.impersonateTeamMember({ coworkerId: 44, reason }),
      400,
      "invalid_request",
      "target outside her teams",
    );
    await expectRefused(
      (await as(token.milo)).impersonation.impersonateTeamMember({
        coworkerId: 43,
        returnPath: "//evil.test",
      }),
      400,
      "invalid_request",
      "bad return path",
    );
    const [stored] = await rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events where reason = ${reason}`,
    );
    expect(stored?.n).toBe(0);
  });

  it("audits each refusal with actor, target, location and the reason code", async () => {
    await expectRefused(
      (await as(token.milo, "198.51.100.23")).impersonation.impersonateTeamMember({
        coworkerId: 43,
      }),
      403,
      "forbidden",
    );
    await expectRefused(
      (await as(token.tess, "198.51.100.23")).impersonation.impersonateTeamMember({
        coworkerId: 44,
      }),
      404,
      "not_found",
    );
    await expectRefused(
      (await as(token.tess, "198.51.100.23")).impersonation.impersonateTeamMember({
        coworkerId: 46,
      }),
      403,
      "forbidden",
    );
    const events = await rows<{
      actor_user_id: number;
      target_coworker_id: number;
      location_id: number;
      kind: string;
      outcome: string;
      detail: string;
    }>(
      sql`select actor_user_id, target_coworker_id, location_id, kind, outcome, detail from audit_events
          where ip = '198.51.100.23' and type = 'impersonation.issued' order by id`,
    );
    expect(events).toMatchObject([
      {
        actor_user_id: 4,
        target_coworker_id: 43,
        location_id: 1,
        kind: "team",
        outcome: "refused",
      },
      {
        actor_user_id: 3,
        target_coworker_id: 44,
        location_id: 1,
        kind: "team",
        outcome: "refused",
      },
      {
        actor_user_id: 3,
        target_coworker_id: 46,
        location_id: 1,
        kind: "team",
        outcome: "refused",
      },
    ]);
    expect(events.map((event) => event.detail)).toEqual([
      "not_team_admin",
      "not_found",
      "staff_target",
    ]);
  });
});

describe("exchange", () => {
  const exchange = async (value: unknown, ip?: string) =>
    (await as(null, ip)).impersonation.exchange(value as { token: string });
  const issue = async (
    actor: string,
    coworkerId: number,
    extra: { reason?: string; readOnly?: boolean } = {},
  ) => (await (await as(token[actor])).impersonation.impersonate({ coworkerId, ...extra })).token;

  it("gives a session of the target with the actor recorded (E1)", async () => {
    const grant = await issue("otto", 42, { reason: "ticket-1" });
    const result = await exchange({ token: grant }, "198.51.100.31");
    expect(result.expiresIn).toBeGreaterThan(3500);
    expect(result.expiresIn).toBeLessThanOrEqual(3600);
    const access = decodeJwt(result.accessToken!);
    expect(decodeProtectedHeader(result.accessToken!).typ).toBe("at+jwt");
    expect(access).toMatchObject({
      sub: "4",
      act: { sub: "2" },
      iss: ISSUER,
      aud: `${ISSUER}/api`,
    });
    expect(access.sid).toMatch(UUID);
    const me = await (await as(result.accessToken)).auth.me();
    expect(me).toMatchObject({
      userId: 4,
      email: EMAIL.milo,
      location: { id: 1, name: "Downtown Hub" },
      profile: { coworkerId: 42, locationId: 1, fullName: "Milo Member" },
      staffRole: null,
      impersonation: { actor: { userId: 2, fullName: "Otto Operator" }, reason: "ticket-1" },
    });
    const expiresAt = Date.parse(me.impersonation!.expiresAt);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(expiresAt).toBeGreaterThan(Date.now() + 3500_000);

    const jti = decodeJwt(grant).jti!;
    const [session] = await rows<{
      id: string;
      user_id: number;
      actor_user_id: number;
      coworker_id: number;
      location_id: number;
      lifetime: number;
    }>(
      sql`select id::text, user_id, actor_user_id, coworker_id, location_id, extract(epoch from expires_at - created_at)::int as lifetime
          from sessions where grant_jti = ${jti}`,
    );
    expect(session).toMatchObject({
      id: access.sid,
      user_id: 4,
      actor_user_id: 2,
      coworker_id: 42,
      location_id: 1,
    });
    expect(session!.lifetime).toBeLessThanOrEqual(3600);
    const events = await rows<Record<string, unknown>>(
      sql`select outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip, session_id::text
          from audit_events where jti = ${jti} and type = 'impersonation.exchanged'`,
    );
    expect(events).toEqual([
      {
        outcome: "success",
        actor_user_id: 2,
        target_coworker_id: 42,
        location_id: 1,
        kind: "staff",
        reason: "ticket-1",
        ip: "198.51.100.31",
        session_id: access.sid,
      },
    ]);
  });

  it("works for a team admin's token", async () => {
    const grant = (
      await (await as(token.tess)).impersonation.impersonateTeamMember({ coworkerId: 43 })
    ).token;
    const { accessToken } = await exchange({ token: grant });
    const me = await (await as(accessToken)).auth.me();
    expect(me).toMatchObject({
      userId: 5,
      profile: { coworkerId: 43 },
      location: { id: 1 },
      staffRole: null,
      impersonation: { actor: { userId: 3, fullName: "Tess Teamadmin" } },
    });
  });

  it("refuses a replay with invalid_token and audits both attempts (D1)", async () => {
    const grant = await issue("otto", 42);
    await exchange({ token: grant });
    await expectRefused(exchange({ token: grant }, "198.51.100.32"), 401, "invalid_token");
    const jti = decodeJwt(grant).jti!;
    const events = await rows<{
      outcome: string;
      detail: string | null;
      actor_user_id: number;
      ip: string;
    }>(
      sql`select outcome, detail, actor_user_id, ip from audit_events where jti = ${jti} and type = 'impersonation.exchanged' order by id`,
    );
    expect(events).toMatchObject([
      { outcome: "success", detail: null, actor_user_id: 2 },
      { outcome: "refused", detail: "already_used", actor_user_id: 2, ip: "198.51.100.32" },
    ]);
    expect(
      (
        await rows<{ n: number }>(
          sql`select count(*)::int as n from sessions where grant_jti = ${jti}`,
        )
      )[0]!.n,
    ).toBe(1);
  });

  it("answers 400 invalid_request to a missing or garbled body", async () => {
    const bodies: unknown[] = [
      undefined,
      null,
      {},
      { token: "" },
      { token: 123 },
      { token: null },
      { token: ["x"] },
      "token",
    ];
    for (const body of bodies) {
      await expectRefused(exchange(body), 400, "invalid_request", JSON.stringify(body));
    }
  });

  it("refuses an oversized token as a bad token (401), not as a bad body", async () => {
    await expectRefused(exchange({ token: "a".repeat(60_000) }), 401, "invalid_token");
  });

  it("refuses extra body fields without consuming the token", async () => {
    const grant = await issue("otto", 42);
    await expectRefused(
      exchange({ token: grant, coworkerId: 43, act: { sub: "1" } }),
      400,
      "invalid_request",
    );
    const { accessToken } = await exchange({ token: grant });
    expect(decodeJwt(accessToken!)).toMatchObject({ sub: "4", act: { sub: "2" } });
  });

  it("refuses what is not an impersonation token of this service with 401 invalid_token, and audits it", async () => {
    const expiresAt = new Date(Date.now() + 60_000);
    const grant = await issue("otto", 42);
    const [header, payload, signature] = grant.split(".") as [string, string, string];
    const noneHeader = Buffer.from(
      JSON.stringify({ alg: "none", typ: "cowork-impersonation+jwt" }),
    ).toString("base64url");
    const candidates: Record<string, string> = {
      garbage: "not-a-token",
      "8 KB of base64url": "a".repeat(8192),
      "an access token": token.otto!,
      "alg none": `${noneHeader}.${payload}.`,
      "a flipped signature": `${header}.${payload}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`,
      "a JSON-serialized JWS": JSON.stringify({ protected: header, payload, signature }),
      "an access token signed with the real key carrying act": signToken(
        api.deps.signer,
        "access",
        { sub: "4", sid: randomUUID(), act: { sub: "2" } },
        { expiresAt },
      ),
    };
    const before = (await rows<{ n: number }>(sql`select count(*)::int as n from sessions`))[0]!.n;
    for (const [name, candidate] of Object.entries(candidates)) {
      await expectRefused(
        exchange({ token: candidate }, "198.51.100.33"),
        401,
        "invalid_token",
        name,
      );
    }
    expect((await rows<{ n: number }>(sql`select count(*)::int as n from sessions`))[0]!.n).toBe(
      before,
    );
    const events = await rows<{ outcome: string; detail: string }>(
      sql`select outcome, detail from audit_events where ip = '198.51.100.33' and type = 'impersonation.exchanged'`,
    );
    expect(events).toHaveLength(Object.keys(candidates).length);
    expect(events.map((event) => `${event.outcome} ${event.detail}`)).toEqual(
      events.map(() => "refused bad_token"),
    );
    // The genuine token was not spent by its forged variants.
    await expect(exchange({ token: grant })).resolves.toHaveProperty("accessToken");
  });

  it("refuses a correctly signed token whose grant was never issued (C11)", async () => {
    const forged = signToken(
      api.deps.signer,
      "impersonation",
      { sub: "4", coworker_id: 42, act: { sub: "2" } },
      {
        expiresAt: new Date(Date.now() + 60_000),
        jti: randomUUID(),
      },
    );
    await expectRefused(exchange({ token: forged }, "198.51.100.34"), 401, "invalid_token");
    const [event] = await rows<{ detail: string; jti: string | null }>(
      sql`select detail, jti from audit_events where ip = '198.51.100.34' and type = 'impersonation.exchanged'`,
    );
    expect(event).toEqual({ detail: "unknown_grant", jti: null });
  });

  it("refuses a correctly signed token whose claims differ from its grant, without spending the grant", async () => {
    const grant = await issue("otto", 42);
    const jti = decodeJwt(grant).jti!;
    const expiresAt = new Date(Date.now() + 60_000);
    const variants = [
      { sub: "5", coworker_id: 42, act: { sub: "2" } },
      { sub: "4", coworker_id: 43, act: { sub: "2" } },
      { sub: "4", coworker_id: 42, act: { sub: "1" } },
    ];
    for (const claims of variants) {
      const forged = signToken(api.deps.signer, "impersonation", claims, { expiresAt, jti });
      await expectRefused(
        exchange({ token: forged }),
        401,
        "invalid_token",
        JSON.stringify(claims),
      );
    }
    const { accessToken } = await exchange({ token: grant });
    expect(decodeJwt(accessToken!)).toMatchObject({ sub: "4", act: { sub: "2" } });
  });

  it("refuses a token whose grant has expired, and says so in the audit", async () => {
    const grant = await issue("otto", 43);
    const jti = decodeJwt(grant).jti!;
    await rows(
      sql`update impersonation_grants set issued_at = now() - interval '70 seconds', expires_at = now() - interval '10 seconds' where jti = ${jti}`,
    );
    await expectRefused(exchange({ token: grant }), 401, "invalid_token");
    const [event] = await rows<{ detail: string }>(
      sql`select detail from audit_events where jti = ${jti} and type = 'impersonation.exchanged'`,
    );
    expect(event?.detail).toBe("expired");
    expect(
      (
        await rows<{ n: number }>(
          sql`select count(*)::int as n from sessions where grant_jti = ${jti}`,
        )
      )[0]!.n,
    ).toBe(0);
  });

  it(
    "lets exactly one of 50 concurrent exchanges of one token succeed, round after round (D2)",
    { timeout: 120_000 },
    async () => {
      for (let round = 0; round < 4; round++) {
        const grant = await issue("otto", 42, { reason: `race-${round}` });
        const jti = decodeJwt(grant).jti!;
        const callers = await Promise.all(
          Array.from({ length: 50 }, (_, i) => as(null, `192.0.2.${i + 1}`)),
        );
        const results = await Promise.allSettled(
          callers.map((caller) => caller.impersonation.exchange({ token: grant })),
        );
        const won = results.filter((result) => result.status === "fulfilled");
        expect(won, `round ${round}`).toHaveLength(1);
        for (const result of results) {
          if (result.status === "rejected") {
            expect(domainErrorOf(result.reason)).toMatchObject({
              code: "invalid_token",
              status: 401,
            });
          }
        }
        const sessions = await rows<{ id: string }>(
          sql`select id::text from sessions where grant_jti = ${jti}`,
        );
        expect(sessions).toHaveLength(1);
        const winner = (won[0] as PromiseFulfilledResult<{ accessToken: string | null }>).value;
        expect(decodeJwt(winner.accessToken!).sid).toBe(sessions[0]!.id);
        const events = await rows<{ outcome: string; detail: string | null }>(
          sql`select outcome, detail from audit_events where jti = ${jti} and type = 'impersonation.exchanged'`,
        );
        expect(events.filter((event) => event.outcome === "success")).toHaveLength(1);
        const refused = events.filter((event) => event.outcome === "refused");
        expect(refused).toHaveLength(49);
        expect(new Set(refused.map((event) => event.detail))).toEqual(new Set(["already_used"]));
        const [grantRow] = await rows<{ consumed: boolean }>(
          sql`select consumed_at is not null as consumed from impersonation_grants where jti = ${jti}`,
        );
        expect(grantRow?.consumed).toBe(true);
      }
    },
  );
});
