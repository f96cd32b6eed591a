// The member's notices on both doors (tRPC and REST): listed newest first and marked read by the
// member's own sessions only. The matrix: anonymous, the member, another member, staff without a
// profile, an impersonated session (full and read-only) of the very member.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RestAnswer } from "../rest/http";
import { rest } from "../rest/routes";
import { createTestApi, testTimes, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
let otto: string;
let nora: string;
let milo: string;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  otto = await api.signIn("otto.operator@demo.test");
  nora = await api.signIn("nora.nomad@demo.test");
  milo = await api.signIn("milo.member@demo.test");
});
afterAll(() => api.close());

const as = (bearer: string | null) => api.caller(bearer);

/** Enters Nora's account (coworker 43) as Otto; answers the impersonated session's token. */
async function enterNora(options: { reason?: string; readOnly?: boolean } = {}) {
  const { token } = await (
    await as(otto)
  ).impersonation.impersonate({ coworkerId: 43, ...options });
  return (await (await as(null)).impersonation.exchange({ token })).accessToken!;
}

/** A REST call through the route's own handler, as the server makes it. */
function call(
  route: "listNotices" | "markNoticeRead",
  bearer: string | null,
  params: Record<string, string> = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = bearer ? { authorization: `Bearer ${bearer}` } : {};
  return rest[route]({
    request: {
      method: route === "listNotices" ? "GET" : "POST",
      url: "/",
      header: (name) => headers[name] ?? null,
      body: "",
    },
    deps: api.deps,
    meta: { ip: "203.0.113.9", requestId: "notices-test", ...testTimes() },
    params,
  });
}
const bodyOf = (answer: RestAnswer) => JSON.parse(answer.body ?? "null") as unknown;

describe("listNotices", () => {
  it("gives the member their notices, newest first, unread", async () => {
    await enterNora({ reason: "first" });
    await enterNora({ reason: "second", readOnly: true });
    const { items } = await (await as(nora)).notices.listNotices();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ readAt: null });
    expect(items[0]!.text).toMatch(
      /^Otto Operator \(staff\) entered your account on .* in read-only mode\. Reason: "second"\.$/,
    );
    expect(items[1]!.text).toMatch(/in full mode\. Reason: "first"\.$/);
    expect(items[0]!.id).toBeGreaterThan(items[1]!.id);
    expect(Date.parse(items[0]!.at)).toBeGreaterThanOrEqual(Date.parse(items[1]!.at));

    const answer = await call("listNotices", nora);
    expect(answer.status).toBe(200);
    expect(bodyOf(answer)).toEqual({ items });
  });

  it("gives another member none of them, and staff without a profile an empty list", async () => {
    expect((await (await as(milo)).notices.listNotices()).items).toEqual([]);
    const ada = await api.signIn("ada.admin@demo.test");
    expect(bodyOf(await call("listNotices", ada))).toEqual({ items: [] });
  });

  it("refuses anonymous callers (401) and an impersonated session, even of the member (403)", async () => {
    await expectRefused(
      (async () => (await as(null)).notices.listNotices())(),
      401,
      "unauthorized",
    );
    expect((await call("listNotices", null)).status).toBe(401);
    expect((await call("listNotices", "not.a.token")).status).toBe(401);
    for (const readOnly of [false, true]) {
      const asNora = await enterNora({ readOnly });
      await expectRefused(
        (async () => (await as(asNora)).notices.listNotices())(),
        403,
        "forbidden",
        `impersonated (readOnly: ${readOnly})`,
      );
      const answer = await call("listNotices", asNora);
      expect(answer.status).toBe(403);
      expect(bodyOf(answer)).toMatchObject({ error: "forbidden" });
    }
  });
});

describe("markNoticeRead", () => {
  it("marks the member's notice read (204), and again keeps the first time", async () => {
    await enterNora();
    const [notice] = (await (await as(nora)).notices.listNotices()).items;
    const answer = await call("markNoticeRead", nora, { id: String(notice!.id) });
    expect(answer).toMatchObject({ status: 204, body: null });
    const [read] = (await (await as(nora)).notices.listNotices()).items;
    expect(read).toMatchObject({ id: notice!.id, text: notice!.text });
    expect(read!.readAt).not.toBeNull();

    await (await as(nora)).notices.markNoticeRead({ id: notice!.id });
    const [again] = (await (await as(nora)).notices.listNotices()).items;
    expect(again!.readAt).toBe(read!.readAt);
  });

  it("answers 404 for another member's notice and for none, and changes nothing", async () => {
    await enterNora();
    const [notice] = (await (await as(nora)).notices.listNotices()).items;
    await expectRefused(
      (async () => (await as(milo)).notices.markNoticeRead({ id: notice!.id }))(),
      404,
      "not_found",
      "other member",
    );
    expect((await call("markNoticeRead", milo, { id: String(notice!.id) })).status).toBe(404);
    expect((await call("markNoticeRead", nora, { id: "2147483647" })).status).toBe(404);
    const [still] = (await (await as(nora)).notices.listNotices()).items;
    expect(still).toMatchObject({ id: notice!.id, readAt: null });
  });

  it("refuses a bad id (400), anonymous callers (401) and an impersonated session (403)", async () => {
    await enterNora();
    const [notice] = (await (await as(nora)).notices.listNotices()).items;
    const id = String(notice!.id);
    for (const bad of ["abc", "0", "-1", "2147483648", "1.5"]) {
      expect((await call("markNoticeRead", nora, { id: bad })).status, bad).toBe(400);
    }
    expect((await call("markNoticeRead", null, { id })).status).toBe(401);
    await expectRefused(
      (async () => (await as(null)).notices.markNoticeRead({ id: notice!.id }))(),
      401,
      "unauthorized",
    );
    const full = await enterNora();
    await expectRefused(
      (async () => (await as(full)).notices.markNoticeRead({ id: notice!.id }))(),
      403,
      "forbidden",
      "impersonated, full",
    );
    expect(bodyOf(await call("markNoticeRead", full, { id }))).toMatchObject({
      error: "forbidden",
    });
    const readOnly = await enterNora({ readOnly: true });
    const refused = await call("markNoticeRead", readOnly, { id });
    expect(refused.status).toBe(403);
    expect(
      (await (await as(nora)).notices.listNotices()).items.find((n) => n.id === notice!.id),
    ).toMatchObject({ readAt: null });
  });
});
