// CAEP session-revoked (CONTRACT §9): every way an impersonated session ends is pushed, once, to
// the location's caep webhooks as a Security Event Token, verified here with jose against the
// service's JWKS. The ends that write (stop, actor sign-out, termination by an admin or the
// member, consent revoked, policy off) are queued by the trigger on sessions in their own
// statement; those that come without a write (expiry, demotion) by the worker's sweep.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../testing";
import { type Receiver, startReceiver } from "./testing-receiver";
import { startWebhookWorker, type WebhookWorker } from "./worker";

const SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

let api: TestApi;
let target: Receiver;
let worker: WebhookWorker;
let admin = "";
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (bearer: string | null) => api.caller(bearer);
const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

beforeAll(async () => {
  api = await createTestApi(
    { impersonateLimitPerMinute: 100_000 },
    { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" },
  );
  admin = await api.signIn("ada.admin@demo.test");
  target = await startReceiver();
  // RFC 8935: the receiver accepts a SET with 202.
  target.answer = () => 202;
  worker = startWebhookWorker({ deps: api.deps, logger: silent, pollMs: 3_600_000 });
});
beforeEach(async () => {
  target.received.length = 0;
  await (
    await as(admin)
  ).webhooks.registerWebhook({
    url: target.url("/caep"),
    events: ["*"],
    format: "caep",
  });
});
afterEach(async () => {
  await rows(sql`delete from webhooks`);
  await rows(sql`update location_policies set impersonation = true, staff_consent_required = false,
    team_consent_required = false`);
});
afterAll(async () => {
  await worker.stop();
  await target.close();
  await api.close();
});

/** Otto (operator) enters a member's account; answers Otto's own token and the session's. */
async function impersonate(coworkerId = 42) {
  const otto = await api.signIn("otto.operator@demo.test");
  const { token } = await (await as(otto)).impersonation.impersonate({ coworkerId });
  const session = (await (await as(null)).impersonation.exchange({ token })).accessToken!;
  return { otto, session, sid: sidOf(session) };
}

/** Delivers what is due, then answers the verified SETs that name `sid`. */
async function setsFor(sid: string) {
  await worker.drain();
  await worker.drain();
  const jwks = createLocalJWKSet(api.deps.signer.keys.jwks);
  const found = [];
  for (const request of target.received) {
    expect(request.headers["content-type"]).toBe("application/secevent+jwt");
    const { payload, protectedHeader } = await jwtVerify(request.body, jwks, {
      issuer: "http://portal.test",
      audience: target.url("/caep"),
      typ: "secevent+jwt",
      algorithms: ["EdDSA"],
    });
    expect(protectedHeader.kid).toBe(api.deps.signer.keys.signing.kid);
    const events = payload.events as Record<
      string,
      {
        subject: { format: string; id: string };
        event_timestamp: number;
        reason_admin?: { en: string };
      }
    >;
    expect(Object.keys(events)).toEqual([SESSION_REVOKED]);
    const event = events[SESSION_REVOKED]!;
    if (event.subject.id !== sid) continue;
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof payload.iat).toBe("number");
    expect(payload.exp).toBeUndefined();
    expect(payload.sub).toBeUndefined();
    expect(event.subject).toEqual({ format: "opaque", id: sid });
    expect(Math.abs(event.event_timestamp - Date.now() / 1000)).toBeLessThan(120);
    found.push({ payload, event });
  }
  return found;
}

async function expectOneSet(sid: string, reason: string) {
  const sets = await setsFor(sid);
  expect(sets).toHaveLength(1);
  expect(sets[0]!.event.reason_admin).toEqual({ en: reason });
  // Delivered: a later round sends it no more.
  expect(await setsFor(sid)).toHaveLength(1);
  const [row] = await rows<{ status: number }>(
    sql`select status from webhook_attempts order by id desc limit 1`,
  );
  expect(row!.status).toBe(202);
}

