// Justification (CONTRACT §8): reasonCategory and ticket on both issue routes, kept with the grant
// and shown in me.impersonation, the audit log and the member's access history.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
let ada: string;
let tess: string;
let milo: string;

const as = (bearer: string | null) => api.caller(bearer);
const exchange = async (token: string) =>
  (await (await as(null)).impersonation.exchange({ token })).accessToken!;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  ada = await api.signIn("ada.admin@demo.test");
  tess = await api.signIn("tess.teamadmin@demo.test");
  milo = await api.signIn("milo.member@demo.test");
});
afterAll(() => api.close());

describe("reasonCategory and ticket", () => {
  it("travel from the staff issue to me, the audit log and the member's access history", async () => {
    const { token } = await (
      await as(ada)
    ).impersonation.impersonate({
      coworkerId: 42,
      reason: "Invoice looks wrong",
      reasonCategory: "billing",
      ticket: "SUP-1234/a#2",
    });
    const session = await exchange(token);
    expect((await (await as(session)).auth.me()).impersonation).toMatchObject({
      reason: "Invoice looks wrong",
      reasonCategory: "billing",
      ticket: "SUP-1234/a#2",
    });
    const { items } = await (await as(ada)).audit.listEvents({ targetCoworkerId: 42, limit: 2 });
    expect(items.map((item) => [item.type, item.reasonCategory, item.ticket])).toEqual([
      ["impersonation.exchanged", "billing", "SUP-1234/a#2"],
      ["impersonation.issued", "billing", "SUP-1234/a#2"],
    ]);
    const history = await (await as(milo)).profiles.accessHistory();
    expect(history.items[0]).toMatchObject({
      reason: "Invoice looks wrong",
      reasonCategory: "billing",
      ticket: "SUP-1234/a#2",
    });
  });

  it("travel from the team issue too, and are null when not given", async () => {
    const withThem = await exchange(
      (
        await (
          await as(tess)
        ).impersonation.impersonateTeamMember({
          coworkerId: 43,
          reasonCategory: "technical_issue",
          ticket: "T.1_2-3",
        })
      ).token,
    );
    expect((await (await as(withThem)).auth.me()).impersonation).toMatchObject({
      reasonCategory: "technical_issue",
      ticket: "T.1_2-3",
    });
    const without = await exchange(
      (await (await as(tess)).impersonation.impersonateTeamMember({ coworkerId: 43 })).token,
    );
    expect((await (await as(without)).auth.me()).impersonation).toMatchObject({
      reasonCategory: null,
      ticket: null,
    });
  });

  it("refuses a category outside the list and a ticket that is not 1–64 of letters, digits and ._#/- (400)", async () => {
    for (const bad of [
      { reasonCategory: "curiosity" },
      { reasonCategory: "" },
      { ticket: "" },
      { ticket: "SUP 1" },
      { ticket: "x".repeat(65) },
      { ticket: "ü-1" },
      { ticket: "a\u0000b" },
      { ticket: "<script>" },
    ]) {
      await expectRefused(
        (await as(ada)).impersonation.impersonate({
          coworkerId: 42,
          ...(bad as { ticket?: string }),
        }),
        400,
        "invalid_request",
        JSON.stringify(bad),
      );
      await expectRefused(
        (await as(tess)).impersonation.impersonateTeamMember({
          coworkerId: 42,
          ...(bad as { ticket?: string }),
        }),
        400,
        "invalid_request",
        `team ${JSON.stringify(bad)}`,
      );
    }
    expect(
      (await (await as(ada)).impersonation.impersonate({ coworkerId: 42, ticket: "x".repeat(64) }))
        .token,
    ).toBeTruthy();
    for (const category of [
      "member_request",
      "billing",
      "technical_issue",
      "security_review",
      "other",
    ] as const) {
      expect(
        (
          await (
            await as(ada)
          ).impersonation.impersonate({ coworkerId: 42, reasonCategory: category })
        ).token,
      ).toBeTruthy();
    }
  });
});
