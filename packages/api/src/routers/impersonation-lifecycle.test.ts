// What an impersonated session may do, and how it ends: stop, the actor's sign-out, demotion,
// target changes, rank across locations, the feature switch, expiry, the issue throttle and the
// browser's cookie flow.
import { signToken } from "@cowork/auth";
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, createContext } from "../context";
import { createCaller } from "../root";
import { type ServiceDeps } from "../services/deps";
import { type IssuedAccessToken } from "../services/sign-in";
import { createTestApi, testTimes, type TestApi } from "../testing";
import { expectRefused, refusal } from "../testing-refusals";

const EMAIL = {
  ada: "ada.admin@demo.test",
  otto: "otto.operator@demo.test",
  tess: "tess.teamadmin@demo.test",
  milo: "milo.member@demo.test",
  nora: "nora.nomad@demo.test",
  ivan: "ivan.indie@demo.test",
} as const;

/** Helpers bound to one test api. */
function helpers(api: TestApi) {
  const as = (bearer: string | null, ip?: string) => api.caller(bearer, ip);
  const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
  const issue = async (
    actor: string,
    coworkerId: number,
    extra: { reason?: string; readOnly?: boolean } = {},
  ) => (await (await as(actor)).impersonation.impersonate({ coworkerId, ...extra })).token;
  const issueTeam = async (actor: string, coworkerId: number) =>
    (await (await as(actor)).impersonation.impersonateTeamMember({ coworkerId })).token;
  const exchange = async (grant: string) =>
    (await (await as(null)).impersonation.exchange({ token: grant })).accessToken!;
  const me = async (bearer: string) => (await as(bearer)).auth.me();
  return { as, rows, issue, issueTeam, exchange, me };
}

let api: TestApi;
let h: ReturnType<typeof helpers>;
/** Own sessions shared by the tests that neither end nor alter them (signing in costs a scrypt hash). */
const own: Partial<Record<keyof typeof EMAIL, string>> = {};

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  h = helpers(api);
  for (const name of ["ada", "otto", "tess", "milo", "nora"] as const)
    own[name] = await api.signIn(EMAIL[name]);
});
afterAll(() => api.close());