describe("every end of an impersonated session is pushed once as a session-revoked SET", () => {
  it("stop", async () => {
    const { session, sid } = await impersonate();
    await (await as(session)).impersonation.stopImpersonating();
    await expectOneSet(sid, "stopped");
  });

  it("expiry (no write when it happens: found by the sweep)", async () => {
    const { sid } = await impersonate();
    // Its hour runs out now, after the webhook was registered.
    await rows(sql`update sessions set expires_at = now() where id = ${sid}`);
    await expectOneSet(sid, "expired");
  });

  it("an expiry from before the webhook existed is not news to it", async () => {
    const { sid } = await impersonate();
    await rows(sql`update sessions set expires_at = now() - interval '1 hour' where id = ${sid}`);
    expect(await setsFor(sid)).toHaveLength(0);
    // Noted all the same: later sweeps do not look at it again.
    const [row] = await rows<{ noted: boolean }>(
      sql`select caep_noted_at is not null as noted from sessions where id = ${sid}`,
    );
    expect(row!.noted).toBe(true);
  });

  it("no location without a caep webhook is swept: nobody there is to be told", async () => {
    await rows(sql`delete from webhooks`);
    const { sid } = await impersonate();
    await rows(sql`update sessions set expires_at = now() where id = ${sid}`);
    await worker.drain();
    const [row] = await rows<{ noted: boolean }>(
      sql`select caep_noted_at is not null as noted from sessions where id = ${sid}`,
    );
    expect(row!.noted).toBe(false);
  });

  it("the actor signs out", async () => {
    const { otto, sid } = await impersonate();
    await (await as(otto)).auth.signOut();
    await expectOneSet(sid, "signed_out");
  });

  it("the actor is demoted (found by the sweep)", async () => {
    const { session, sid } = await impersonate();
    await rows(sql`delete from staff_roles where user_id = 2 and location_id = 1`);
    try {
      await expect((await as(session)).auth.me()).rejects.toThrow();
      await expectOneSet(sid, "grant_no_longer_valid");
    } finally {
      await rows(
        sql`insert into staff_roles (user_id, location_id, role) values (2, 1, 'operator')`,
      );
    }
    // Told it ended, the receiver can rely on it: promoted again, the actor does not get it back.
    await expect((await as(session)).auth.me()).rejects.toThrow();
  });

  it("the member revokes the consent it stood on", async () => {
    await (await as(admin)).policy.updatePolicy({ staffConsent: "required" });
    const milo = await api.signIn("milo.member@demo.test");
    const { id: grantId } = await (
      await as(milo)
    ).supportAccess.grantSupportAccess({ grantedTo: "staff", hours: 1, mode: "full" });
    const { sid } = await impersonate();
    await (await as(milo)).supportAccess.revokeSupportAccess({ grantId });
    await expectOneSet(sid, "consent_revoked");
  });

  it("an admin terminates it", async () => {
    const { sid } = await impersonate();
    await (await as(admin)).oversight.endImpersonation({ sessionId: sid });
    await expectOneSet(sid, "terminated_by_admin");
  });

  it("the member terminates it", async () => {
    const { sid } = await impersonate();
    const milo = await api.signIn("milo.member@demo.test");
    await (await as(milo)).supportAccess.endImpersonation({ sessionId: sid });
    await expectOneSet(sid, "terminated_by_member");
  });

  it("the location's policy switches impersonation off", async () => {
    const { sid } = await impersonate();
    await (await as(admin)).policy.updatePolicy({ impersonation: "off" });
    await expectOneSet(sid, "policy_off");
  });
});

describe("what caep webhooks do not get", () => {
  it("no SET for a member's own session, for sessions of another location, or for ends before registration", async () => {
    const milo = await api.signIn("milo.member@demo.test");
    await (await as(milo)).auth.signOut();
    const riverside = await api.signIn("ada.admin@demo.test", 2);
    const { token } = await (await as(riverside)).impersonation.impersonate({ coworkerId: 51 });
    const elsewhere = (await (await as(null)).impersonation.exchange({ token })).accessToken!;
    await (await as(elsewhere)).impersonation.stopImpersonating();
    await rows(sql`delete from webhooks`);
    const { session, sid } = await impersonate();
    await (await as(session)).impersonation.stopImpersonating();
    await worker.drain();
    await worker.drain();
    expect(target.received).toEqual([]);
    expect(await setsFor(sid)).toEqual([]);
  });
});
