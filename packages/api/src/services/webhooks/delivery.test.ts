// Delivery of standard-webhooks messages (CONTRACT §9) to a real HTTP receiver on loopback
// (allowed by OUTBOUND_ALLOW_HOSTS): signatures checked with the standardwebhooks library and by
// an HMAC computed here, retries with the same webhook-id, the attempts listed, seq order per
// webhook, the outbound address rules at delivery, and two workers on one database.
import { createHmac } from "node:crypto";
import { createPostgres, queryRows } from "@cowork/db";
import { testDriver } from "@cowork/db/testing";
import { type SQL, sql } from "drizzle-orm";
import { register as metricsRegistry } from "prom-client";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OutboundAllowList } from "../../outbound";
import { createTestApi, type TestApi } from "../../testing";
import { sealAll } from "../audit-log/seal";
import { type ServiceDeps } from "../deps";
import { type Receiver, startReceiver } from "./testing-receiver";
import { startWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from "./worker";

let api: TestApi;
let admin = "";
const receivers: Receiver[] = [];
const workers: WebhookWorker[] = [];
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);

beforeAll(async () => {
  api = await createTestApi({}, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1,localhost" });
  admin = await api.signIn("ada.admin@demo.test");
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  await rows(sql`delete from webhooks`);
});
afterAll(() => api.close());

async function receiver() {
  const started = await startReceiver();
  receivers.push(started);
  return started;
}

/** A worker that only works when told (drain), with quick retries unless told otherwise. */
function worker(options: Partial<WebhookWorkerOptions> = {}) {
  const started = startWebhookWorker({
    deps: api.deps,
    logger: silent,
    pollMs: 3_600_000,
    timeoutMs: 2000,
    retryDelayS: () => 0,
    ...options,
  });
  workers.push(started);
  return started;
}

/** Waits for a poll under way, then delivers everything due now. */
async function flush(target: WebhookWorker) {
  await target.drain();
  return target.drain();
}

async function register(url: string, events: string[] = ["signin"]) {
  return (await api.caller(admin)).webhooks.registerWebhook({
    url,
    events: events as ["signin"],
    format: "standard-webhooks",
  });
}

/** Writes `count` sign-in events in Downtown (location 1). */
async function signIns(count: number) {
  for (let index = 0; index < count; index++) await api.signIn("milo.member@demo.test");
}

const keyOf = (secret: string) => Buffer.from(secret.slice("whsec_".length), "base64");

interface Delivered {
  type: string;
  timestamp: string;
  data: { id: number; seq: number; leafHash: string; type: string; at: string };
}
const bodyOf = (request: { body: string }) => JSON.parse(request.body) as Delivered;

describe("standard-webhooks delivery", () => {
  it("waits for the seal, signs as Standard Webhooks says, retries a failure with the same webhook-id, and lists every attempt", async () => {
    const target = await receiver();
    target.answer = (_request, index) => (index === 0 ? 500 : 200);
    const hook = await register(target.url());
    await signIns(1);
    const sender = worker();
    // Not sealed yet: nothing goes out (the data must carry seq and leafHash).
    await flush(sender);
    expect(target.received).toEqual([]);
    await sealAll(api.deps);
    await flush(sender);
    expect(target.received).toHaveLength(2);
    const [first, second] = target.received as [
      (typeof target.received)[0],
      (typeof target.received)[0],
    ];
    expect(first.headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(second.body).toBe(first.body);
    for (const request of [first, second]) {
      expect(request.method).toBe("POST");
      expect(request.headers["content-type"]).toBe("application/json");
      // The library's own verification.
      expect(() =>
        new Webhook(hook.secret).verify(request.body, request.headers as Record<string, string>),
      ).not.toThrow();
      // And the specification's HMAC, computed here: base64(HMAC-SHA256(key, id.timestamp.body)).
      const id = request.headers["webhook-id"] as string;
      const timestamp = request.headers["webhook-timestamp"] as string;
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
      const expected = createHmac("sha256", keyOf(hook.secret))
        .update(`${id}.${timestamp}.${request.body}`)
        .digest("base64");
      expect(request.headers["webhook-signature"]).toBe(`v1,${expected}`);
      // A signature under another key, or over another body, does not pass.
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(
          request.body,
          request.headers as Record<string, string>,
        ),
      ).toThrow();
      expect(() =>
        new Webhook(hook.secret).verify(
          request.body.replace('"signin"', '"signin.failed"'),
          request.headers as Record<string, string>,
        ),
      ).toThrow();
    }
    // The body: the audit item exactly as GET /api/sys/audit lists it, seq and leafHash set.
    const body = bodyOf(first);
    const listed = (await (await api.caller(admin)).audit.listEvents({ limit: 50 })).items.find(
      (item) => item.id === body.data.id,
    );
    expect(body).toEqual({ type: "signin", timestamp: listed!.at, data: listed });
    expect(body.data.seq).toBeGreaterThan(0);
    expect(body.data.leafHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { items } = await (await api.caller(admin)).webhooks.listDeliveries({ id: hook.id });
    expect(items).toEqual([
      {
        at: expect.any(String) as string,
        eventId: body.data.id,
        seq: body.data.seq,
        status: 200,
        error: null,
      },
      {
        at: expect.any(String) as string,
        eventId: body.data.id,
        seq: body.data.seq,
        status: 500,
        error: "the receiver answered 500",
      },
    ]);
    // Delivered once: nothing more goes out.
    await flush(sender);
    expect(target.received).toHaveLength(2);
  });

  it("schedules the first retry within 10 s with the default backoff", async () => {
    const target = await receiver();
    target.answer = () => 503;
    await register(target.url());
    await signIns(1);
    await sealAll(api.deps);
    const sender = worker({ retryDelayS: undefined });
    await flush(sender);
    expect(target.received).toHaveLength(1);
    const [row] = await rows<{ wait_s: number; attempts: number }>(
      sql`select extract(epoch from next_attempt_at - now())::float as wait_s, attempts
          from webhook_outbox where delivered_at is null`,
    );
    expect(row!.attempts).toBe(1);
    expect(Number(row!.wait_s)).toBeGreaterThan(0);
    expect(Number(row!.wait_s)).toBeLessThanOrEqual(10);
    // The metrics say one is waiting, and count the failed attempt.
    const metric = async (name: string) =>
      (await metricsRegistry.getSingleMetric(name)!.get()).values;
    expect((await metric("cowork_webhook_messages_waiting"))[0]!.value).toBe(1);
    expect(
      (await metric("cowork_webhook_attempts_total")).find(
        (value) => value.labels.outcome === "failed",
      )!.value,
    ).toBeGreaterThanOrEqual(1);
  });

  it("sends each webhook's first attempts in seq order, and a failing event does not hold back the next", async () => {
    const target = await receiver();
    let failedId: string | undefined;
    target.answer = (request) => {
      failedId ??= request.headers["webhook-id"] as string;
      return request.headers["webhook-id"] === failedId &&
        target.received.filter((r) => r.headers["webhook-id"] === failedId).length === 1
        ? 500
        : 200;
    };
    await register(target.url());
    await signIns(6);
    await sealAll(api.deps);
    await flush(worker({ retryDelayS: () => 3600 }));
    const seqs = target.received.map((request) => bodyOf(request).data.seq);
    expect(seqs).toHaveLength(6);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const [{ n }] = (await rows<{ n: number }>(
      sql`select count(*)::int as n from webhook_outbox where delivered_at is not null`,
    )) as [{ n: number }];
    expect(n).toBe(5);
  });

  it("sends new events' first attempts before retries that are due at the same time", async () => {
    const target = await receiver();
    target.answer = () => 500;
    await register(target.url());
    await signIns(1);
    await sealAll(api.deps);
    await flush(worker({ retryDelayS: () => 3600 }));
    const failed = bodyOf(target.received[0]!).data.seq;
    await rows(sql`update webhook_outbox set next_attempt_at = now()`);
    target.answer = () => 200;
    await signIns(2);
    await sealAll(api.deps);
    await flush(worker({ retryDelayS: () => 3600 }));
    const seqs = target.received.slice(1).map((request) => bodyOf(request).data.seq);
    expect(seqs).toHaveLength(3);
    expect(seqs.at(-1)).toBe(failed);
    expect(seqs[0]).toBeGreaterThan(failed);
    expect(seqs[1]).toBeGreaterThan(seqs[0]!);
  });

  it("only delivers the types a webhook asked for, and only the location's", async () => {
    const target = await receiver();
    await register(target.url(), ["impersonation.stopped"]);
    await signIns(2);
    // A sign-in in Riverside (location 2) with a webhook for every type in Downtown only.
    await register(target.url("/all"), ["*"]);
    await api.signIn("rita.riverside@demo.test");
    await sealAll(api.deps);
    await flush(worker());
    // The registration of /all is itself an event of Downtown's, which /all takes.
    expect(target.received.map((request) => [request.path, bodyOf(request).type])).toEqual([
      ["/all", "webhook.registered"],
    ]);
    await signIns(1);
    await sealAll(api.deps);
    await flush(worker());
    expect(target.received.map((request) => [request.path, bodyOf(request).type])).toEqual([
      ["/all", "webhook.registered"],
      ["/all", "signin"],
    ]);
  });

  it("does not follow redirects and gives up on a receiver that does not answer", async () => {
    const target = await receiver();
    target.answer = (request) =>
      request.path === "/moved" ? [302, { location: target.url("/elsewhere") }] : "hang";
    const moved = await register(target.url("/moved"));
    const slow = await register(target.url("/slow"));
    await signIns(1);
    await sealAll(api.deps);
    await flush(worker({ timeoutMs: 300, retryDelayS: () => 3600 }));
    expect(target.received.map((request) => request.path).sort()).toEqual(["/moved", "/slow"]);
    const caller = await api.caller(admin);
    expect((await caller.webhooks.listDeliveries({ id: moved.id })).items).toMatchObject([
      { status: 302, error: "the receiver answered 302" },
    ]);
    expect((await caller.webhooks.listDeliveries({ id: slow.id })).items).toMatchObject([
      { status: null, error: "no answer within 300 ms" },
    ]);
  });
});

describe("outbound addresses at delivery", () => {
  it("refuses a name that resolves to a non-public address, and connects nowhere", async () => {
    const target = await receiver();
    const caller = await api.caller(admin);
    const named = await register(`https://hooks.example.com:${target.port}/hook`);
    // Allowed when registered; the list has changed since (a worker whose configuration has none).
    const local = await register(`http://localhost:${target.port}/hook`);
    await signIns(1);
    await sealAll(api.deps);
    const deps: ServiceDeps = {
      ...api.deps,
      config: { ...api.deps.config, outboundAllowHosts: OutboundAllowList.none },
    };
    let answer = [{ address: "127.0.0.1", family: 4 }];
    await flush(worker({ deps, retryDelayS: () => 3600, resolve: () => Promise.resolve(answer) }));
    await rows(sql`update webhook_outbox set next_attempt_at = now()`);
    // One address public, another not: refused all the same.
    answer = [
      { address: "93.184.215.14", family: 4 },
      { address: "::ffff:10.0.0.1", family: 6 },
    ];
    await flush(worker({ deps, retryDelayS: () => 3600, resolve: () => Promise.resolve(answer) }));
    expect(target.received).toEqual([]);
    const attempts = (await caller.webhooks.listDeliveries({ id: named.id })).items;
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toMatchObject({
      status: null,
      error: "hooks.example.com resolves to ::ffff:10.0.0.1, not a public address",
    });
    expect(attempts.at(-1)).toMatchObject({
      status: null,
      error: "hooks.example.com resolves to 127.0.0.1, not a public address",
    });
    expect((await caller.webhooks.listDeliveries({ id: local.id })).items[0]).toMatchObject({
      status: null,
      error: "http is only for allowed hosts",
    });
  });

  it("refuses https://localhost resolved by the system when it is not allowed", async () => {
    const target = await receiver();
    const hook = await register(`https://localhost:${target.port}/hook`);
    await signIns(1);
    await sealAll(api.deps);
    const deps: ServiceDeps = {
      ...api.deps,
      config: { ...api.deps.config, outboundAllowHosts: OutboundAllowList.none },
    };
    await flush(worker({ deps, retryDelayS: () => 3600 }));
    expect(target.received).toEqual([]);
    const [attempt] = (await (await api.caller(admin)).webhooks.listDeliveries({ id: hook.id }))
      .items;
    expect(attempt).toMatchObject({ status: null });
    expect(attempt!.error).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), not a public address$/,
    );
  });
});

