// A request's SQL deadline (deadline.ts, migration 0003): a write statement that reaches the
// database after it changes nothing, whatever else it would have done, and the request is a
// 503. Each write of the service is sent here with a deadline already past (as a statement held
// by the network during an outage arrives), and the database, read directly, must be unchanged;
// the same requests then succeed in time, so each refusal is the deadline's doing.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../context";
import { domainErrorOf } from "../errors";
import { createCaller } from "../root";
import { createTestApi, testTimes, type TestApi } from "../testing";
import { recordAudit } from "./audit";
import { requestTimes, SQL_DEADLINE_MS, withinAnswerTime } from "./deadline";
import { recordExpiryIfDue } from "./sessions";

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);

/** The request's deadline passed a moment ago; it may still wait for answers (answerBy ahead). */
const lateMeta = () => ({
  ip: "198.51.100.60",
  requestId: "late",
  deadline: new Date(Date.now() - 1),
  answerBy: testTimes().answerBy,
});

const lateCaller = async (token: string | null) =>
  createCaller(await createContext({ deps: api.deps, token, meta: lateMeta() }));

async function expectUnavailable(work: Promise<unknown>): Promise<void> {
  const error = await work.then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error, "the late request succeeded").not.toBeNull();
  expect(domainErrorOf(error).code).toBe("unavailable");
}

/** Everything a request could have changed, read directly. */
const snapshot = async () => ({
  audit: await rows<{ n: number }>(sql`select count(*)::int as n from audit_events`),
  sessions: await rows<{ id: string; revoked: boolean; coworker_id: number | null }>(
    sql`select id::text, revoked_at is not null as revoked, coworker_id from sessions order by id`,
  ),
  grants: await rows<{ jti: string; consumed: boolean }>(
    sql`select jti::text, consumed_at is not null as consumed from impersonation_grants order by jti`,
  ),
});

describe("the request's SQL deadline", () => {
  it("lets no write of a late request happen, and each succeeds in time", async () => {
    const otto = await api.signIn("otto.operator@demo.test");
    const nora = await api.signIn("nora.nomad@demo.test");
    const { token: pending } = await (
      await api.caller(otto)
    ).impersonation.impersonate({ coworkerId: 42 });
    const { token: exchanged } = await (
      await api.caller(otto)
    ).impersonation.impersonate({ coworkerId: 42 });
    const asMilo = (await (await api.caller(null)).impersonation.exchange({ token: exchanged }))
      .accessToken!;
    const before = await snapshot();

    const late: [string, () => Promise<unknown>][] = [
      [
        "sign-in",
        async () =>
          (await lateCaller(null)).auth.signIn({
            email: "ada.admin@demo.test",
            password: "demo-admin-pass",
          }),
      ],
      [
        "sign-in refused (audit)",
        async () =>
          (await lateCaller(null)).auth.signIn({
            email: "ada.admin@demo.test",
            password: "not-the-password",
          }),
      ],
      ["issue", async () => (await lateCaller(otto)).impersonation.impersonate({ coworkerId: 42 })],
      [
        "issue refused (audit)",
        async () => (await lateCaller(otto)).impersonation.impersonate({ coworkerId: 99_999 }),
      ],
      ["exchange", async () => (await lateCaller(null)).impersonation.exchange({ token: pending })],
      [
        "switch profile",
        async () => (await lateCaller(nora)).profiles.setCurrentProfile({ coworkerId: 50 }),
      ],
      ["stop", async () => (await lateCaller(asMilo)).impersonation.stopImpersonating()],
      ["sign-out", async () => (await lateCaller(otto)).auth.signOut()],
    ];
    for (const [what, run] of late) {
      await expectUnavailable(run()).catch((error: unknown) => {
        throw new Error(`${what}: ${String(error)}`);
      });
    }
    expect(await snapshot()).toEqual(before);

    // In time, the same requests do what they do.
    const exchange = await (await api.caller(null)).impersonation.exchange({ token: pending });
    expect(exchange.accessToken).toBeTruthy();
    await (await api.caller(nora)).profiles.setCurrentProfile({ coworkerId: 50 });
    await (await api.caller(asMilo)).impersonation.stopImpersonating();
    await (await api.caller(otto)).auth.signOut();
    const after = await snapshot();
    // exchanged, profile.switched, stopped, and signed_out twice: Otto's session and the one
    // just exchanged, which it started.
    expect(after.audit[0]!.n).toBe(before.audit[0]!.n + 5);
    expect(after.grants.filter((g) => g.consumed).length).toBe(
      before.grants.filter((g) => g.consumed).length + 1,
    );
  });

  it("records no refusal and no expiry for a late request", async () => {
    const otto = await api.signIn("otto.operator@demo.test");
    const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 42 });
    const asMilo = (await (await api.caller(null)).impersonation.exchange({ token })).accessToken!;
    const sid = decodeJwt(asMilo).sid as string;
    await rows(sql`update sessions set expires_at = now() - interval '1 second' where id = ${sid}`);
    const audit = async () =>
      (await rows<{ n: number }>(sql`select count(*)::int as n from audit_events`))[0]!.n;
    const before = await audit();

    await expectUnavailable(recordExpiryIfDue(api.deps, sid, lateMeta()));
    await expectUnavailable(
      recordAudit(
        api.database.db,
        { type: "impersonation.exchanged", outcome: "refused", detail: "bad_token" },
        lateMeta(),
      ),
    );
    expect(await audit()).toBe(before);

    expect(await recordExpiryIfDue(api.deps, sid, { ...lateMeta(), ...testTimes() })).toBe(true);
    expect(await audit()).toBe(before + 1);
  });

  it("gives up waiting at the answer time, as a 503", async () => {
    const times = requestTimes(Date.now() - SQL_DEADLINE_MS);
    expect(times.deadline.getTime()).toBeLessThanOrEqual(Date.now());
    const started = Date.now();
    await expectUnavailable(
      withinAnswerTime({ answerBy: started + 50 }, new Promise(() => undefined)),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(withinAnswerTime({ answerBy: started + 1000 }, Promise.resolve(7))).resolves.toBe(
      7,
    );
  });
});
