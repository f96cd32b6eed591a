// Member consent (CONTRACT §8): grants, who may see and change them, and how the policy's
// consent requirement holds at issue, at exchange and for the life of the session.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused, refusal } from "../testing-refusals";

let api: TestApi;
const t: Record<"ada" | "adaL2" | "otto" | "tess" | "milo" | "nora" | "rita", string> = {
  ada: "",
  adaL2: "",
  otto: "",
  tess: "",
  milo: "",
  nora: "",
  rita: "",
};

const as = (bearer: string | null) => api.caller(bearer);
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const exchange = async (token: string) =>
  (await (await as(null)).impersonation.exchange({ token })).accessToken!;
const issueStaff = async (coworkerId: number, readOnly?: boolean) =>
  (
    await (
      await as(t.ada)
    ).impersonation.impersonate({ coworkerId, ...(readOnly === undefined ? {} : { readOnly }) })
  ).token;
const issueTeam = async (coworkerId: number, readOnly?: boolean) =>
  (
    await (
      await as(t.tess)
    ).impersonation.impersonateTeamMember({
      coworkerId,
      ...(readOnly === undefined ? {} : { readOnly }),
    })
  ).token;
const grant = async (
  bearer: string,
  grantedTo: "staff" | "team",
  mode: "full" | "readonly" = "full",
  hours = 2,
) => (await as(bearer)).supportAccess.grantSupportAccess({ grantedTo, hours, mode });
const revoke = async (bearer: string, grantId: number) =>
  (await as(bearer)).supportAccess.revokeSupportAccess({ grantId });
const requireConsent = (staff: boolean, team: boolean) =>
  rows(sql`update location_policies set staff_consent_required = ${staff}, team_consent_required = ${team}
    where location_id = 1`);

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
beforeEach(async () => {
  await requireConsent(false, false);
  await rows(sql`update support_access_grants set revoked_at = now() where revoked_at is null`);
});