describe("several workers on one database", () => {
  it("never send a message twice in the normal case, and keep seq order per webhook", async () => {
    const target = await receiver();
    await register(target.url("/a"));
    await register(target.url("/b"));
    await signIns(12);
    await sealAll(api.deps);
    // On PostgreSQL the second worker has a connection pool of its own, as another process would.
    const other = testDriver() === "postgres" ? createPostgres(api.database.url!, 4) : null;
    try {
      const otherDeps: ServiceDeps = { ...api.deps, db: other?.db ?? api.database.db };
      const first = worker({ lanes: 2, batch: 3 });
      const second = worker({ deps: otherDeps, lanes: 2, batch: 3 });
      await Promise.all([flush(first), flush(second), flush(first), flush(second)]);
      const byPath = (path: string) =>
        target.received.filter((request) => request.path === path).map((r) => bodyOf(r).data.seq);
      for (const path of ["/a", "/b"]) {
        const seqs = byPath(path);
        expect(seqs).toHaveLength(12);
        expect(new Set(seqs).size).toBe(12);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      const attempts = await rows<{ n: number; workers: number }>(
        sql`select count(*)::int as n, count(distinct worker)::int as workers from webhook_attempts`,
      );
      expect(attempts[0]!.n).toBe(24);
    } finally {
      await other?.close();
    }
  });
});
