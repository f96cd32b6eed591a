// Live oversight (CONTRACT §8): admins list and end the live impersonated sessions of their
// location; members end those in their own account. Each end is audited as
// impersonation.terminated and takes effect on the session's next request.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
const t = { ada: "", adaL2: "", otto: "", tess: "", milo: "", nora: "", rita: "" };

const as = (bearer: string | null) => api.caller(bearer);
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const exchange = async (token: string) =>
  (await (await as(null)).impersonation.exchange({ token })).accessToken!;
const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  t.ada = await api.signIn("ada.admin@demo.test");
  t.adaL2 = await api.signIn("ada.admin@demo.test", 2);
  t.otto = await api.signIn("otto.operator@demo.test");
  t.tess = await api.signIn("tess.teamadmin@demo.test");
  t.milo = await api.signIn("milo.member@demo.test");
  t.nora = await api.signIn("nora.nomad@demo.test");
  t.rita = await api.signIn("rita.riverside@demo.test");
});
afterAll(() => api.close());

describe("GET /api/sys/impersonations (oversight.listImpersonations)", () => {
  it("lists every live impersonated session of the active location, newest first, with the contract's fields", async () => {
    const staff = await exchange(
      (
        await (
          await as(t.otto)
        ).impersonation.impersonate({
          coworkerId: 42,
          reason: "Help with booking",
          reasonCategory: "member_request",
          ticket: "HD-7",
          readOnly: true,
        })
      ).token,
    );
    const team = await exchange(
      (await (await as(t.tess)).impersonation.impersonateTeamMember({ coworkerId: 43 })).token,
    );
    const elsewhere = await exchange(
      (await (await as(t.adaL2)).impersonation.impersonate({ coworkerId: 51 })).token,
    );
    const { items } = await (await as(t.ada)).oversight.listImpersonations();
    const mine = items.filter((item) => [sidOf(staff), sidOf(team)].includes(item.sessionId));
    expect(mine.map((item) => item.sessionId)).toEqual([sidOf(team), sidOf(staff)]);
    expect(mine[1]).toEqual({
      sessionId: sidOf(staff),
      actor: { userId: 2, fullName: "Otto Operator" },
      target: { coworkerId: 42, fullName: "Milo Member" },
      kind: "staff",
      mode: "readonly",
      reason: "Help with booking",
      reasonCategory: "member_request",
      ticket: "HD-7",
      startedAt: expect.any(String) as string,
      expiresAt: expect.any(String) as string,
    });
    expect(mine[0]).toMatchObject({ kind: "team", mode: "full", target: { coworkerId: 43 } });
    expect(items.map((item) => item.sessionId)).not.toContain(sidOf(elsewhere));
    const riverside = await (await as(t.adaL2)).oversight.listImpersonations();
    expect(riverside.items.map((item) => item.sessionId)).toEqual([sidOf(elsewhere)]);
    // Ended sessions are not listed.
    await (await as(team)).impersonation.stopImpersonating();
    const after = await (await as(t.ada)).oversight.listImpersonations();
    expect(after.items.map((item) => item.sessionId)).not.toContain(sidOf(team));
  });

  it("answers 401 to anyone but an admin of the active location", async () => {
    const impersonated = await exchange(
      (await (await as(t.ada)).impersonation.impersonate({ coworkerId: 46 })).token,
    );
    for (const [label, bearer] of [
      ["anonymous", null],
      ["member", t.milo],
      ["team admin", t.tess],
      ["operator", t.otto],
      ["impersonated (an operator's account)", impersonated],
    ] as const) {
      await expectRefused(
        (await as(bearer)).oversight.listImpersonations(),
        401,
        "unauthorized",
        label,
      );
      await expectRefused(
        (await as(bearer)).oversight.endImpersonation({ sessionId: sidOf(impersonated) }),
        401,
        "unauthorized",
        label,
      );
    }
    expect((await (await as(impersonated)).auth.me()).impersonation).not.toBeNull();
  });
});

