// Webhook registration (CONTRACT §9): only an admin of the active location, scoped to it; URLs
// refused as the outbound rules say, with nothing stored; the secret shown once and never again;
// registration and removal audited in the statement that makes them.
import { queryRows } from "@cowork/db";
import { type RegisterWebhookInput } from "@cowork/validators";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RestAnswer } from "../rest/http";
import { rest } from "../rest/routes";
import { createTestApi, type TestApi, testTimes } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
const t = { ada: "", adaL2: "", otto: "", milo: "", impersonated: "" };
const as = (bearer: string | null) => api.caller(bearer);
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const webhookCount = async () =>
  Number((await rows<{ n: number }>(sql`select count(*)::int as n from webhooks`))[0]!.n);

const HOOK: RegisterWebhookInput = {
  url: "https://hooks.example.com/cowork",
  events: ["impersonation.exchanged"],
  format: "standard-webhooks",
};

beforeAll(async () => {
  api = await createTestApi(
    { impersonateLimitPerMinute: 100_000 },
    { OUTBOUND_ALLOW_HOSTS: "receiver.internal, 10.1.2.3" },
  );
  t.ada = await api.signIn("ada.admin@demo.test");
  t.adaL2 = await api.signIn("ada.admin@demo.test", 2);
  t.otto = await api.signIn("otto.operator@demo.test");
  t.milo = await api.signIn("milo.member@demo.test");
  const { token } = await (await as(t.ada)).impersonation.impersonate({ coworkerId: 46 });
  t.impersonated = (await (await as(null)).impersonation.exchange({ token })).accessToken!;
});
afterAll(() => api.close());

describe("who may manage webhooks", () => {
  it("answers 401 to anyone but an admin of the active location, on every procedure", async () => {
    const { id } = await (await as(t.ada)).webhooks.registerWebhook(HOOK);
    expect(decodeJwt(t.impersonated).act).toBeDefined();
    for (const [label, bearer] of [
      ["anonymous", null],
      ["member", t.milo],
      ["operator", t.otto],
      ["impersonated session", t.impersonated],
    ] as const) {
      const caller = await as(bearer);
      await expectRefused(caller.webhooks.listWebhooks(), 401, "unauthorized", label);
      await expectRefused(caller.webhooks.registerWebhook(HOOK), 401, "unauthorized", label);
      await expectRefused(caller.webhooks.removeWebhook({ id }), 401, "unauthorized", label);
      await expectRefused(caller.webhooks.listDeliveries({ id }), 401, "unauthorized", label);
    }
    // An admin of another location (Ada, active in Riverside) sees none of Downtown's.
    const riverside = await as(t.adaL2);
    expect((await riverside.webhooks.listWebhooks()).items).toEqual([]);
    await expectRefused(riverside.webhooks.removeWebhook({ id }), 404, "not_found");
    await expectRefused(riverside.webhooks.listDeliveries({ id }), 404, "not_found");
    expect((await (await as(t.ada)).webhooks.listWebhooks()).items.map((w) => w.id)).toContain(id);
    await (await as(t.ada)).webhooks.removeWebhook({ id });
  });
});

