// The location policy (CONTRACT §8): who may read and change it, how a change is validated and
// audited, and what each field does to issue, exchange and live impersonated sessions.
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

const ADA = "ada.admin@demo.test";
const OTTO = "otto.operator@demo.test";
const TESS = "tess.teamadmin@demo.test";
const MILO = "milo.member@demo.test";
const RITA = "rita.riverside@demo.test";

let api: TestApi;
const tokens: Record<string, string> = {};

const as = (bearer: string | null) => api.caller(bearer);
const rows = <T>(query: ReturnType<typeof sql>) => queryRows<T>(api.database.db, query);
const setPolicy = async (
  fields: Parameters<Awaited<ReturnType<typeof as>>["policy"]["updatePolicy"]>[0],
) => (await as(tokens.ada!)).policy.updatePolicy(fields);
const exchange = async (token: string) =>
  (await (await as(null)).impersonation.exchange({ token })).accessToken!;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  tokens.ada = await api.signIn(ADA);
  tokens.adaL2 = await api.signIn(ADA, 2);
  tokens.otto = await api.signIn(OTTO);
  tokens.tess = await api.signIn(TESS);
  tokens.milo = await api.signIn(MILO);
  tokens.rita = await api.signIn(RITA);
});
afterAll(() => api.close());

beforeEach(async () => {
  // Every test starts from the defaults in both locations.
  await rows(sql`update location_policies set impersonation = true, staff_consent_required = false,
    team_consent_required = false, justification_required = false, notify_member = true,
    max_session_minutes = 60, allow_full_mode = true`);
});

const DEFAULTS = {
  impersonation: "on",
  staffConsent: "not_required",
  teamConsent: "not_required",
  justification: "optional",
  notifyMember: true,
  maxSessionMinutes: 60,
  allowFullMode: true,
};

describe("who may read and change the policy", () => {
  it("answers the defaults to staff of the active location, per location", async () => {
    expect(await (await as(tokens.ada!)).policy.getPolicy()).toEqual({
      locationId: 1,
      ...DEFAULTS,
    });
    expect(await (await as(tokens.otto!)).policy.getPolicy()).toEqual({
      locationId: 1,
      ...DEFAULTS,
    });
    expect(await (await as(tokens.adaL2!)).policy.getPolicy()).toMatchObject({ locationId: 2 });
  });

  it("answers 401 to anonymous, members, team admins and impersonated sessions", async () => {
    const adaAsMilo = await exchange(
      (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
    );
    for (const [label, bearer] of [
      ["anonymous", null],
      ["member", tokens.milo!],
      ["team admin", tokens.tess!],
      ["member of the other location", tokens.rita!],
      ["impersonated by an admin", adaAsMilo],
    ] as const) {
      await expectRefused((await as(bearer)).policy.getPolicy(), 401, "unauthorized", label);
      await expectRefused(
        (await as(bearer)).policy.updatePolicy({ allowFullMode: false }),
        401,
        "unauthorized",
        label,
      );
    }
    // An operator reads it but may not change it.
    await expectRefused(
      (await as(tokens.otto!)).policy.updatePolicy({ allowFullMode: false }),
      401,
      "unauthorized",
      "operator",
    );
    expect((await (await as(tokens.ada!)).policy.getPolicy()).allowFullMode).toBe(true);
  });

  it("changes only the active location's policy: an admin of the other location changes theirs", async () => {
    await (await as(tokens.adaL2!)).policy.updatePolicy({ maxSessionMinutes: 5 });
    expect((await (await as(tokens.ada!)).policy.getPolicy()).maxSessionMinutes).toBe(60);
    expect((await (await as(tokens.adaL2!)).policy.getPolicy()).maxSessionMinutes).toBe(5);
  });
});

describe("changing the policy", () => {
  it("takes any subset, answers the whole policy and audits the changed field names in one event", async () => {
    const before = await rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events where type = 'policy.changed'`,
    );
    const policy = await setPolicy({
      justification: "required",
      maxSessionMinutes: 15,
      notifyMember: true,
    });
    expect(policy).toEqual({
      locationId: 1,
      ...DEFAULTS,
      justification: "required",
      maxSessionMinutes: 15,
    });
    const events = await rows<{ detail: string; actor_user_id: number; location_id: number }>(
      sql`select detail, actor_user_id, location_id from audit_events where type = 'policy.changed' order by id desc limit 1`,
    );
    expect(events[0]).toEqual({
      detail: "justification,maxSessionMinutes",
      actor_user_id: 1,
      location_id: 1,
    });
    const after = await rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events where type = 'policy.changed'`,
    );
    expect(after[0]!.n).toBe(before[0]!.n + 1);
    const audit = await (await as(tokens.ada!)).audit.listEvents({ limit: 1 });
    expect(audit.items[0]).toMatchObject({ type: "policy.changed", outcome: "success" });
  });

  it("ignores a locationId equal to the active location and refuses any other (400)", async () => {
    expect((await setPolicy({ locationId: 1, allowFullMode: false })).allowFullMode).toBe(false);
    await expectRefused(setPolicy({ locationId: 2, allowFullMode: true }), 400, "invalid_request");
    expect((await (await as(tokens.ada!)).policy.getPolicy()).allowFullMode).toBe(false);
    expect((await (await as(tokens.adaL2!)).policy.getPolicy()).allowFullMode).toBe(true);
  });

  it("refuses unknown fields and bad values with 400 invalid_request, changing nothing", async () => {
    const count = async () =>
      (
        await rows<{ n: number }>(
          sql`select count(*)::int as n from audit_events where type = 'policy.changed'`,
        )
      )[0]!.n;
    const before = await count();
    for (const bad of [
      { maxSessionMinutes: 4 },
      { maxSessionMinutes: 61 },
      { maxSessionMinutes: 30.5 },
      { maxSessionMinutes: "30" },
      { impersonation: "maybe" },
      { impersonation: true },
      { staffConsent: "yes" },
      { teamConsent: "required ", justification: "required" },
      { justification: "mandatory" },
      { notifyMember: "true" },
      { allowFullMode: 0 },
      { allowFullMode: false, colour: "red" },
      { locationId: "1" },
    ]) {
      // Sent as a client could send it: the procedure's schema is the one that refuses it.
      await expectRefused(setPolicy(bad as never), 400, "invalid_request", JSON.stringify(bad));
    }
    expect(await count()).toBe(before);
    expect(await (await as(tokens.ada!)).policy.getPolicy()).toEqual({
      locationId: 1,
      ...DEFAULTS,
    });
  });

  it("writes no event when nothing changes", async () => {
    const count = async () =>
      (
        await rows<{ n: number }>(
          sql`select count(*)::int as n from audit_events where type = 'policy.changed'`,
        )
      )[0]!.n;
    const before = await count();
    expect(await setPolicy({ impersonation: "on", maxSessionMinutes: 60 })).toEqual({
      locationId: 1,
      ...DEFAULTS,
    });
    expect(await setPolicy({})).toEqual({ locationId: 1, ...DEFAULTS });
    expect(await count()).toBe(before);
  });

  it("gives a new location its default policy row", async () => {
    const [location] = await rows<{ id: number }>(
      sql`insert into locations (name, time_zone) values ('New Place', 'Europe/Paris') returning id`,
    );
    const [policy] = await rows<{ impersonation: boolean; max_session_minutes: number }>(
      sql`select impersonation, max_session_minutes from location_policies where location_id = ${location!.id}`,
    );
    expect(policy).toEqual({ impersonation: true, max_session_minutes: 60 });
  });
});