describe("an impersonated session is the member's view and nothing more (E3, E4)", () => {
  let adaAsOtto: string;
  let ottoAsTess: string;
  let ottoAsNora: string;

  beforeAll(async () => {
    const ada = own.ada!;
    const otto = own.otto!;
    adaAsOtto = await h.exchange(await h.issue(ada, 46));
    ottoAsTess = await h.exchange(await h.issue(otto, 40));
    ottoAsNora = await h.exchange(await h.issue(otto, 43));
  });

  it("has no staff role, even when its user is staff", async () => {
    expect(await h.me(adaAsOtto)).toMatchObject({
      userId: 2,
      staffRole: null,
      profile: { coworkerId: 46 },
      impersonation: { actor: { userId: 1 } },
    });
  });

  it("cannot impersonate on either route (401)", async () => {
    await expectRefused(
      (await h.as(adaAsOtto)).impersonation.impersonate({ coworkerId: 42 }),
      401,
      "unauthorized",
      "operator's session, staff route",
    );
    await expectRefused(
      (await h.as(ottoAsTess)).impersonation.impersonateTeamMember({ coworkerId: 42 }),
      401,
      "unauthorized",
      "team admin's session, team route",
    );
    await expectRefused(
      (await h.as(ottoAsTess)).impersonation.impersonate({ coworkerId: 42 }),
      401,
      "unauthorized",
      "team admin's session, staff route",
    );
    await expectRefused(
      (await h.as(adaAsOtto)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      401,
      "unauthorized",
      "operator's session, team route",
    );
  });

  it("reaches no staff or admin procedure (401)", async () => {
    await expectRefused(
      (await h.as(adaAsOtto)).directory.searchCoworkers({ query: "" }),
      401,
      "unauthorized",
    );
    await expectRefused((await h.as(adaAsOtto)).audit.listEvents({}), 401, "unauthorized");
  });

  it("cannot switch profile or read the access history (403), and sees only the impersonated profile", async () => {
    await expectRefused(
      (await h.as(ottoAsNora)).profiles.setCurrentProfile({ coworkerId: 50 }),
      403,
      "forbidden",
      "to her other profile",
    );
    await expectRefused(
      (await h.as(ottoAsNora)).profiles.setCurrentProfile({ coworkerId: 43 }),
      403,
      "forbidden",
      "to the same profile",
    );
    expect((await h.me(ottoAsNora)).location.id).toBe(1);
    await expectRefused((await h.as(ottoAsNora)).profiles.accessHistory(), 403, "forbidden");
    expect(await (await h.as(ottoAsNora)).profiles.listProfiles()).toEqual([
      {
        coworkerId: 43,
        locationId: 1,
        locationName: "Downtown Hub",
        fullName: "Nora Nomad",
        isCurrent: true,
      },
    ]);
  });

  it("offers no one to impersonate in the team table", async () => {
    const { teams } = await (await h.as(ottoAsTess)).directory.listTeamMembers();
    expect(teams.length).toBeGreaterThan(0);
    expect(teams.flatMap((team) => team.members).filter((member) => member.canImpersonate)).toEqual(
      [],
    );
  });

  it("cannot be exchanged again for another session", async () => {
    await expectRefused(
      (await h.as(null)).impersonation.exchange({ token: ottoAsTess }),
      401,
      "invalid_token",
    );
  });
});

describe("read-only impersonation", () => {
  let otto: string;

  beforeAll(() => {
    otto = own.otto!;
  });

  it("reads like any session, refuses changes with 403 read_only, and can still be stopped", async () => {
    const grant = await h.issue(otto, 43, { readOnly: true, reason: "look only" });
    expect(decodeJwt(grant).ro).toBe(true);
    const session = await h.exchange(grant);
    expect(await h.me(session)).toMatchObject({
      userId: 5,
      impersonation: { readOnly: true, reason: "look only" },
    });
    expect(await (await h.as(session)).profiles.listProfiles()).toHaveLength(1);
    await expect((await h.as(session)).directory.listTeamMembers()).resolves.toHaveProperty(
      "teams",
    );
    await expectRefused(
      (await h.as(session)).profiles.setCurrentProfile({ coworkerId: 43 }),
      403,
      "read_only",
    );
    await expectRefused(
      (await h.as(session)).profiles.setCurrentProfile({ coworkerId: 50 }),
      403,
      "read_only",
    );
    const [event] = await h.rows<{ read_only: boolean }>(
      sql`select read_only from audit_events where jti = ${decodeJwt(grant).jti} and type = 'impersonation.exchanged'`,
    );
    expect(event?.read_only).toBe(true);
    await (await h.as(session)).impersonation.stopImpersonating();
    await expectRefused(h.me(session), 401, "unauthorized");
    expect((await h.me(otto)).userId).toBe(2);
  });

  it("can sign itself out", async () => {
    const session = await h.exchange(await h.issue(otto, 42, { readOnly: true }));
    await (await h.as(session)).auth.signOut();
    await expectRefused(h.me(session), 401, "unauthorized");
  });

  it("is refused on both issue routes with the contract's 401, like any impersonated session", async () => {
    const staff = await h.exchange(await h.issue(otto, 40, { readOnly: true }));
    await expectRefused(
      (await h.as(staff)).impersonation.impersonateTeamMember({ coworkerId: 42 }),
      401,
      "unauthorized",
      "team route",
    );
    await expectRefused(
      (await h.as(staff)).impersonation.impersonate({ coworkerId: 42 }),
      401,
      "unauthorized",
      "staff route",
    );
  });
});

describe("stopImpersonating (E7, E10)", () => {
  it("ends the impersonated session at once and never touches the actor's or the target's own", async () => {
    const otto = own.otto!;
    const milo = own.milo!;
    const grant = await h.issue(otto, 42, { reason: "stop test" });
    const session = await h.exchange(grant);
    expect((await h.me(session)).userId).toBe(4);

    await expect(
      (await h.as(session, "198.51.100.41")).impersonation.stopImpersonating(),
    ).resolves.toBeUndefined();
    await expectRefused(h.me(session), 401, "unauthorized", "the stopped session");
    expect(await h.me(otto)).toMatchObject({
      userId: 2,
      staffRole: "operator",
      impersonation: null,
    });
    expect(await h.me(milo)).toMatchObject({ userId: 4, impersonation: null });
    await expectRefused(
      (await h.as(session)).impersonation.stopImpersonating(),
      401,
      "unauthorized",
      "stop again",
    );
    await expectRefused(
      (await h.as(otto)).impersonation.stopImpersonating(),
      409,
      "not_impersonating",
      "the actor's own session",
    );
    await expectRefused(
      (await h.as(milo)).impersonation.stopImpersonating(),
      409,
      "not_impersonating",
      "the target's own session",
    );
    expect((await h.me(milo)).userId).toBe(4);
    // The actor goes on working from his own session.
    await expect(
      (await h.as(otto)).impersonation.impersonate({ coworkerId: 43 }),
    ).resolves.toHaveProperty("token");

    const sid = decodeJwt(session).sid as string;
    const [row] = await h.rows<{ revoked: boolean; revoked_reason: string }>(
      sql`select revoked_at is not null as revoked, revoked_reason from sessions where id = ${sid}`,
    );
    expect(row).toEqual({ revoked: true, revoked_reason: "stopped" });
    const events = await h.rows<Record<string, unknown>>(
      sql`select outcome, actor_user_id, target_coworker_id, location_id, kind, reason, ip from audit_events
          where session_id = ${sid} and type = 'impersonation.stopped'`,
    );
    expect(events).toEqual([
      {
        outcome: "success",
        actor_user_id: 2,
        target_coworker_id: 42,
        location_id: 1,
        kind: "staff",
        reason: "stop test",
        ip: "198.51.100.41",
      },
    ]);
  });

  it("answers 401 to an anonymous caller", async () => {
    await expectRefused((await h.as(null)).impersonation.stopImpersonating(), 401, "unauthorized");
  });

  it("ends only the session it is called from", async () => {
    const otto = own.otto!;
    const first = await h.exchange(await h.issue(otto, 42));
    const second = await h.exchange(await h.issue(otto, 42));
    await (await h.as(first)).impersonation.stopImpersonating();
    await expectRefused(h.me(first), 401, "unauthorized");
    expect((await h.me(second)).userId).toBe(4);
  });
});

describe("sign-out", () => {
  it("of the actor ends the sessions and pending tokens derived from it (E9)", async () => {
    const otto = await api.signIn(EMAIL.otto);
    const otherOtto = await api.signIn(EMAIL.otto);
    const live = await h.exchange(await h.issue(otto, 42));
    const pending = await h.issue(otto, 43);
    const unrelated = await h.exchange(await h.issue(otherOtto, 42));

    await (await h.as(otto, "198.51.100.42")).auth.signOut();
    await expectRefused(h.me(otto), 401, "unauthorized", "the actor's session");
    await expectRefused(h.me(live), 401, "unauthorized", "the derived session");
    await expectRefused(
      (await h.as(null)).impersonation.exchange({ token: pending }),
      401,
      "invalid_token",
    );
    expect((await h.me(otherOtto)).userId).toBe(2);
    expect((await h.me(unrelated)).userId).toBe(4);

    const [exchangeEvent] = await h.rows<{ detail: string }>(
      sql`select detail from audit_events where jti = ${decodeJwt(pending).jti} and type = 'impersonation.exchanged'`,
    );
    expect(exchangeEvent?.detail).toBe("revoked");
    const signedOut = await h.rows<{
      session_id: string;
      actor_user_id: number;
      target_coworker_id: number | null;
    }>(
      sql`select session_id::text, actor_user_id, target_coworker_id from audit_events
          where type = 'session.signed_out' and ip = '198.51.100.42' order by target_coworker_id nulls first`,
    );
    expect(signedOut).toEqual([
      { session_id: decodeJwt(otto).sid, actor_user_id: 2, target_coworker_id: null },
      { session_id: decodeJwt(live).sid, actor_user_id: 2, target_coworker_id: 42 },
    ]);
  });

  it("of the impersonated session ends only that session", async () => {
    const otto = own.otto!;
    const live = await h.exchange(await h.issue(otto, 42));
    await (await h.as(live)).auth.signOut();
    await expectRefused(h.me(live), 401, "unauthorized");
    expect((await h.me(otto)).userId).toBe(2);
  });
});

describe("the actor's rights are checked on every request (B12, E8)", () => {
  let rightsApi: TestApi;
  let r: ReturnType<typeof helpers>;

  beforeAll(async () => {
    rightsApi = await createTestApi({ impersonateLimitPerMinute: 100_000 });
    r = helpers(rightsApi);
  });
  afterAll(() => rightsApi.close());

  it("demotion kills the operator's pending token and live session; re-granting the role restores him without a new sign-in", async () => {
    const otto = await rightsApi.signIn(EMAIL.otto);
    const live = await r.exchange(await r.issue(otto, 42));
    const pending = await r.issue(otto, 43);

    await r.rows(sql`delete from staff_roles where user_id = 2`);
    await expectRefused(
      (await r.as(null)).impersonation.exchange({ token: pending }),
      401,
      "invalid_token",
      "pending token",
    );
    const [event] = await r.rows<{ detail: string; actor_user_id: number }>(
      sql`select detail, actor_user_id from audit_events where jti = ${decodeJwt(pending).jti} and type = 'impersonation.exchanged'`,
    );
    expect(event).toEqual({ detail: "revoked", actor_user_id: 2 });
    await expectRefused(r.me(live), 401, "unauthorized", "live session");
    expect((await r.me(otto)).staffRole).toBeNull();
    await expectRefused(
      (await r.as(otto)).impersonation.impersonate({ coworkerId: 42 }),
      401,
      "unauthorized",
      "issue while demoted",
    );

    await r.rows(
      sql`insert into staff_roles (user_id, location_id, role) values (2, 1, 'operator')`,
    );
    expect((await r.me(otto)).staffRole).toBe("operator");
    await expect(
      (await r.as(otto)).impersonation.impersonate({ coworkerId: 42 }),
    ).resolves.toHaveProperty("token");
  });

  it("an admin demoted to the target's rank loses the session", async () => {
    const ada = await rightsApi.signIn(EMAIL.ada);
    const live = await r.exchange(await r.issue(ada, 46));
    expect((await r.me(live)).userId).toBe(2);
    await r.rows(
      sql`update staff_roles set role = 'operator' where user_id = 1 and location_id = 1`,
    );
    try {
      await expectRefused(r.me(live), 401, "unauthorized");
      await expectRefused(
        (await r.as(ada)).impersonation.impersonate({ coworkerId: 46 }),
        403,
        "forbidden",
      );
    } finally {
      await r.rows(
        sql`update staff_roles set role = 'admin' where user_id = 1 and location_id = 1`,
      );
    }
  });

  it("a target who becomes staff anywhere is out of reach of pending tokens and live sessions", async () => {
    const otto = await rightsApi.signIn(EMAIL.otto);
    const live = await r.exchange(await r.issue(otto, 42));
    const pending = await r.issue(otto, 42);
    await r.rows(
      sql`insert into staff_roles (user_id, location_id, role) values (4, 2, 'operator')`,
    );
    try {
      await expectRefused(r.me(live), 401, "unauthorized", "live session");
      await expectRefused(
        (await r.as(null)).impersonation.exchange({ token: pending }),
        401,
        "invalid_token",
        "pending token",
      );
    } finally {
      await r.rows(sql`delete from staff_roles where user_id = 4`);
    }
  });

  it("a team admin loses the session when the member leaves the team or she stops being its admin", async () => {
    const tess = await rightsApi.signIn(EMAIL.tess);
    const asMilo = await r.exchange(await r.issueTeam(tess, 42));
    const asNora = await r.exchange(await r.issueTeam(tess, 43));
    const pendingNora = await r.issueTeam(tess, 43);
    await r.rows(sql`delete from team_members where team_id = 7 and coworker_id = 42`);
    await expectRefused(r.me(asMilo), 401, "unauthorized", "member left the team");
    expect((await r.me(asNora)).userId).toBe(5);
    await r.rows(
      sql`update team_members set team_admin = false where team_id = 7 and coworker_id = 40`,
    );
    await expectRefused(r.me(asNora), 401, "unauthorized", "admin flag removed");
    await expectRefused(
      (await r.as(null)).impersonation.exchange({ token: pendingNora }),
      401,
      "invalid_token",
      "pending token",
    );
    await expectRefused(
      (await r.as(tess)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      403,
      "forbidden",
      "no longer a team admin",
    );
  });
});

describe("rank is checked across all locations", () => {
  let rankApi: TestApi;
  let r: ReturnType<typeof helpers>;
  let ada: string;
  let otto: string;
  let tess: string;

  beforeAll(async () => {
    rankApi = await createTestApi({ impersonateLimitPerMinute: 100_000 });
    r = helpers(rankApi);
    ada = await rankApi.signIn(EMAIL.ada);
    otto = await rankApi.signIn(EMAIL.otto);
    tess = await rankApi.signIn(EMAIL.tess);
  });
  afterAll(() => rankApi.close());

  it("a member who is an operator in another location is refused to operators and team admins, allowed to admins", async () => {
    await r.rows(
      sql`insert into staff_roles (user_id, location_id, role) values (4, 2, 'operator')`,
    );
    try {
      await expectRefused(
        (await r.as(tess)).impersonation.impersonateTeamMember({ coworkerId: 42 }),
        403,
        "forbidden",
        "team admin",
      );
      await expectRefused(
        (await r.as(otto)).impersonation.impersonate({ coworkerId: 42 }),
        403,
        "forbidden",
        "operator",
      );
      await expect(
        (await r.as(ada)).impersonation.impersonate({ coworkerId: 42 }),
      ).resolves.toHaveProperty("token");
      const details = await r.rows<{ detail: string; actor_user_id: number }>(
        sql`select detail, actor_user_id from audit_events where type = 'impersonation.issued' and outcome = 'refused' and target_coworker_id = 42 order by id`,
      );
      expect(details).toEqual([
        { detail: "staff_target", actor_user_id: 3 },
        { detail: "rank", actor_user_id: 2 },
      ]);
    } finally {
      await r.rows(sql`delete from staff_roles where user_id = 4`);
    }
    await expect(
      (await r.as(otto)).impersonation.impersonate({ coworkerId: 42 }),
    ).resolves.toHaveProperty("token");
    await expect(
      (await r.as(tess)).impersonation.impersonateTeamMember({ coworkerId: 42 }),
    ).resolves.toHaveProperty("token");
  });

  it("an admin anywhere is refused to every admin and operator (equal or higher rank)", async () => {
    await r.rows(sql`insert into staff_roles (user_id, location_id, role) values (6, 2, 'admin')`);
    try {
      await expectRefused(
        (await r.as(ada)).impersonation.impersonate({ coworkerId: 44 }),
        403,
        "forbidden",
        "admin → admin",
      );
      await expectRefused(
        (await r.as(otto)).impersonation.impersonate({ coworkerId: 44 }),
        403,
        "forbidden",
        "operator → admin",
      );
      const search = await (await r.as(ada)).directory.searchCoworkers({ query: "Ivan" });
      expect(search.items).toEqual([
        expect.objectContaining({ coworkerId: 44, staffRole: "admin", canImpersonate: false }),
      ]);
    } finally {
      await r.rows(sql`delete from staff_roles where user_id = 6`);
    }
  });

  it("an operator is refused to another operator and allowed to an admin", async () => {
    await r.rows(
      sql`insert into staff_roles (user_id, location_id, role) values (8, 1, 'operator')`,
    );
    try {
      await expectRefused(
        (await r.as(otto)).impersonation.impersonate({ coworkerId: 45 }),
        403,
        "forbidden",
        "operator → operator",
      );
      await expect(
        (await r.as(ada)).impersonation.impersonate({ coworkerId: 45 }),
      ).resolves.toHaveProperty("token");
    } finally {
      await r.rows(sql`delete from staff_roles where user_id = 8`);
    }
  });
});

describe("IMPERSONATION=off", () => {
  let offDeps: ServiceDeps;
  const off = async (bearer: string | null) =>
    createCaller(
      await createContext({
        deps: offDeps,
        token: bearer,
        meta: { ip: "198.51.100.50", requestId: "off", ...testTimes() },
      }),
    );

  beforeAll(() => {
    // A second process over the same database, with the feature switched off.
    offDeps = { ...api.deps, config: { ...api.deps.config, impersonationEnabled: false } };
  });

  it("refuses issuing with 403 impersonation_disabled and exchanging with 401, and stops live impersonated sessions there", async () => {
    const otto = own.otto!;
    const tess = own.tess!;
    const live = await h.exchange(await h.issue(otto, 42));
    const pending = await h.issue(otto, 43);

    await expectRefused(
      (await off(otto)).impersonation.impersonate({ coworkerId: 43 }),
      403,
      "impersonation_disabled",
      "staff route",
    );
    await expectRefused(
      (await off(tess)).impersonation.impersonateTeamMember({ coworkerId: 42 }),
      403,
      "impersonation_disabled",
      "team route",
    );
    await expectRefused(
      (await off(null)).impersonation.exchange({ token: pending }),
      401,
      "invalid_token",
      "exchange",
    );
    await expectRefused(
      (await off(live)).auth.me(),
      401,
      "unauthorized",
      "live impersonated session",
    );
    // Own sessions keep working in that process.
    expect((await (await off(otto)).auth.me()).staffRole).toBe("operator");

    // The switch is per process: where the feature is on, nothing was spent or ended.
    expect((await h.me(live)).userId).toBe(4);
    expect(decodeJwt(await h.exchange(pending)).sub).toBe("5");

    const events = await h.rows<{ type: string; detail: string }>(
      sql`select type, detail from audit_events where ip = '198.51.100.50' and outcome = 'refused' order by id`,
    );
    expect(events).toEqual([
      { type: "impersonation.issued", detail: "impersonation_disabled" },
      { type: "impersonation.issued", detail: "impersonation_disabled" },
      { type: "impersonation.exchanged", detail: "impersonation_disabled" },
    ]);
  });

  it("answers impersonation_disabled on the team route whatever the target", async () => {
    const tess = own.tess!;
    const milo = own.milo!;
    await expectRefused(
      (await off(tess)).impersonation.impersonateTeamMember({ coworkerId: 44 }),
      403,
      "impersonation_disabled",
      "another team's member",
    );
    await expectRefused(
      (await off(milo)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      403,
      "impersonation_disabled",
      "a caller who is no team admin",
    );
  });

  it("is read from configuration: createTestApi({ impersonationEnabled: false }) refuses issuing", async () => {
    const disabled = await createTestApi({ impersonationEnabled: false });
    try {
      const ada = await disabled.signIn(EMAIL.ada);
      await expectRefused(
        (await disabled.caller(ada)).impersonation.impersonate({ coworkerId: 42 }),
        403,
        "impersonation_disabled",
      );
      const [grants] = await queryRows<{ n: number }>(
        disabled.database.db,
        sql`select count(*)::int as n from impersonation_grants`,
      );
      expect(grants?.n).toBe(0);
    } finally {
      await disabled.close();
    }
  });
});

describe("expiry", () => {
  it("caps an impersonated session at one hour and never extends it", async () => {
    const otto = own.otto!;
    const session = await h.exchange(await h.issue(otto, 42));
    const sid = decodeJwt(session).sid as string;
    const lifetime = async () =>
      (
        await h.rows<{ s: number; expires: Date }>(
          sql`select extract(epoch from expires_at - created_at)::float8 as s, expires_at as expires from sessions where id = ${sid}`,
        )
      )[0]!;
    const first = await lifetime();
    expect(first.s).toBeLessThanOrEqual(3600);
    expect(first.s).toBeGreaterThan(3590);
    for (let i = 0; i < 3; i++) await h.me(session);
    expect((await lifetime()).expires.getTime()).toBe(first.expires.getTime());
    expect(decodeJwt(session).exp).toBe(Math.floor(first.expires.getTime() / 1000));
  });

  it("never outlives the actor's own session", async () => {
    const otto = await api.signIn(EMAIL.otto);
    await h.rows(
      sql`update sessions set expires_at = now() + interval '10 minutes' where id = ${decodeJwt(otto).sid as string}`,
    );
    const grant = await h.issue(otto, 42);
    const { accessToken, expiresIn } = await (
      await h.as(null)
    ).impersonation.exchange({ token: grant });
    expect(expiresIn).toBeLessThanOrEqual(600);
    const me = await h.me(accessToken!);
    expect(Date.parse(me.impersonation!.expiresAt)).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it("ends when the actor's own session expires", async () => {
    const otto = await api.signIn(EMAIL.otto);
    const session = await h.exchange(await h.issue(otto, 42));
    await h.rows(
      sql`update sessions set expires_at = now() - interval '1 second' where id = ${decodeJwt(otto).sid as string}`,
    );
    await expectRefused(h.me(session), 401, "unauthorized");
  });

  it("refuses an expired impersonated session and records impersonation.expired once", async () => {
    const otto = own.otto!;
    const session = await h.exchange(await h.issue(otto, 42, { reason: "expiry" }));
    const sid = decodeJwt(session).sid as string;
    await h.rows(
      sql`update sessions set expires_at = now() - interval '1 minute' where id = ${sid}`,
    );
    await expectRefused(h.me(session), 401, "unauthorized", "server-side expiry");

    // The same session's token once its own exp has passed: signed with the service's real key.
    const past = Date.now() - 120_000;
    const expiredToken = signToken(
      api.deps.signer,
      "access",
      { sub: "4", sid, act: { sub: "2" } },
      {
        expiresAt: new Date(past),
        now: new Date(past - 3_000_000),
      },
    );
    await expectRefused(h.me(expiredToken), 401, "unauthorized", "expired token");
    await expectRefused(h.me(expiredToken), 401, "unauthorized", "expired token again");
    const events = await h.rows<Record<string, unknown>>(
      sql`select outcome, actor_user_id, target_coworker_id, location_id, kind, reason from audit_events
          where session_id = ${sid} and type = 'impersonation.expired'`,
    );
    expect(events).toEqual([
      {
        outcome: "success",
        actor_user_id: 2,
        target_coworker_id: 42,
        location_id: 1,
        kind: "staff",
        reason: "expiry",
      },
    ]);
  });

  it("records no expiry for a session that is still live, whatever an old token says", async () => {
    const otto = own.otto!;
    const session = await h.exchange(await h.issue(otto, 42));
    const sid = decodeJwt(session).sid as string;
    const past = Date.now() - 120_000;
    const oldToken = signToken(
      api.deps.signer,
      "access",
      { sub: "4", sid, act: { sub: "2" } },
      { expiresAt: new Date(past), now: new Date(past - 60_000) },
    );
    await expectRefused(h.me(oldToken), 401, "unauthorized");
    const [count] = await h.rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events where session_id = ${sid} and type = 'impersonation.expired'`,
    );
    expect(count?.n).toBe(0);
    expect((await h.me(session)).userId).toBe(4);
  });
});

describe("issue throttle per actor (H1)", () => {
  let limited: TestApi;
  let l: ReturnType<typeof helpers>;

  beforeAll(async () => {
    limited = await createTestApi({ impersonateLimitPerMinute: 3 });
    l = helpers(limited);
  });
  afterAll(() => limited.close());

  it(
    "answers 429 throttled from the limit on, whatever the session or address, and audits it",
    { timeout: 90_000 },
    async () => {
      const otto = await limited.signIn(EMAIL.otto);
      for (const coworkerId of [42, 43, 44]) await l.issue(otto, coworkerId);
      const before = (
        await l.rows<{ n: number }>(sql`select count(*)::int as n from impersonation_grants`)
      )[0]!.n;
      const throttled = await refusal(
        (await l.as(otto, "198.51.100.60")).impersonation.impersonate({ coworkerId: 45 }),
      );
      expect({ status: throttled.status, code: throttled.code }).toEqual({
        status: 429,
        code: "throttled",
      });
      expect(throttled.retryAfterS).toBeGreaterThanOrEqual(1);
      expect(throttled.retryAfterS).toBeLessThanOrEqual(60);
      // A fresh sign-in or another address does not reset the actor's count.
      const again = await limited.signIn(EMAIL.otto);
      await expectRefused(
        (await l.as(again, "198.51.100.61")).impersonation.impersonate({ coworkerId: 45 }),
        429,
        "throttled",
        "fresh session",
      );
      expect(
        (await l.rows<{ n: number }>(sql`select count(*)::int as n from impersonation_grants`))[0]!
          .n,
      ).toBe(before);
      // Other actors are not affected.
      const ada = await limited.signIn(EMAIL.ada);
      await expect(
        (await l.as(ada)).impersonation.impersonate({ coworkerId: 45 }),
      ).resolves.toHaveProperty("token");
      const [event] = await l.rows<Record<string, unknown>>(
        sql`select outcome, actor_user_id, target_coworker_id, location_id, detail from audit_events where ip = '198.51.100.60'`,
      );
      expect(event).toEqual({
        outcome: "refused",
        actor_user_id: 2,
        target_coworker_id: 45,
        location_id: 1,
        detail: "throttled",
      });
    },
  );

  it(
    "counts refused attempts on the staff route, so sweeping ids runs into the limit",
    { timeout: 90_000 },
    async () => {
      // An actor of their own (Rita, made operator of L2), so no other test's count is involved.
      await l.rows(
        sql`insert into staff_roles (user_id, location_id, role) values (7, 2, 'operator')`,
      );
      const rita = await limited.signIn("rita.riverside@demo.test");
      for (const coworkerId of [42, 43, 99_999]) {
        await expectRefused(
          (await l.as(rita)).impersonation.impersonate({ coworkerId }),
          404,
          "not_found",
        );
      }
      await expectRefused(
        (await l.as(rita)).impersonation.impersonate({ coworkerId: 50 }),
        429,
        "throttled",
      );
    },
  );

  it("throttles the team route per actor too", { timeout: 90_000 }, async () => {
    const tess = await limited.signIn(EMAIL.tess);
    for (const coworkerId of [42, 43, 42]) await l.issueTeam(tess, coworkerId);
    await expectRefused(
      (await l.as(tess)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      429,
      "throttled",
    );
  });

  it(
    "counts refused attempts on the team route, so sweeping ids runs into the limit",
    { timeout: 90_000 },
    async () => {
      const ivan = await limited.signIn(EMAIL.ivan);
      for (const coworkerId of [42, 43, 46]) {
        await expectRefused(
          (await l.as(ivan)).impersonation.impersonateTeamMember({ coworkerId }),
          404,
          "not_found",
        );
      }
      await expectRefused(
        (await l.as(ivan)).impersonation.impersonateTeamMember({ coworkerId: 45 }),
        429,
        "throttled",
      );
    },
  );
});

describe("the browser's cookie flow: exchange and leave", () => {
  /** The portal's two httpOnly cookies, as plain state. */
  class CookieJar implements BrowserSession {
    actorToken: string | null = null;
    constructor(public sessionToken: string | null) {}
    setSession(token: IssuedAccessToken): void {
      this.sessionToken = token.accessToken;
    }
    setActor(token: string | null): void {
      this.actorToken = token;
    }
    clearSession(): void {
      this.sessionToken = null;
    }
  }
  const browser = async (jar: CookieJar) =>
    createCaller(
      await createContext({
        deps: api.deps,
        token: jar.sessionToken,
        meta: { ip: "198.51.100.70", requestId: "browser", ...testTimes() },
        browser: jar,
      }),
    );

  it("keeps tokens out of bodies, keeps the actor's session aside, and restores it on leave", async () => {
    const otto = own.otto!;
    const jar = new CookieJar(otto);
    const { token: grant } = await (
      await browser(jar)
    ).impersonation.impersonate({ coworkerId: 42, returnPath: "/team" });
    const exchanged = await (await browser(jar)).impersonation.exchange({ token: grant });
    expect(exchanged.accessToken).toBeNull();
    expect(jar.actorToken).toBe(otto);
    const impersonated = jar.sessionToken!;
    expect(await (await browser(jar)).auth.me()).toMatchObject({
      userId: 4,
      impersonation: { actor: { userId: 2 } },
    });

    await expect((await browser(jar)).impersonation.leave()).resolves.toEqual({
      restored: true,
      returnPath: "/team",
    });
    expect(jar.actorToken).toBeNull();
    expect(decodeJwt(jar.sessionToken!).sid).toBe(decodeJwt(otto).sid);
    expect(await (await browser(jar)).auth.me()).toMatchObject({ userId: 2, impersonation: null });
    await expectRefused(h.me(impersonated), 401, "unauthorized");
  });

  it("does not keep a session aside that is not the token's actor's", async () => {
    const otto = own.otto!;
    const nora = own.nora!;
    const grant = await h.issue(otto, 42);
    const jar = new CookieJar(nora);
    await (await browser(jar)).impersonation.exchange({ token: grant });
    expect(jar.actorToken).toBeNull();
    await expect((await browser(jar)).impersonation.leave()).resolves.toEqual({
      restored: false,
      returnPath: null,
    });
    expect(jar.sessionToken).toBeNull();
  });

  it("does not restore a planted actor cookie that the server's record does not name", async () => {
    const otto = own.otto!;
    const ada = own.ada!;
    const jar = new CookieJar(otto);
    await (await browser(jar)).impersonation.exchange({ token: await h.issue(otto, 42) });
    jar.actorToken = ada;
    await expect((await browser(jar)).impersonation.leave()).resolves.toEqual({
      restored: false,
      returnPath: null,
    });
    expect(jar.sessionToken).toBeNull();
  });

  it("does nothing outside a browser", async () => {
    const otto = own.otto!;
    const session = await h.exchange(await h.issue(otto, 42));
    await expect((await h.as(session)).impersonation.leave()).resolves.toEqual({
      restored: false,
      returnPath: null,
    });
    expect((await h.me(session)).userId).toBe(4);
  });
});
