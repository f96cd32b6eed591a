// Profiles: list, switch (the active location follows at once), and the access history.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
let otto: string;
let tess: string;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  otto = await api.signIn("otto.operator@demo.test");
  tess = await api.signIn("tess.teamadmin@demo.test");
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (bearer: string | null, ip?: string) => api.caller(bearer, ip);
const impersonated = async (
  actor: string,
  coworkerId: number,
  route: "staff" | "team" = "staff",
  reason?: string,
) => {
  const caller = await as(actor);
  const { token } =
    route === "staff"
      ? await caller.impersonation.impersonate({ coworkerId, ...(reason ? { reason } : {}) })
      : await caller.impersonation.impersonateTeamMember({
          coworkerId,
          ...(reason ? { reason } : {}),
        });
  return (await (await as(null)).impersonation.exchange({ token })).accessToken!;
};

describe("listProfiles", () => {
  it("lists every profile of the user with the current one marked", async () => {
    const nora = await api.signIn("nora.nomad@demo.test");
    expect(await (await as(nora)).profiles.listProfiles()).toEqual([
      {
        coworkerId: 43,
        locationId: 1,
        locationName: "Downtown Hub",
        fullName: "Nora Nomad",
        isCurrent: true,
      },
      {
        coworkerId: 50,
        locationId: 2,
        locationName: "Riverside Loft",
        fullName: "Nora Nomad",
        isCurrent: false,
      },
    ]);
  });

  it("lists nothing for staff without a profile, and only the user's own profiles otherwise", async () => {
    const ada = await api.signIn("ada.admin@demo.test");
    expect(await (await as(ada)).profiles.listProfiles()).toEqual([]);
    expect(
      (await (await as(otto)).profiles.listProfiles()).map((profile) => profile.coworkerId),
    ).toEqual([46]);
  });

  it("shows an impersonated session only the impersonated profile", async () => {
    const asNora = await impersonated(otto, 43);
    expect(await (await as(asNora)).profiles.listProfiles()).toEqual([
      {
        coworkerId: 43,
        locationId: 1,
        locationName: "Downtown Hub",
        fullName: "Nora Nomad",
        isCurrent: true,
      },
    ]);
  });

  it("answers 401 without a session", async () => {
    await expectRefused((await as(null)).profiles.listProfiles(), 401, "unauthorized");
  });
});

