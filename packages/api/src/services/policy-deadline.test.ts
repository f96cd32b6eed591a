// The request's SQL deadline (deadline.ts) on the writes of CONTRACT §8: a policy change, a grant,
// a revocation and the ends of a live impersonation sent with their deadline just past change
// nothing (the database, read directly, is as before) and answer 503; in time, each does its work.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../context";
import { domainErrorOf } from "../errors";
import { createCaller } from "../root";
import { createTestApi, testTimes, type TestApi } from "../testing";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);

const lateCaller = async (token: string | null) =>
  createCaller(
    await createContext({
      deps: api.deps,
      token,
      meta: {
        ip: "198.51.100.61",
        requestId: "late",
        deadline: new Date(Date.now() - 1),
        answerBy: testTimes().answerBy,
      },
    }),
  );

/** Everything these requests could change, read directly. */
const snapshot = async () => ({
  audit: await rows<{ n: number }>(sql`select count(*)::int as n from audit_events`),
  policies: await rows(sql`select * from location_policies order by location_id`),
  grants: await rows(sql`select id, revoked_at from support_access_grants order by id`),
  sessions: await rows(sql`select id::text, revoked_at from sessions order by id`),
});

describe("the SQL deadline on policy, consent and oversight writes", () => {
  it("lets none of them happen late, and each succeeds in time", async () => {
    const ada = await api.signIn("ada.admin@demo.test");
    const milo = await api.signIn("milo.member@demo.test");
    const grant = await (
      await api.caller(milo)
    ).supportAccess.grantSupportAccess({ grantedTo: "staff", hours: 1, mode: "full" });
    const impersonated = async () =>
      (
        await (
          await api.caller(null)
        ).impersonation.exchange({
          token: (await (await api.caller(ada)).impersonation.impersonate({ coworkerId: 42 }))
            .token,
        })
      ).accessToken!;
    const first = decodeJwt(await impersonated()).sid as string;
    const second = decodeJwt(await impersonated()).sid as string;
    const before = await snapshot();

    const late: [string, () => Promise<unknown>][] = [
      ["policy", async () => (await lateCaller(ada)).policy.updatePolicy({ impersonation: "off" })],
      [
        "grant",
        async () =>
          (await lateCaller(milo)).supportAccess.grantSupportAccess({
            grantedTo: "team",
            hours: 2,
            mode: "readonly",
          }),
      ],
      [
        "revoke",
        async () =>
          (await lateCaller(milo)).supportAccess.revokeSupportAccess({ grantId: grant.id }),
      ],
      [
        "end by admin",
        async () => (await lateCaller(ada)).oversight.endImpersonation({ sessionId: first }),
      ],
      [
        "end by member",
        async () => (await lateCaller(milo)).supportAccess.endImpersonation({ sessionId: second }),
      ],
    ];
    for (const [what, run] of late) {
      const failure = await run().then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure, `${what} succeeded late`).not.toBeNull();
      expect(domainErrorOf(failure).code, what).toBe("unavailable");
    }
    expect(await snapshot()).toEqual(before);

    await (await api.caller(milo)).supportAccess.revokeSupportAccess({ grantId: grant.id });
    await (await api.caller(ada)).oversight.endImpersonation({ sessionId: first });
    await (await api.caller(milo)).supportAccess.endImpersonation({ sessionId: second });
    await (await api.caller(ada)).policy.updatePolicy({ impersonation: "off" });
    const after = await snapshot();
    // consent.revoked, two impersonation.terminated, policy.changed.
    expect(after.audit[0]!.n).toBe(before.audit[0]!.n + 4);
  });
});
