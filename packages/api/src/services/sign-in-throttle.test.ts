// Sign-in throttling under concurrency (CONTRACT §6): an attempt takes its place in the count
// before its password is checked, so attempts sent at once cannot all pass a check of the count
// that each of them would fail after the others. Calls as the tRPC batch runs them: all at once.
import { queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { domainErrorOf } from "../errors";
import { createTestApi, type TestApi } from "../testing";

const LIMIT = 5;
const MEMBER_PASS = "demo-member-pass";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ signinLimitPer15Minutes: LIMIT });
});
afterAll(() => api.close());

/** The outcome of one sign-in: 200, or the refusal's status and Retry-After. */
async function attempt(
  email: string,
  password: string,
  ip: string,
): Promise<{ status: number; retryAfterS: number | undefined }> {
  try {
    await (await api.caller(null, ip)).auth.signIn({ email, password });
    return { status: 200, retryAfterS: undefined };
  } catch (error) {
    const refusal = domainErrorOf(error);
    return { status: refusal.status, retryAfterS: refusal.retryAfterS };
  }
}

const tally = (outcomes: { status: number }[]) =>
  outcomes.reduce<Record<number, number>>((counts, { status }) => {
    counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }, {});

/** Passwords checked and found wrong, as the audit log has them. */
async function checkedAndWrong(where: { email?: string; ip?: string }): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    api.database.db,
    sql`select count(*)::int as n from audit_events e
        where e.type = 'signin.failed' and e.detail = 'invalid_credentials'
          and ${where.email ? sql`e.actor_user_id = (select id from users where lower(email) = ${where.email})` : sql`true`}
          and ${where.ip ? sql`e.ip = ${where.ip}` : sql`true`}`,
  );
  return row!.n;
}

describe("sign-in throttling under concurrency", () => {
  it("checks exactly the limit of 20 concurrent wrong passwords for one account; the rest answer 429", async () => {
    const email = "milo.member@demo.test";
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        attempt(email, `wrong-${index}`, `192.0.2.${index + 1}`),
      ),
    );
    expect(tally(outcomes)).toEqual({ 400: LIMIT, 429: 20 - LIMIT });
    expect(await checkedAndWrong({ email })).toBe(LIMIT);
    for (const outcome of outcomes.filter(({ status }) => status === 429)) {
      expect(outcome.retryAfterS).toBeGreaterThanOrEqual(1);
      expect(outcome.retryAfterS).toBeLessThanOrEqual(900);
    }
  });

  it("of 29 wrong passwords and the right one sent at once, checks no more wrong ones than the limit, and refuses the right one once the limit is full", async () => {
    const email = "nora.nomad@demo.test";
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        attempt(email, index === 29 ? MEMBER_PASS : `wrong-${index}`, `198.51.100.${index + 1}`),
      ),
    );
    const counts = tally(outcomes);
    // The right one signed in only if it took one of the places (and gave it back, so that
    // exactly the limit of wrong ones were checked either way).
    expect(counts[400]).toBe(LIMIT);
    expect(counts[200] ?? 0).toBeLessThanOrEqual(1);
    expect(counts[429]).toBe(30 - LIMIT - (counts[200] ?? 0));
    expect(await checkedAndWrong({ email })).toBe(LIMIT);
    // Sent after the limit is full: refused unchecked, though correct.
    expect(await attempt(email, MEMBER_PASS, "198.51.100.99")).toMatchObject({ status: 429 });
  });

  it("checks exactly the limit of wrong passwords from one address spread over four accounts", async () => {
    const ip = "203.0.113.7";
    const accounts = [
      "ivan.indie@demo.test",
      "rita.riverside@demo.test",
      "sam.second@demo.test",
      "tess.teamadmin@demo.test",
    ];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) => attempt(accounts[index % 4]!, `wrong-${index}`, ip)),
    );
    expect(tally(outcomes)).toEqual({ 400: LIMIT, 429: 20 - LIMIT });
    expect(await checkedAndWrong({ ip })).toBe(LIMIT);
    // The accounts themselves are not full: from another address the right password works.
    await expect(
      (await api.caller(null, "203.0.113.8")).auth.signIn({
        email: "ivan.indie@demo.test",
        password: MEMBER_PASS,
      }),
    ).resolves.toHaveProperty("accessToken");
  });

  it("signs in 12 concurrent correct passwords, none counted: each gives its place back", async () => {
    const email = "otto.operator@demo.test";
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        attempt(email, "demo-operator-pass", `192.0.2.${100 + index}`),
      ),
    );
    // At most the limit are checked at a time; the others wait for those places to be given
    // back rather than refuse: correct passwords never refuse each other.
    expect(tally(outcomes)).toEqual({ 200: 12 });
    // And none of them counted: the account has its whole limit of failures left.
    for (let index = 0; index < LIMIT; index++)
      expect(await attempt(email, `wrong-${index}`, "192.0.2.250")).toMatchObject({ status: 400 });
    expect(await attempt(email, "demo-operator-pass", "192.0.2.251")).toMatchObject({
      status: 429,
    });
  });
});
