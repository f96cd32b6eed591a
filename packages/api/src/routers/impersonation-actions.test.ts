// Actions while impersonating (CONTRACT §9), through the procedures: what an impersonated session
// calls is recorded whatever became of the call, own sessions and the exchange never are, the
// admin's per-session list answers only the location's admins, and the member's history and the
// audit page carry the actions.
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createContext } from "../context";
import { createCaller } from "../root";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
let otto: string;
let adaL1: string;
let adaL2: string;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  otto = await api.signIn("otto.operator@demo.test");
  adaL1 = await api.signIn("ada.admin@demo.test", 1);
  adaL2 = await api.signIn("ada.admin@demo.test", 2);
});
afterAll(() => api.close());

const as = (bearer: string | null) => api.caller(bearer);
const sid = (token: string) => decodeJwt(token).sid as string;
/** Actions without their times (checked on their own). */
const calls = (actions: { procedure: string; kind: string; outcome: string }[]) =>
  actions.map(({ procedure, kind, outcome }) => ({ procedure, kind, outcome }));

/** An impersonated session's access token (its actor's own session stays as it was). */
async function impersonated(actor: string, coworkerId: number, readOnly = false) {
  const { token } = await (await as(actor)).impersonation.impersonate({ coworkerId, readOnly });
  return (await (await as(null)).impersonation.exchange({ token })).accessToken!;
}

/** Every recorded action of a session, as the database holds it (after this process's flush). */
async function stored(sessionId: string) {
  await api.deps.actions.flush();
  return queryRows<{ procedure: string; kind: string; outcome: string; location_id: number }>(
    api.database.db,
    sql`select procedure, kind, outcome, location_id from impersonation_actions
        where session_id = ${sessionId} order by at, id`,
  );
}

const countAll = async () => {
  await api.deps.actions.flush();
  const [row] = await queryRows<{ n: number }>(
    api.database.db,
    sql`select count(*)::int as n from impersonation_actions`,
  );
  return row!.n;
};