describe("who may see and change support access", () => {
  it("answers 401 to anonymous callers on every procedure", async () => {
    const anonymous = await as(null);
    await expectRefused(anonymous.supportAccess.listSupportAccess(), 401, "unauthorized");
    await expectRefused(
      anonymous.supportAccess.grantSupportAccess({ grantedTo: "staff", hours: 1, mode: "full" }),
      401,
      "unauthorized",
    );
    await expectRefused(
      anonymous.supportAccess.revokeSupportAccess({ grantId: 1 }),
      401,
      "unauthorized",
    );
    await expectRefused(
      anonymous.supportAccess.endImpersonation({ sessionId: crypto.randomUUID() }),
      401,
      "unauthorized",
    );
  });

  it("answers 403 to an impersonated session, full or read-only, and to a session without a profile", async () => {
    const miloGrant = await grant(t.milo, "staff");
    const full = await exchange(await issueStaff(42));
    const readOnly = await exchange(await issueStaff(42, true));
    for (const [label, bearer] of [
      ["full impersonation", full],
      ["read-only impersonation", readOnly],
      ["admin without a profile here", t.ada],
    ] as const) {
      const caller = await as(bearer);
      await expectRefused(caller.supportAccess.listSupportAccess(), 403, "forbidden", label);
      expect(
        (
          await refusal(
            caller.supportAccess.grantSupportAccess({ grantedTo: "staff", hours: 1, mode: "full" }),
          )
        ).status,
        label,
      ).toBe(403);
      expect(
        (await refusal(caller.supportAccess.revokeSupportAccess({ grantId: miloGrant.id }))).status,
        label,
      ).toBe(403);
    }
    // Nothing was granted or revoked by them.
    const [open] = await rows<{ n: number }>(
      sql`select count(*)::int as n from support_access_grants where revoked_at is null`,
    );
    expect(open!.n).toBe(1);
  });

  it("lets a member grant, list and revoke their own access; an operator is a member of their own profile too", async () => {
    const created = await grant(t.milo, "staff", "readonly", 24);
    expect(created).toMatchObject({ grantedTo: "staff", mode: "readonly", revokedAt: null });
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(24 * 3_600_000);
    const listed = await (await as(t.milo)).supportAccess.listSupportAccess();
    // Newest first; the earlier tests' grants of Milo's (revoked) and sessions follow.
    expect(listed.grants[0]).toEqual(created);
    await revoke(t.milo, created.id);
    const after = await (await as(t.milo)).supportAccess.listSupportAccess();
    expect(after.grants[0]!.revokedAt).not.toBeNull();
    const otto = await grant(t.otto, "team");
    expect(
      (await (await as(t.otto)).supportAccess.listSupportAccess()).grants.map((g) => g.id),
    ).toEqual([otto.id]);
  });

  it("answers 404 for another member's grant, in this location or another, and changes nothing", async () => {
    const milos = await grant(t.milo, "staff");
    for (const [label, bearer] of [
      ["other member", t.nora],
      ["operator as a member", t.otto],
      ["member of the other location", t.rita],
    ] as const) {
      await expectRefused(revoke(bearer, milos.id), 404, "not_found", label);
    }
    await expectRefused(revoke(t.milo, 999_999), 404, "not_found", "unknown grant");
    expect(
      (await (await as(t.milo)).supportAccess.listSupportAccess()).grants[0]!.revokedAt,
    ).toBeNull();
    expect((await (await as(t.nora)).supportAccess.listSupportAccess()).grants).toEqual([]);
  });

  it("audits consent.granted and consent.revoked with the member as actor and their profile as target", async () => {
    const created = await grant(t.nora, "team", "full", 3);
    await revoke(t.nora, created.id);
    // Revoking again changes nothing and writes nothing.
    await revoke(t.nora, created.id);
    const events = await rows<{
      type: string;
      actor_user_id: number;
      target_coworker_id: number;
      location_id: number;
      kind: string;
    }>(
      sql`select type, actor_user_id, target_coworker_id, location_id, kind from audit_events
          where type like 'consent.%' and actor_user_id = 5 order by id`,
    );
    expect(events).toEqual([
      {
        type: "consent.granted",
        actor_user_id: 5,
        target_coworker_id: 43,
        location_id: 1,
        kind: "team",
      },
      {
        type: "consent.revoked",
        actor_user_id: 5,
        target_coworker_id: 43,
        location_id: 1,
        kind: "team",
      },
    ]);
  });

  it("refuses bad grants with 400 and stores nothing", async () => {
    const before = await rows<{ n: number }>(
      sql`select count(*)::int as n from support_access_grants`,
    );
    for (const bad of [
      { grantedTo: "staff", hours: 0, mode: "full" },
      { grantedTo: "staff", hours: 169, mode: "full" },
      { grantedTo: "staff", hours: 1.5, mode: "full" },
      { grantedTo: "everyone", hours: 1, mode: "full" },
      { grantedTo: "staff", hours: 1, mode: "write" },
      { grantedTo: "staff", hours: 1 },
      { grantedTo: "staff", hours: 1, mode: "full", coworkerId: 44 },
    ]) {
      await expectRefused(
        (await as(t.milo)).supportAccess.grantSupportAccess(bad as never),
        400,
        "invalid_request",
        JSON.stringify(bad),
      );
    }
    const after = await rows<{ n: number }>(
      sql`select count(*)::int as n from support_access_grants`,
    );
    expect(after).toEqual(before);
  });

  it("lists grants ended in the last 30 days and hides older ones", async () => {
    const old = await grant(t.nora, "staff");
    const recent = await grant(t.nora, "team");
    await rows(sql`update support_access_grants set created_at = now() - interval '40 days',
      expires_at = now() - interval '39 days', revoked_at = null where id = ${old.id}`);
    await revoke(t.nora, recent.id);
    const listed = await (await as(t.nora)).supportAccess.listSupportAccess();
    expect(listed.grants.map((g) => g.id)).toContain(recent.id);
    expect(listed.grants.map((g) => g.id)).not.toContain(old.id);
  });
});