describe("registering", () => {
  it("answers the secret once (whsec_ + base64 of a 32-byte key) and never lists it", async () => {
    const admin = await as(t.ada);
    const registered = await admin.webhooks.registerWebhook(HOOK);
    expect(registered).toEqual({
      id: expect.any(Number) as number,
      ...HOOK,
      secret: expect.any(String) as string,
    });
    expect(registered.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(registered.secret.slice(6), "base64")).toHaveLength(32);
    // The library takes it as it is.
    expect(() => new Webhook(registered.secret)).not.toThrow();
    const listed = await admin.webhooks.listWebhooks();
    expect(listed.items).toContainEqual({ id: registered.id, ...HOOK });
    expect(JSON.stringify(listed)).not.toContain(registered.secret.slice(6));
    // At rest it is sealed: neither the key nor its base64 is in the row.
    const [stored] = await rows<{ secret: string }>(
      sql`select secret from webhooks where id = ${registered.id}`,
    );
    expect(stored!.secret).toMatch(/^v1\./);
    expect(stored!.secret).not.toContain(registered.secret.slice(6));
    await admin.webhooks.removeWebhook({ id: registered.id });
  });

  it("audits registration and removal in the location's log, by the admin", async () => {
    const admin = await as(t.ada);
    const { id } = await admin.webhooks.registerWebhook({ ...HOOK, events: ["*"] });
    await admin.webhooks.removeWebhook({ id });
    const events = await rows<{
      type: string;
      actor_user_id: number;
      location_id: number;
      detail: string;
    }>(
      sql`select type, actor_user_id, location_id, detail from audit_events
          where type like 'webhook.%' and detail like ${`webhook ${id} %`} order by id`,
    );
    expect(events).toEqual([
      {
        type: "webhook.registered",
        actor_user_id: 1,
        location_id: 1,
        detail: `webhook ${id} (standard-webhooks): ${HOOK.url}`,
      },
      {
        type: "webhook.removed",
        actor_user_id: 1,
        location_id: 1,
        detail: `webhook ${id} (standard-webhooks): ${HOOK.url}`,
      },
    ]);
    const { items } = await admin.audit.listEvents({ limit: 5 });
    expect(items.map((item) => item.type)).toContain("webhook.removed");
    // Gone: a second removal and its deliveries answer 404.
    await expectRefused(admin.webhooks.removeWebhook({ id }), 404, "not_found");
    await expectRefused(admin.webhooks.listDeliveries({ id }), 404, "not_found");
  });

  it("refuses, with 400 and nothing stored, URLs that may not be called and malformed input", async () => {
    const admin = await as(t.ada);
    const before = await webhookCount();
    const refused: [string, unknown][] = [
      ["a private address", { ...HOOK, url: "https://10.0.0.1/hook" }],
      ["a private address (192.168)", { ...HOOK, url: "https://192.168.1.20/hook" }],
      ["the metadata address", { ...HOOK, url: "https://169.254.169.254/latest/meta-data" }],
      ["IPv6 loopback", { ...HOOK, url: "https://[::1]/hook" }],
      ["IPv4-mapped loopback", { ...HOOK, url: "https://[::ffff:127.0.0.1]/hook" }],
      ["IPv6 unique-local", { ...HOOK, url: "https://[fd00::1]/hook" }],
      ["CGNAT", { ...HOOK, url: "https://100.64.0.1/hook" }],
      ["unspecified", { ...HOOK, url: "https://0.0.0.0/hook" }],
      ["loopback in decimal", { ...HOOK, url: "https://2130706433/hook" }],
      ["localhost", { ...HOOK, url: "https://localhost/hook" }],
      ["a single-label name", { ...HOOK, url: "https://intranet/hook" }],
      ["http with a public host", { ...HOOK, url: "http://hooks.example.com/hook" }],
      ["ftp", { ...HOOK, url: "ftp://hooks.example.com/hook" }],
      ["file", { ...HOOK, url: "file:///etc/passwd" }],
      ["credentials in the URL", { ...HOOK, url: "https://user:pass@hooks.example.com/" }],
      ["not a URL", { ...HOOK, url: "hooks.example.com" }],
      ["an unknown event type", { ...HOOK, events: ["impersonation.nonsense"] }],
      ["no event", { ...HOOK, events: [] }],
      ["a type twice", { ...HOOK, events: ["signin", "signin"] }],
      ["* beside a type", { ...HOOK, events: ["*", "signin"] }],
      ["an unknown format", { ...HOOK, format: "cloudevents" }],
      ["caep with a type list", { ...HOOK, format: "caep", events: ["impersonation.stopped"] }],
      ["no url", { events: HOOK.events, format: HOOK.format }],
      ["no events", { url: HOOK.url, format: HOOK.format }],
      ["no format", { url: HOOK.url, events: HOOK.events }],
      ["an unknown field", { ...HOOK, secret: "mine" }],
    ];
    for (const [label, input] of refused) {
      await expectRefused(
        admin.webhooks.registerWebhook(input as typeof HOOK),
        400,
        "invalid_request",
        label,
      );
    }
    expect(await webhookCount()).toBe(before);
  });

  it("accepts https with a public host, and hosts named in OUTBOUND_ALLOW_HOSTS over http too", async () => {
    const admin = await as(t.ada);
    for (const url of [
      "https://hooks.example.com/a",
      "https://93.184.215.14:8443/a",
      "https://[2606:4700::1111]/a",
      "http://receiver.internal:8080/a",
      "http://10.1.2.3/a",
    ]) {
      const { id } = await admin.webhooks.registerWebhook({ ...HOOK, url });
      await admin.webhooks.removeWebhook({ id });
    }
    const caep = await admin.webhooks.registerWebhook({ ...HOOK, format: "caep", events: ["*"] });
    expect(caep).toMatchObject({ format: "caep", events: ["*"] });
    await admin.webhooks.removeWebhook({ id: caep.id });
  });
});

