// The people views: the operator console's search (staff of the active location only) and the
// team table (any session, its own teams only).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
const token: Record<string, string> = {};

beforeAll(async () => {
  api = await createTestApi();
  token.ada = await api.signIn("ada.admin@demo.test");
  token.adaL2 = await api.signIn("ada.admin@demo.test", 2);
  token.otto = await api.signIn("otto.operator@demo.test");
  token.tess = await api.signIn("tess.teamadmin@demo.test");
  token.milo = await api.signIn("milo.member@demo.test");
  const { token: grant } = await (
    await api.caller(token.otto)
  ).impersonation.impersonate({ coworkerId: 40 });
  token.ottoAsTess = (
    await (await api.caller()).impersonation.exchange({ token: grant })
  ).accessToken!;
});
afterAll(() => api.close());

const search = async (
  bearer: string | null,
  input: { query?: string; limit?: number; cursor?: number } = {},
) => (await api.caller(bearer)).directory.searchCoworkers(input);

describe("searchCoworkers", () => {
  it("answers 401 to anyone but staff of the active location", async () => {
    for (const [name, bearer] of [
      ["anonymous", null],
      ["a customer", token.milo!],
      ["a team admin", token.tess!],
      ["an impersonated session", token.ottoAsTess!],
    ] as const) {
      await expectRefused(search(bearer), 401, "unauthorized", name);
    }
  });

  it("lists only the active location's coworkers, with whom the caller may impersonate", async () => {
    const otto = await search(token.otto!);
    expect(otto.items.map((item) => item.coworkerId)).toEqual([40, 42, 43, 44, 45, 46]);
    expect(otto.items.find((item) => item.coworkerId === 46)).toMatchObject({
      staffRole: "operator",
      canImpersonate: false,
    });
    expect(otto.items.filter((item) => item.canImpersonate).map((item) => item.coworkerId)).toEqual(
      [40, 42, 43, 44, 45],
    );
    const ada = await search(token.ada!);
    expect(ada.items.find((item) => item.coworkerId === 46)).toMatchObject({
      staffRole: "operator",
      canImpersonate: true,
    });
    const adaL2 = await search(token.adaL2!);
    expect(adaL2.items.map((item) => item.coworkerId)).toEqual([50, 51]);
  });

  it("matches names and emails, case-insensitively, and treats LIKE wildcards literally", async () => {
    expect(
      (await search(token.otto!, { query: "MILO" })).items.map((item) => item.coworkerId),
    ).toEqual([42]);
    expect(
      (await search(token.otto!, { query: "nora.nomad@" })).items.map((item) => item.coworkerId),
    ).toEqual([43]);
    for (const query of ["%", "_", "\\", "%'; --"]) {
      expect((await search(token.otto!, { query })).items, query).toEqual([]);
    }
    // Another location's coworker is not found by name.
    expect((await search(token.otto!, { query: "Rita" })).items).toEqual([]);
  });

  it("pages with a cursor", async () => {
    const first = await search(token.otto!, { limit: 4 });
    expect(first.items.map((item) => item.coworkerId)).toEqual([40, 42, 43, 44]);
    expect(first.nextCursor).toBe(44);
    const second = await search(token.otto!, { limit: 4, cursor: first.nextCursor! });
    expect(second.items.map((item) => item.coworkerId)).toEqual([45, 46]);
    expect(second.nextCursor).toBeNull();
  });

  it("validates its input", async () => {
    for (const input of [
      { query: "x".repeat(101) },
      { limit: 0 },
      { limit: 51 },
      { cursor: 0 },
      { locationId: 2 },
    ]) {
      await expectRefused(
        (await api.caller(token.otto)).directory.searchCoworkers(input),
        400,
        "invalid_request",
        JSON.stringify(input),
      );
    }
  });
});

describe("listTeamMembers", () => {
  it("answers 401 without a session", async () => {
    await expectRefused((await api.caller()).directory.listTeamMembers(), 401, "unauthorized");
  });

  it("shows a team admin her team and whom she may impersonate: not herself, not staff", async () => {
    const { teams } = await (await api.caller(token.tess)).directory.listTeamMembers();
    expect(teams).toHaveLength(1);
    expect(teams[0]).toMatchObject({ teamId: 7, name: "Acme Design", callerIsTeamAdmin: true });
    const members = Object.fromEntries(
      teams[0]!.members.map((member) => [member.coworkerId, member]),
    );
    expect(Object.keys(members).map(Number).sort()).toEqual([40, 42, 43, 46]);
    expect(members[40]).toMatchObject({ isSelf: true, teamAdmin: true, canImpersonate: false });
    expect(members[46]).toMatchObject({ isStaff: true, canImpersonate: false });
    expect(members[42]).toMatchObject({ canImpersonate: true });
    expect(members[43]).toMatchObject({ canImpersonate: true });
  });

  it("shows a plain member the team but no one to impersonate", async () => {
    const { teams } = await (await api.caller(token.milo)).directory.listTeamMembers();
    expect(teams.map((team) => team.teamId)).toEqual([7]);
    expect(teams[0]!.callerIsTeamAdmin).toBe(false);
    expect(teams[0]!.members.some((member) => member.canImpersonate)).toBe(false);
  });

  it("shows nothing to a caller without a profile, and nothing of other teams", async () => {
    expect(await (await api.caller(token.ada)).directory.listTeamMembers()).toEqual({ teams: [] });
    const { teams } = await (await api.caller(token.otto)).directory.listTeamMembers();
    expect(teams.map((team) => team.teamId)).toEqual([7]);
  });
});