describe("impersonation: off", () => {
  it("refuses issuing (403 impersonation_disabled) on both routes, and the exchange of a pending token (401)", async () => {
    const pending = (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 }))
      .token;
    await setPolicy({ impersonation: "off" });
    await expectRefused(
      (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 }),
      403,
      "impersonation_disabled",
      "staff",
    );
    await expectRefused(
      (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 999_999 }),
      403,
      "impersonation_disabled",
      "staff, unknown coworker",
    );
    await expectRefused(
      (await as(tokens.tess!)).impersonation.impersonateTeamMember({ coworkerId: 42 }),
      403,
      "impersonation_disabled",
      "team",
    );
    await expectRefused(
      (await as(null)).impersonation.exchange({ token: pending }),
      401,
      "invalid_token",
    );
    const [refusal] = await rows<{ detail: string }>(
      sql`select detail from audit_events where type = 'impersonation.exchanged' order by id desc limit 1`,
    );
    expect(refusal!.detail).toBe("policy_off");
    // The other location is untouched.
    const riverside = (
      await (await as(tokens.adaL2!)).impersonation.impersonate({ coworkerId: 51 })
    ).token;
    expect(await exchange(riverside)).toBeTruthy();
  });

  it("ends every live impersonated session of the location, for good: they stay ended when switched on again", async () => {
    const staffSession = await exchange(
      (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
    );
    const teamSession = await exchange(
      (await (await as(tokens.tess!)).impersonation.impersonateTeamMember({ coworkerId: 43 }))
        .token,
    );
    const elsewhere = await exchange(
      (await (await as(tokens.adaL2!)).impersonation.impersonate({ coworkerId: 51 })).token,
    );
    expect((await (await as(staffSession)).auth.me()).impersonation).not.toBeNull();
    await setPolicy({ impersonation: "off" });
    await expectRefused((await as(staffSession)).auth.me(), 401, "unauthorized", "staff");
    await expectRefused((await as(teamSession)).auth.me(), 401, "unauthorized", "team");
    expect((await (await as(elsewhere)).auth.me()).location.id).toBe(2);
    await setPolicy({ impersonation: "on" });
    await expectRefused((await as(staffSession)).auth.me(), 401, "unauthorized", "staff, back on");
    await expectRefused((await as(teamSession)).auth.me(), 401, "unauthorized", "team, back on");
    // Own sessions never depended on it; and issuing works again.
    expect((await (await as(tokens.ada!)).auth.me()).impersonation).toBeNull();
    expect(
      await exchange(
        (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
      ),
    ).toBeTruthy();
  });

  it("is asked on every request of an impersonated session: a policy row switched off in the database stops it at once", async () => {
    const session = await exchange(
      (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
    );
    await rows(sql`update location_policies set impersonation = false where location_id = 1`);
    await expectRefused((await as(session)).auth.me(), 401, "unauthorized");
    const [live] = await rows<{ revoked_at: Date | null }>(
      sql`select revoked_at from sessions where grant_jti is not null and revoked_at is null
          and location_id = 1 order by created_at desc limit 1`,
    );
    expect(live, "not revoked: the check itself refused it").toBeDefined();
  });

  it("leaves the IMPERSONATION switch of the process in force where the policy is on", async () => {
    const offDeps = { ...api.deps, config: { ...api.deps.config, impersonationEnabled: false } };
    const { createContext } = await import("../context");
    const { createCaller } = await import("../root");
    const { testTimes } = await import("../testing");
    const caller = createCaller(
      await createContext({
        deps: offDeps,
        token: tokens.ada!,
        meta: { ip: "203.0.113.9", requestId: "off", ...testTimes() },
      }),
    );
    await expectRefused(
      caller.impersonation.impersonate({ coworkerId: 42 }),
      403,
      "impersonation_disabled",
    );
  });
});

describe("justification: required", () => {
  it("refuses an issue without reason or reasonCategory (400 justification_required), on both routes", async () => {
    await setPolicy({ justification: "required" });
    const staff = async (input: Record<string, unknown>) =>
      (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42, ...input });
    const team = async (input: Record<string, unknown>) =>
      (await as(tokens.tess!)).impersonation.impersonateTeamMember({ coworkerId: 42, ...input });
    for (const issue of [staff, team]) {
      await expectRefused(issue({}), 400, "justification_required", "neither");
      await expectRefused(
        issue({ reason: "Billing" }),
        400,
        "justification_required",
        "no category",
      );
      await expectRefused(
        issue({ reasonCategory: "billing" }),
        400,
        "justification_required",
        "no reason",
      );
      await expectRefused(
        issue({ reason: "   ", reasonCategory: "billing" }),
        400,
        "justification_required",
        "a blank reason",
      );
      expect(
        (await issue({ reason: "Invoice question", reasonCategory: "billing" })).token,
      ).toBeTruthy();
    }
  });

  it("takes either missing when optional", async () => {
    expect(
      (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
    ).toBeTruthy();
  });
});

describe("maxSessionMinutes", () => {
  it("caps impersonated sessions issued from then on, not those already live", async () => {
    const before = await exchange(
      (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
    );
    const pending = (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 43 }))
      .token;
    await setPolicy({ maxSessionMinutes: 5 });
    const after = await exchange(pending);
    const minutesLeft = async (bearer: string) =>
      (Date.parse((await (await as(bearer)).auth.me()).impersonation!.expiresAt) - Date.now()) /
      60_000;
    expect(await minutesLeft(before)).toBeGreaterThan(55);
    expect(await minutesLeft(after)).toBeGreaterThan(4);
    expect(await minutesLeft(after)).toBeLessThanOrEqual(5);
  });
});