describe("ending a live impersonation", () => {
  it("lets an admin end one of the location's: it stops at once and is audited by_admin", async () => {
    const session = await exchange(
      (await (await as(t.otto)).impersonation.impersonate({ coworkerId: 44 })).token,
    );
    await (await as(t.ada)).oversight.endImpersonation({ sessionId: sidOf(session) });
    await expectRefused((await as(session)).auth.me(), 401, "unauthorized");
    expect((await (await as(t.otto)).auth.me()).staffRole).toBe("operator");
    const [event] = await rows<{
      type: string;
      detail: string;
      actor_user_id: number;
      target_coworker_id: number;
      location_id: number;
      session_id: string;
    }>(
      sql`select type, detail, actor_user_id, target_coworker_id, location_id, session_id from audit_events
          where type = 'impersonation.terminated' order by id desc limit 1`,
    );
    expect(event).toEqual({
      type: "impersonation.terminated",
      detail: "by_admin",
      actor_user_id: 1,
      target_coworker_id: 44,
      location_id: 1,
      session_id: sidOf(session),
    });
    // Twice: it is no longer live.
    await expectRefused(
      (await as(t.ada)).oversight.endImpersonation({ sessionId: sidOf(session) }),
      404,
      "not_found",
    );
  });

  it("answers 404 to an admin for another location's session, an own session, an unknown id; 400 for a malformed one", async () => {
    const elsewhere = await exchange(
      (await (await as(t.adaL2)).impersonation.impersonate({ coworkerId: 51 })).token,
    );
    const admin = await as(t.ada);
    await expectRefused(
      admin.oversight.endImpersonation({ sessionId: sidOf(elsewhere) }),
      404,
      "not_found",
      "other location",
    );
    await expectRefused(
      admin.oversight.endImpersonation({ sessionId: sidOf(t.milo) }),
      404,
      "not_found",
      "a member's own session",
    );
    await expectRefused(
      admin.oversight.endImpersonation({ sessionId: crypto.randomUUID() }),
      404,
      "not_found",
      "unknown",
    );
    await expectRefused(
      admin.oversight.endImpersonation({ sessionId: "not-a-uuid" }),
      400,
      "invalid_request",
    );
    expect((await (await as(elsewhere)).auth.me()).impersonation).not.toBeNull();
    expect((await (await as(t.milo)).auth.me()).userId).toBe(4);
  });

  it("lets the member end an impersonation of their account (by_member); another member gets 404, an impersonated session 403", async () => {
    const session = await exchange(
      (await (await as(t.tess)).impersonation.impersonateTeamMember({ coworkerId: 42 })).token,
    );
    const sessionId = sidOf(session);
    for (const [label, bearer] of [
      ["other member", t.nora],
      ["member of the other location", t.rita],
      ["the team admin who impersonates", t.tess],
    ] as const) {
      await expectRefused(
        (await as(bearer)).supportAccess.endImpersonation({ sessionId }),
        404,
        "not_found",
        label,
      );
    }
    await expectRefused(
      (await as(session)).supportAccess.endImpersonation({ sessionId }),
      403,
      "forbidden",
      "the impersonated session itself",
    );
    await expectRefused(
      (await as(null)).supportAccess.endImpersonation({ sessionId }),
      401,
      "unauthorized",
    );
    expect((await (await as(session)).auth.me()).impersonation).not.toBeNull();
    const { live } = await (await as(t.milo)).supportAccess.listSupportAccess();
    expect(live.map((item) => item.sessionId)).toContain(sessionId);
    await (await as(t.milo)).supportAccess.endImpersonation({ sessionId });
    await expectRefused((await as(session)).auth.me(), 401, "unauthorized");
    const [event] = await rows<{
      detail: string;
      actor_user_id: number;
      target_coworker_id: number;
    }>(
      sql`select detail, actor_user_id, target_coworker_id from audit_events
          where type = 'impersonation.terminated' order by id desc limit 1`,
    );
    expect(event).toEqual({ detail: "by_member", actor_user_id: 4, target_coworker_id: 42 });
    const audit = await (await as(t.ada)).audit.listEvents({ limit: 1 });
    expect(audit.items[0]).toMatchObject({
      type: "impersonation.terminated",
      detail: "by_member",
      actor: { userId: 4 },
    });
  });
});