describe("consent required by the policy", () => {
  it("refuses a staff issue without an open staff grant (403 consent_required); a team grant does not count", async () => {
    await requireConsent(true, false);
    await expectRefused(issueStaff(42), 403, "consent_required", "no grant");
    await grant(t.milo, "team");
    await expectRefused(issueStaff(42), 403, "consent_required", "a team grant");
    const staffGrant = await grant(t.milo, "staff");
    expect(await exchange(await issueStaff(42))).toBeTruthy();
    await revoke(t.milo, staffGrant.id);
    await expectRefused(issueStaff(42), 403, "consent_required", "revoked");
    // The team route is not asked for consent unless teamConsent says so.
    expect(await exchange(await issueTeam(42))).toBeTruthy();
  });

  it("refuses full mode under a read-only grant, at issue, and issues read-only", async () => {
    await requireConsent(true, true);
    await grant(t.milo, "staff", "readonly");
    await grant(t.milo, "team", "readonly");
    await expectRefused(issueStaff(42, false), 403, "consent_required", "staff, full");
    await expectRefused(issueStaff(42), 403, "consent_required", "staff, no mode (full)");
    await expectRefused(issueTeam(42, false), 403, "consent_required", "team, full");
    const session = await exchange(await issueStaff(42, true));
    expect((await (await as(session)).auth.me()).impersonation!.readOnly).toBe(true);
    expect(await exchange(await issueTeam(42, true))).toBeTruthy();
  });

  it("is checked again at the exchange: a token issued under a grant revoked since is refused (401)", async () => {
    await requireConsent(false, true);
    const teamGrant = await grant(t.milo, "team");
    const pending = await issueTeam(42);
    await revoke(t.milo, teamGrant.id);
    await expectRefused(
      (await as(null)).impersonation.exchange({ token: pending }),
      401,
      "invalid_token",
    );
    const [event] = await rows<{ detail: string }>(
      sql`select detail from audit_events where type = 'impersonation.exchanged' order by id desc limit 1`,
    );
    expect(event!.detail).toBe("consent_required");
  });

  it("keeps a session that needed a grant alive only while that grant is open: revoked or expired, it ends, and a new grant does not revive it", async () => {
    await requireConsent(true, true);
    const first = await grant(t.nora, "staff");
    const viaStaff = await exchange(await issueStaff(43));
    const teamGrant = await grant(t.nora, "team");
    const viaTeam = await exchange(await issueTeam(43));
    expect((await (await as(viaStaff)).auth.me()).impersonation).not.toBeNull();
    const { live } = await (await as(t.nora)).supportAccess.listSupportAccess();
    expect(live.map((item) => item.kind).sort()).toEqual(["staff", "team"]);
    await revoke(t.nora, first.id);
    await expectRefused(
      (await as(viaStaff)).auth.me(),
      401,
      "unauthorized",
      "staff session after revoke",
    );
    expect((await (await as(viaTeam)).auth.me()).impersonation).not.toBeNull();
    await grant(t.nora, "staff");
    await expectRefused((await as(viaStaff)).auth.me(), 401, "unauthorized", "after a new grant");
    await rows(sql`update support_access_grants set expires_at = now() - interval '1 second',
      created_at = now() - interval '1 hour' where id = ${teamGrant.id}`);
    await expectRefused(
      (await as(viaTeam)).auth.me(),
      401,
      "unauthorized",
      "team session after expiry",
    );
    expect((await (await as(t.nora)).supportAccess.listSupportAccess()).live).toEqual([]);
  });

  it("does not tie sessions to consent the policy did not ask for", async () => {
    const open = await grant(t.milo, "staff");
    const session = await exchange(await issueStaff(42));
    await revoke(t.milo, open.id);
    expect((await (await as(session)).auth.me()).impersonation).not.toBeNull();
  });

  it("applies to the location whose policy asks: another location's issue is not asked", async () => {
    await requireConsent(true, true);
    expect(
      await exchange(
        (await (await as(t.adaL2)).impersonation.impersonate({ coworkerId: 51 })).token,
      ),
    ).toBeTruthy();
  });
});