describe("allowFullMode: false", () => {
  it("refuses mode=full (403 full_mode_not_allowed), issues read-only without a mode, and read-only when asked", async () => {
    await setPolicy({ allowFullMode: false });
    for (const [label, issue] of [
      [
        "staff",
        async (input: { readOnly?: boolean }) =>
          (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42, ...input }),
      ],
      [
        "team",
        async (input: { readOnly?: boolean }) =>
          (await as(tokens.tess!)).impersonation.impersonateTeamMember({
            coworkerId: 42,
            ...input,
          }),
      ],
    ] as const) {
      await expectRefused(issue({ readOnly: false }), 403, "full_mode_not_allowed", label);
      const noMode = await exchange((await issue({})).token);
      expect((await (await as(noMode)).auth.me()).impersonation!.readOnly, label).toBe(true);
      const readOnly = await exchange((await issue({ readOnly: true })).token);
      expect((await (await as(readOnly)).auth.me()).impersonation!.readOnly, label).toBe(true);
    }
  });

  it("issues full without a mode when full mode is allowed", async () => {
    const session = await exchange(
      (await (await as(tokens.ada!)).impersonation.impersonate({ coworkerId: 42 })).token,
    );
    expect((await (await as(session)).auth.me()).impersonation!.readOnly).toBe(false);
  });
});