describe("the REST door (/api/sys/webhooks)", () => {
  let requests = 0;
  const call = (
    handler: (typeof rest)[keyof typeof rest],
    input: {
      method: string;
      path: string;
      bearer?: string;
      body?: string;
      params?: Record<string, string>;
    },
  ): Promise<RestAnswer> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (input.bearer) headers.authorization = `Bearer ${input.bearer}`;
    return handler({
      request: {
        method: input.method,
        url: input.path,
        header: (name) => headers[name.toLowerCase()] ?? null,
        body: input.body ?? "",
      },
      deps: api.deps,
      meta: { ip: "203.0.113.9", requestId: `webhooks-${++requests}`, ...testTimes() },
      ...(input.params ? { params: input.params } : {}),
    });
  };
  const json = (answer: RestAnswer) => JSON.parse(answer.body ?? "null") as Record<string, unknown>;

  it("registers (201), lists, lists attempts and removes (204), as the contract says", async () => {
    const created = await call(rest.registerWebhook, {
      method: "POST",
      path: "/api/sys/webhooks",
      bearer: t.ada,
      body: JSON.stringify(HOOK),
    });
    expect(created.status).toBe(201);
    const { id, secret } = json(created) as { id: number; secret: string };
    expect(json(created)).toEqual({ id, ...HOOK, secret });
    const listed = await call(rest.listWebhooks, {
      method: "GET",
      path: "/api/sys/webhooks",
      bearer: t.ada,
    });
    expect(listed.status).toBe(200);
    expect(json(listed).items as unknown[]).toContainEqual({ id, ...HOOK });
    const params = { id: String(id) };
    const deliveries = await call(rest.webhookDeliveries, {
      method: "GET",
      path: `/api/sys/webhooks/${id}/deliveries`,
      bearer: t.ada,
      params,
    });
    expect({ status: deliveries.status, body: json(deliveries) }).toEqual({
      status: 200,
      body: { items: [] },
    });
    const removed = await call(rest.removeWebhook, {
      method: "DELETE",
      path: `/api/sys/webhooks/${id}`,
      bearer: t.ada,
      params,
    });
    expect(removed.status).toBe(204);
    const again = await call(rest.removeWebhook, {
      method: "DELETE",
      path: `/api/sys/webhooks/${id}`,
      bearer: t.ada,
      params,
    });
    expect({ status: again.status, error: json(again).error }).toEqual({
      status: 404,
      error: "not_found",
    });
  });

  it("answers 400 to a refused URL or a bad id, 401 without a bearer", async () => {
    const refused = await call(rest.registerWebhook, {
      method: "POST",
      path: "/api/sys/webhooks",
      bearer: t.ada,
      body: JSON.stringify({ ...HOOK, url: "https://169.254.169.254/" }),
    });
    expect({ status: refused.status, error: json(refused).error }).toEqual({
      status: 400,
      error: "invalid_request",
    });
    const garbled = await call(rest.registerWebhook, {
      method: "POST",
      path: "/api/sys/webhooks",
      bearer: t.ada,
      body: "{",
    });
    expect(garbled.status).toBe(400);
    const badId = await call(rest.removeWebhook, {
      method: "DELETE",
      path: "/api/sys/webhooks/x",
      bearer: t.ada,
      params: { id: "x" },
    });
    expect({ status: badId.status, error: json(badId).error }).toEqual({
      status: 400,
      error: "invalid_request",
    });
    const anonymous = await call(rest.listWebhooks, { method: "GET", path: "/api/sys/webhooks" });
    expect({ status: anonymous.status, error: json(anonymous).error }).toEqual({
      status: 401,
      error: "unauthorized",
    });
  });
});