describe("recording an impersonated session's calls", () => {
  it("records successes, authorization refusals, input errors and domain refusals, with kind and location", async () => {
    const asMilo = await impersonated(otto, 42);
    const caller = await as(asMilo);
    await caller.auth.me();
    await caller.profiles.listProfiles();
    await expectRefused(caller.audit.listEvents({ limit: 5 }), 401, "unauthorized");
    await expectRefused(caller.profiles.setCurrentProfile({ coworkerId: 42 }), 403, "forbidden");
    // The schema comes before its session checks: an input error.
    await expectRefused(
      caller.impersonation.impersonate({ coworkerId: -1 }),
      400,
      "invalid_request",
    );
    await expectRefused(
      caller.impersonation.impersonateTeamMember({ coworkerId: 43 }),
      401,
      "unauthorized",
    );
    expect(await stored(sid(asMilo))).toEqual([
      { procedure: "auth.me", kind: "query", outcome: "success", location_id: 1 },
      { procedure: "profiles.listProfiles", kind: "query", outcome: "success", location_id: 1 },
      { procedure: "audit.listEvents", kind: "query", outcome: "refused", location_id: 1 },
      {
        procedure: "profiles.setCurrentProfile",
        kind: "mutation",
        outcome: "refused",
        location_id: 1,
      },
      {
        procedure: "impersonation.impersonate",
        kind: "mutation",
        outcome: "refused",
        location_id: 1,
      },
      {
        procedure: "impersonation.impersonateTeamMember",
        kind: "mutation",
        outcome: "refused",
        location_id: 1,
      },
    ]);
  });

  it("records a read-only session's refused change and its allowed stop", async () => {
    const readOnly = await impersonated(otto, 43, true);
    const caller = await as(readOnly);
    await expectRefused(caller.profiles.setCurrentProfile({ coworkerId: 43 }), 403, "read_only");
    await caller.impersonation.stopImpersonating();
    expect(await stored(sid(readOnly))).toMatchObject([
      { procedure: "profiles.setCurrentProfile", kind: "mutation", outcome: "refused" },
      { procedure: "impersonation.stopImpersonating", kind: "mutation", outcome: "success" },
    ]);
  });

  it("records a failure on the service's side as an error (a write past its deadline: 503)", async () => {
    const asNora = await impersonated(otto, 43);
    const late = createCaller(
      await createContext({
        deps: api.deps,
        token: asNora,
        meta: {
          ip: "203.0.113.7",
          requestId: "late",
          deadline: new Date(Date.now() - 60_000),
          answerBy: Date.now() + 60_000,
        },
      }),
    );
    await expectRefused(late.impersonation.stopImpersonating(), 503, "unavailable");
    expect(await stored(sid(asNora))).toMatchObject([
      { procedure: "impersonation.stopImpersonating", kind: "mutation", outcome: "error" },
    ]);
    // Nothing of it happened: the session still works, and that call is recorded too.
    await (await as(asNora)).auth.me();
    expect((await stored(sid(asNora))).map((row) => row.outcome)).toEqual(["error", "success"]);
  });

  it("never records own sessions, and the exchange is no action of the session it creates", async () => {
    const before = await countAll();
    const milo = await api.signIn("milo.member@demo.test");
    await (await as(milo)).auth.me();
    await (await as(otto)).auth.me();
    await expectRefused((await as(milo)).audit.listEvents({ limit: 5 }), 401, "unauthorized");
    // Issue and exchange, by the actor's own session and by no session at all.
    const { token } = await (await as(otto)).impersonation.impersonate({ coworkerId: 44 });
    const exchanged = (await (await as(otto)).impersonation.exchange({ token })).accessToken!;
    const anonymous = await impersonated(otto, 45);
    expect(await countAll()).toBe(before);
    expect(await stored(sid(exchanged))).toEqual([]);
    expect(await stored(sid(anonymous))).toEqual([]);
    expect(await stored(sid(otto))).toEqual([]);
  });

  it("holds the records in the process until a flush, and writes many calls in few statements", async () => {
    const asIvan = await impersonated(otto, 44);
    const caller = await as(asIvan);
    const insertBatch = vi.spyOn(api.deps.actions, "insertBatch");
    try {
      await api.deps.actions.flush();
      insertBatch.mockClear();
      for (let i = 0; i < 40; i++) await caller.auth.me();
      // Recorded, not written: the calls waited for no INSERT.
      expect(insertBatch).not.toHaveBeenCalled();
      expect(api.deps.actions.pendingCount).toBe(40);
      await api.deps.actions.flush();
      expect(insertBatch).toHaveBeenCalledTimes(1);
      expect(insertBatch.mock.calls[0]![0]).toHaveLength(40);
      expect(await stored(sid(asIvan))).toHaveLength(40);
    } finally {
      insertBatch.mockRestore();
    }
  });
});

describe("GET /api/sys/impersonations/{sessionId}/actions (impersonationActions.listSessionActions)", () => {
  it("answers the location's admin with the session's actions, oldest first", async () => {
    const asMilo = await impersonated(otto, 42);
    await (await as(asMilo)).auth.me();
    await expectRefused((await as(asMilo)).audit.listEvents({ limit: 1 }), 401, "unauthorized");
    // Not flushed by the test: the read writes what the process holds before it reads.
    const { items } = await (
      await as(adaL1)
    ).impersonationActions.listSessionActions({ sessionId: sid(asMilo) });
    expect(calls(items)).toEqual([
      { procedure: "auth.me", kind: "query", outcome: "success" },
      { procedure: "audit.listEvents", kind: "query", outcome: "refused" },
    ]);
    expect(Date.parse(items[1]!.at)).toBeGreaterThanOrEqual(Date.parse(items[0]!.at));
    expect(new Date(items[0]!.at).toISOString()).toBe(items[0]!.at);
  });

  it("answers an impersonated session with no actions with an empty list", async () => {
    const quiet = await impersonated(otto, 45);
    expect(
      await (await as(adaL1)).impersonationActions.listSessionActions({ sessionId: sid(quiet) }),
    ).toEqual({ items: [] });
  });

  it("answers 401 to anyone but an admin of the active location", async () => {
    const asMilo = await impersonated(otto, 42);
    const sessionId = sid(asMilo);
    const rita = await api.signIn("rita.riverside@demo.test");
    const milo = await api.signIn("milo.member@demo.test");
    const tess = await api.signIn("tess.teamadmin@demo.test");
    const adminImpersonated = await impersonated(adaL1, 46);
    for (const [who, token] of [
      ["anonymous", null],
      ["a member", milo],
      ["a team admin", tess],
      ["a member of another location", rita],
      ["an operator", otto],
      ["the impersonated session itself", asMilo],
      ["an impersonated session of the operator, started by an admin", adminImpersonated],
    ] as const) {
      await expectRefused(
        (await as(token)).impersonationActions.listSessionActions({ sessionId }),
        401,
        "unauthorized",
        who,
      );
    }
  });

  it("answers 404 for a session that is not an impersonated session of the active location", async () => {
    const inL1 = await impersonated(otto, 42);
    const { token } = await (await as(adaL2)).impersonation.impersonate({ coworkerId: 51 });
    const inL2 = (await (await as(null)).impersonation.exchange({ token })).accessToken!;
    const cases = [
      ["an impersonation of another location", adaL2, sid(inL1)],
      ["an impersonation of another location, the other way", adaL1, sid(inL2)],
      ["an own session", adaL1, sid(otto)],
      ["an unknown id", adaL1, "00000000-0000-4000-8000-000000000000"],
      ["a malformed id", adaL1, "not-a-session"],
      ["a long one", adaL1, `${"0".repeat(4000)}-0000-4000-8000-000000000000`],
    ] as const;
    for (const [what, admin, sessionId] of cases) {
      await expectRefused(
        (await as(admin)).impersonationActions.listSessionActions({ sessionId }),
        404,
        "not_found",
        what,
      );
    }
    // And the same admin sees each in its own location.
    await (await as(adaL2)).impersonationActions.listSessionActions({ sessionId: sid(inL2) });
    await (await as(adaL1)).impersonationActions.listSessionActions({ sessionId: sid(inL1) });
  });
});

