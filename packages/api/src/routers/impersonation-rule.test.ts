// Who may impersonate whom is defined once (the database function impersonation_refusal): the
// directory's `canImpersonate`, the answer and the grant check of the exchange
// (grant_still_valid) must agree for every caller and target, whatever their ranks and wherever
// those ranks are held.
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DomainError, domainErrorOf } from "../errors";
import { createTestApi, type TestApi } from "../testing";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 1000 });
  // Ranks held here (L1) and elsewhere (L2), besides the demo's: Ada admin of L1 and L2, Otto
  // operator of L1 (coworker 46). Nora (43 in L1, 50 in L2) operator in L2, Ivan (44) admin in
  // L2, Sam (45) operator in L1; Tess (40) and Milo (42) hold no role.
  await queryRows(
    api.database.db,
    sql`insert into staff_roles (user_id, location_id, role)
        values (5, 2, 'operator'), (6, 2, 'admin'), (8, 1, 'operator')`,
  );
});
afterAll(() => api.close());

/** The outcome of a call: "issued", or the refusal's status and code. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => "issued",
    (error: unknown) => {
      const refused: DomainError = domainErrorOf(error);
      return `${refused.status} ${refused.code}`;
    },
  );

/** What grant_still_valid answers for a grant of `kind` from the session of `token`. */
async function grantHolds(
  token: string,
  kind: "staff" | "team",
  coworkerId: number,
  teamId: number | null,
): Promise<boolean> {
  const sid = decodeJwt(token).sid as string;
  const [row] = await queryRows<{ valid: boolean }>(
    api.database.db,
    sql`select grant_still_valid(${kind}::impersonation_kind, s.user_id, s.id, c.user_id, c.id,
          c.location_id, ${teamId}::int) as valid
        from sessions s, coworkers c where s.id = ${sid}::uuid and c.id = ${coworkerId}`,
  );
  return row!.valid;
}

describe("the impersonation rule, defined once", () => {
  it("staff route: the directory, the issue and the exchange's grant check agree on every target", async () => {
    const callers = [
      // Operator of L1: self (46), equal rank here (45) and elsewhere (43), higher elsewhere (44).
      { name: "otto", email: "otto.operator@demo.test", location: 1, allowed: [40, 42] },
      // Admin of L1: equal rank elsewhere (44), lower here (45, 46) and elsewhere (43).
      { name: "ada", email: "ada.admin@demo.test", location: 1, allowed: [40, 42, 43, 45, 46] },
      // Admin of L2: lower rank here (50: Nora, operator of L2).
      { name: "ada in L2", email: "ada.admin@demo.test", location: 2, allowed: [50, 51] },
    ];
    for (const caller of callers) {
      const token = await api.signIn(caller.email, caller.location);
      const { items } = await (await api.caller(token)).directory.searchCoworkers({});
      const allowed = items.filter((item) => item.canImpersonate).map((item) => item.coworkerId);
      expect(allowed, `${caller.name}: directory`).toEqual(caller.allowed);
      for (const item of items) {
        const label = `${caller.name} → ${item.coworkerId}`;
        const issued = await outcome(
          (await api.caller(token)).impersonation.impersonate({ coworkerId: item.coworkerId }),
        );
        expect(issued, `${label}: issue`).toBe(item.canImpersonate ? "issued" : "403 forbidden");
        expect(await grantHolds(token, "staff", item.coworkerId, null), `${label}: grant`).toBe(
          item.canImpersonate,
        );
      }
    }
  });

  it("staff route: a token the rule allowed is exchanged, and the refusal names the rule's reason", async () => {
    const otto = await api.signIn("otto.operator@demo.test");
    const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 42 });
    const exchanged = await (await api.caller()).impersonation.exchange({ token });
    expect(typeof exchanged.accessToken).toBe("string");

    const details = new Map<number, string | null>();
    for (const coworkerId of [43, 44, 45, 46]) {
      await outcome((await api.caller(otto)).impersonation.impersonate({ coworkerId }));
      const [event] = await queryRows<{ detail: string | null }>(
        api.database.db,
        sql`select detail from audit_events
            where type = 'impersonation.issued' and outcome = 'refused' and actor_user_id = 2
            order by id desc limit 1`,
      );
      details.set(coworkerId, event?.detail ?? null);
    }
    expect(Object.fromEntries(details)).toEqual({
      43: "rank",
      44: "rank",
      45: "rank",
      46: "self",
    });
  });

  it("team route: the team table, the issue and the exchange's grant check agree on every member", async () => {
    const tess = await api.signIn("tess.teamadmin@demo.test");
    const { teams } = await (await api.caller(tess)).directory.listTeamMembers();
    const acme = teams.find((team) => team.teamId === 7)!;
    // Self (40), staff here (46) and staff elsewhere (43: operator of L2) are refused.
    expect(
      acme.members.filter((member) => member.canImpersonate).map((member) => member.coworkerId),
    ).toEqual([42]);
    for (const member of acme.members) {
      const label = `tess → ${member.coworkerId}`;
      const issued = await outcome(
        (await api.caller(tess)).impersonation.impersonateTeamMember({
          coworkerId: member.coworkerId,
        }),
      );
      expect(issued, `${label}: issue`).toBe(member.canImpersonate ? "issued" : "403 forbidden");
      expect(await grantHolds(tess, "team", member.coworkerId, 7), `${label}: grant`).toBe(
        member.canImpersonate,
      );
    }
  });
});
