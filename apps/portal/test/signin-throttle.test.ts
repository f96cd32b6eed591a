// Sign-in throttling against concurrency, over HTTP (CONTRACT §5 `/api/trpc/*`, §6 "Sign-in
// throttling"): attempts sent at once, a tRPC batch of them, one address over several accounts;
// and the metrics that count the failures no admin's audit log shows (unknown emails, tokens that
// do not verify). Each attempt's address is its own unless the test is about one address, so
// that only the limit under test can refuse.
import { type Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL, exchangeReply, me, passwordOf } from "./support/flows";
import { call, expectError, type Reply } from "./support/http";
import { type Portal, startPortal } from "./support/portal";
import { parseExposition, type Sample, valueOf } from "./support/metrics";
import { burst, burstAgent, signInBatch, statusCounts } from "./support/sign-in-burst";

const LIMIT = 5;
const METRICS_TOKEN = "signin-throttle-metrics";

let portal: Portal;
let agent: Agent;

beforeAll(async () => {
  portal = await startPortal({
    env: {
      SIGNIN_LIMIT_PER_15_MINUTES: String(LIMIT),
      TRUSTED_PROXIES: "127.0.0.1",
      METRICS_TOKEN,
    },
  });
  agent = burstAgent();
});
afterAll(async () => {
  agent?.destroy();
  await portal?.stop();
});

const statusesOf = (replies: Reply[]) => statusCounts(replies.map((reply) => reply.status));

function expectHonestRetryAfter(reply: Reply): void {
  expectError(reply, 429, "throttled");
  const seconds = Number(reply.headers["retry-after"]);
  expect(Number.isInteger(seconds), reply.headers["retry-after"]).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(15 * 60);
}