describe("setCurrentProfile", () => {
  it("moves the session to the other profile and its location at once, on the same token (B13)", async () => {
    const nora = await api.signIn("nora.nomad@demo.test");
    const switched = await (
      await as(nora, "198.51.100.110")
    ).profiles.setCurrentProfile({ coworkerId: 50 });
    expect(switched).toEqual({
      coworkerId: 50,
      locationId: 2,
      locationName: "Riverside Loft",
      fullName: "Nora Nomad",
      isCurrent: true,
    });
    expect(await (await as(nora)).auth.me()).toMatchObject({
      location: { id: 2, name: "Riverside Loft" },
      profile: { coworkerId: 50, locationId: 2 },
      staffRole: null,
    });
    expect(
      (await (await as(nora)).profiles.listProfiles()).map((profile) => [
        profile.coworkerId,
        profile.isCurrent,
      ]),
    ).toEqual([
      [43, false],
      [50, true],
    ]);
    const sid = decodeJwt(nora).sid as string;
    const [event] = await rows<Record<string, unknown>>(
      sql`select type, outcome, actor_user_id, target_coworker_id, location_id, ip from audit_events where session_id = ${sid} and type = 'profile.switched'`,
    );
    expect(event).toEqual({
      type: "profile.switched",
      outcome: "success",
      actor_user_id: 5,
      target_coworker_id: 50,
      location_id: 2,
      ip: "198.51.100.110",
    });
    await (await as(nora)).profiles.setCurrentProfile({ coworkerId: 43 });
    expect((await (await as(nora)).auth.me()).location.id).toBe(1);
  });

  it("changes only the session it is called from", async () => {
    const first = await api.signIn("nora.nomad@demo.test");
    const second = await api.signIn("nora.nomad@demo.test");
    await (await as(first)).profiles.setCurrentProfile({ coworkerId: 50 });
    expect((await (await as(second)).auth.me()).location.id).toBe(1);
  });

  it("answers 404 for a profile that is not the caller's", async () => {
    const nora = await api.signIn("nora.nomad@demo.test");
    const ada = await api.signIn("ada.admin@demo.test");
    for (const [caller, coworkerId] of [
      [nora, 42],
      [nora, 51],
      [nora, 99_999],
      [ada, 42],
      [otto, 43],
    ] as const) {
      await expectRefused(
        (await as(caller)).profiles.setCurrentProfile({ coworkerId }),
        404,
        "not_found",
        `→ ${coworkerId}`,
      );
    }
    expect((await (await as(nora)).auth.me()).location.id).toBe(1);
    expect(await (await as(ada)).auth.me()).toMatchObject({
      location: { id: 1 },
      profile: null,
      staffRole: "admin",
    });
  });

  it("never brings staff rights from elsewhere: an operator of L1 switched to an L2 profile is a customer there", async () => {
    await rows(
      sql`insert into coworkers (id, user_id, location_id, full_name) values (70, 2, 2, 'Otto Operator')`,
    );
    const own = await api.signIn("otto.operator@demo.test");
    await (await as(own)).profiles.setCurrentProfile({ coworkerId: 70 });
    expect(await (await as(own)).auth.me()).toMatchObject({ location: { id: 2 }, staffRole: null });
    await expectRefused(
      (await as(own)).impersonation.impersonate({ coworkerId: 50 }),
      401,
      "unauthorized",
    );
    await (await as(own)).profiles.setCurrentProfile({ coworkerId: 46 });
    expect((await (await as(own)).auth.me()).staffRole).toBe("operator");
  });

  it("validates its input", async () => {
    const nora = await api.signIn("nora.nomad@demo.test");
    for (const input of [
      {},
      { coworkerId: "50" },
      { coworkerId: 0 },
      { coworkerId: -1 },
      { coworkerId: 50.5 },
      { coworkerId: 50, locationId: 1 },
    ]) {
      await expectRefused(
        (await as(nora)).profiles.setCurrentProfile(input as never),
        400,
        "invalid_request",
        JSON.stringify(input),
      );
    }
  });

  it("is refused to an impersonated session (403), whose location stays the grant's", async () => {
    const asNora = await impersonated(otto, 43);
    await expectRefused(
      (await as(asNora)).profiles.setCurrentProfile({ coworkerId: 50 }),
      403,
      "forbidden",
      "staff grant",
    );
    const byTeam = await impersonated(tess, 43, "team");
    await expectRefused(
      (await as(byTeam)).profiles.setCurrentProfile({ coworkerId: 50 }),
      403,
      "forbidden",
      "team grant",
    );
    expect((await (await as(asNora)).auth.me()).location.id).toBe(1);
    expect((await (await as(byTeam)).auth.me()).location.id).toBe(1);
  });

  it("answers 401 without a session", async () => {
    await expectRefused(
      (await as(null)).profiles.setCurrentProfile({ coworkerId: 43 }),
      401,
      "unauthorized",
    );
  });
});

describe("accessHistory", () => {
  it("lists every impersonation of the caller's profiles, newest first, with who, how, why and when it ended", async () => {
    const sam = await api.signIn("sam.second@demo.test");
    expect(await (await as(sam)).profiles.accessHistory()).toEqual({ items: [] });

    const ivan = await api.signIn("ivan.indie@demo.test");
    const byStaff = await impersonated(otto, 45, "staff", "ticket-9");
    await (await as(byStaff)).impersonation.stopImpersonating();
    await impersonated(ivan, 45, "team");
    // An unexchanged token is not an access.
    await (await as(otto)).impersonation.impersonate({ coworkerId: 45 });

    const { items } = await (await as(sam)).profiles.accessHistory();
    expect(items).toMatchObject([
      { actor: { fullName: "Ivan Indie" }, kind: "team", reason: null, endedAt: null },
      { actor: { fullName: "Otto Operator" }, kind: "staff", reason: "ticket-9" },
    ]);
    expect(items[1]!.endedAt).not.toBeNull();
    expect(Date.parse(items[0]!.at)).toBeGreaterThanOrEqual(Date.parse(items[1]!.at));
    expect(Date.parse(items[1]!.endedAt!)).toBeGreaterThanOrEqual(Date.parse(items[1]!.at));
    // Nobody else sees it.
    const milo = await api.signIn("milo.member@demo.test");
    expect(
      (await (await as(milo)).profiles.accessHistory()).items.every(
        (item) => item.actor.fullName !== "Ivan Indie",
      ),
    ).toBe(true);
  });

  it("is refused to an impersonated session (403) and to anonymous callers (401)", async () => {
    const asMilo = await impersonated(otto, 42);
    await expectRefused((await as(asMilo)).profiles.accessHistory(), 403, "forbidden");
    await expectRefused((await as(null)).profiles.accessHistory(), 401, "unauthorized");
  });
});