describe("the actions in the member's history and on the audit page", () => {
  it("gives each access-history item its session's actions, oldest first, and their count", async () => {
    const sam = await api.signIn("sam.second@demo.test");
    const first = await impersonated(otto, 45);
    await (await as(first)).auth.me();
    await (await as(first)).impersonation.stopImpersonating();
    const second = await impersonated(otto, 45, true);
    await expectRefused(
      (await as(second)).profiles.setCurrentProfile({ coworkerId: 45 }),
      403,
      "read_only",
    );
    const { items } = await (await as(sam)).profiles.accessHistory();
    expect(items.slice(0, 2).map((item) => [calls(item.actions), item.actionCount])).toEqual([
      [[{ procedure: "profiles.setCurrentProfile", kind: "mutation", outcome: "refused" }], 1],
      [
        [
          { procedure: "auth.me", kind: "query", outcome: "success" },
          { procedure: "impersonation.stopImpersonating", kind: "mutation", outcome: "success" },
        ],
        2,
      ],
    ]);
    for (const action of items.flatMap((item) => item.actions)) {
      expect(new Date(action.at).toISOString()).toBe(action.at);
    }
  });

  it("gives the audit page, for its events that name an impersonated session, that session's actions", async () => {
    const asNora = await impersonated(otto, 43);
    await (await as(asNora)).auth.me();
    await (await as(asNora)).impersonation.stopImpersonating();
    const admin = await as(adaL1);
    const { items: events } = await admin.audit.listEvents({ limit: 50 });
    const { items } = await admin.impersonationActions.listEventActions({
      eventIds: events.map((event) => event.id),
    });
    const byEvent = new Map(items.map((item) => [item.eventId, item.actions]));
    // The stop is the newest impersonation event; its session made exactly the two calls.
    const stopped = events.find((event) => event.type === "impersonation.stopped")!;
    expect(byEvent.get(stopped.id)?.map((action) => action.procedure)).toEqual([
      "auth.me",
      "impersonation.stopImpersonating",
    ]);
    // Sign-ins and issues name no impersonated session: nothing for them.
    for (const event of events.filter((e) => e.type === "signin" || e.type.endsWith("issued"))) {
      expect(byEvent.has(event.id), event.type).toBe(false);
    }
    // Another location's admin gets nothing for these events; a non-admin is refused.
    expect(
      (await (await as(adaL2)).impersonationActions.listEventActions({ eventIds: [stopped.id] }))
        .items,
    ).toEqual([]);
    await expectRefused(
      (await as(otto)).impersonationActions.listEventActions({ eventIds: [stopped.id] }),
      401,
      "unauthorized",
    );
  });
});