describe("sign-in throttling under concurrency", () => {
  it("checks exactly the limit of 20 concurrent wrong passwords for one account; the rest answer 429", async () => {
    const replies = await burst(
      Array.from({ length: 20 }, (_, index) => ({
        portal,
        email: EMAIL.milo,
        password: `wrong-${index}`,
        ip: `192.0.2.${index + 1}`,
      })),
      agent,
    );
    expect(statusesOf(replies)).toEqual({ 400: LIMIT, 429: 20 - LIMIT });
    for (const reply of replies) {
      if (reply.status === 400) expectError(reply, 400, "invalid_grant");
      else expectHonestRetryAfter(reply);
    }
  });

  it("of 29 wrong passwords and the right one sent at once, checks only the limit of wrong ones; sent once the limit is full, the right one answers 429", async () => {
    const replies = await burst(
      Array.from({ length: 30 }, (_, index) => ({
        portal,
        email: EMAIL.nora,
        password: index === 29 ? passwordOf(EMAIL.nora) : `wrong-${index}`,
        ip: `198.51.100.${index + 1}`,
      })),
      agent,
    );
    const counts = statusesOf(replies);
    // Signed in only if it took one of the places, which it then gave back: either way exactly
    // the limit of wrong passwords were checked, and no more.
    expect(counts[400]).toBe(LIMIT);
    expect(counts[200] ?? 0).toBeLessThanOrEqual(1);
    expect(counts[429]).toBe(30 - LIMIT - (counts[200] ?? 0));
    const late = (
      await burst(
        [{ portal, email: EMAIL.nora, password: passwordOf(EMAIL.nora), ip: "198.51.100.99" }],
        agent,
      )
    )[0]!;
    expectHonestRetryAfter(late);
    expect(late.text).not.toContain("access_token");
  });

  it("refuses a tRPC batch of 11 calls whole, with nothing run", async () => {
    const calls = Array.from({ length: 11 }, (_, index) => ({
      email: EMAIL.ivan,
      password: `wrong-${index}`,
    }));
    const { reply, statuses } = await signInBatch(portal, calls, "192.0.2.201");
    expect(statuses).toBeNull();
    expectError(reply, 400, "invalid_request");
    // Also when the names' commas are percent-encoded, and for queries.
    const encoded = await call(
      portal,
      "POST",
      `/api/trpc/${calls.map(() => "auth.signIn").join("%2C")}?batch=1`,
      {
        json: Object.fromEntries(calls.map((input, index) => [String(index), input])),
        headers: { "x-forwarded-for": "192.0.2.202" },
      },
    );
    expectError(encoded, 400, "invalid_request");
    const queries = await call(
      portal,
      "GET",
      `/api/trpc/${Array.from({ length: 11 }, () => "auth.me").join(",")}?batch=1&input=%7B%7D`,
    );
    expectError(queries, 400, "invalid_request");
    // None of those 22 wrong passwords was checked: the account has its whole limit left.
    for (let index = 0; index < LIMIT; index++) {
      const [alone] = await burst(
        [{ portal, email: EMAIL.ivan, password: `again-${index}`, ip: `192.0.2.${210 + index}` }],
        agent,
      );
      expectError(alone!, 400, "invalid_grant");
    }
    // Ten calls are a batch the portal runs.
    const ten = await signInBatch(portal, calls.slice(0, 10), "192.0.2.220");
    expect(ten.statuses).toHaveLength(10);
  });

  it("counts every call of a batch of 10 as if sent alone: only the limit of them are checked", async () => {
    const { statuses } = await signInBatch(
      portal,
      Array.from({ length: 10 }, (_, index) => ({
        email: EMAIL.rita,
        password: `wrong-${index}`,
      })),
      "192.0.2.230",
    );
    // One address here, and one account: both limits are 5, so 5 checked, 5 refused.
    expect(statusCounts(statuses!)).toEqual({ 400: LIMIT, 429: 10 - LIMIT });
    const [after] = await burst(
      [{ portal, email: EMAIL.rita, password: passwordOf(EMAIL.rita), ip: "192.0.2.231" }],
      agent,
    );
    expectHonestRetryAfter(after!);
  });

  it("checks exactly the limit of wrong passwords from one address spread over four accounts, and counts them in the metrics", async () => {
    const before = await scrape();
    const ip = "203.0.113.9";
    const accounts = ["ghost-1@demo.test", "ghost-2@demo.test", "ghost-3@demo.test", EMAIL.sam];
    const replies = await burst(
      Array.from({ length: 20 }, (_, index) => ({
        portal,
        email: accounts[index % 4]!,
        password: `wrong-${index}`,
        ip,
      })),
      agent,
    );
    expect(statusesOf(replies)).toEqual({ 400: LIMIT, 429: 20 - LIMIT });
    // The accounts are not full: from another address the right password signs in.
    const [elsewhere] = await burst(
      [{ portal, email: EMAIL.sam, password: passwordOf(EMAIL.sam), ip: "203.0.113.10" }],
      agent,
    );
    expect(elsewhere!.status, elsewhere!.text).toBe(200);

    const after = await scrape();
    const delta = (reason: string) =>
      valueOf(after, "cowork_signin_failures_total", { reason }) -
      valueOf(before, "cowork_signin_failures_total", { reason });
    // Which of the checked ones named an unknown email, and which Sam (with a wrong password).
    const checked = replies.flatMap((reply, index) => (reply.status === 400 ? [index % 4] : []));
    expect(delta("unknown_email")).toBe(checked.filter((account) => account !== 3).length);
    expect(delta("wrong_password")).toBe(checked.filter((account) => account === 3).length);
    expect(delta("throttled")).toBe(20 - LIMIT);
  });

  it("counts refused tokens by kind and reason in the metrics", async () => {
    const before = await scrape();
    expectError(await me(portal, "not-a-token"), 401);
    expectError(await me(portal, "a.b.c"), 401);
    expectError(await exchangeReply(portal, "not-a-token"), 401, "invalid_token");
    const after = await scrape();
    const delta = (kind: string) =>
      valueOf(after, "cowork_token_refusals_total", { kind }) -
      valueOf(before, "cowork_token_refusals_total", { kind });
    expect(delta("access")).toBe(2);
    expect(delta("impersonation")).toBe(1);
    for (const sample of after.filter((s) => s.name === "cowork_token_refusals_total"))
      expect(sample.labels.reason).toMatch(/^[a-z0-9_]+$/);
  });
});

async function scrape(): Promise<Sample[]> {
  const answer = await call(portal, "GET", "/api/metrics", { token: METRICS_TOKEN });
  expect(answer.status, answer.text).toBe(200);
  return parseExposition(answer.text);
}
