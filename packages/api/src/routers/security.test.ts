// Step-up and one-time codes (CONTRACT §10) through the real procedures: issuing needs a recent
// proof (with the code where an app is enrolled), reauthenticate renews it under the sign-in
// limits, and each code counts once. Attacked from every side: stale sessions, impersonated
// sessions, anonymous callers, wrong and replayed codes, concurrent reauthentications.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { Secret } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeAt } from "../services/totp";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused, refusal } from "../testing-refusals";

const MAX_AGE = 300;
const ADA = "ada.admin@demo.test";
const OTTO = "otto.operator@demo.test";
const TESS = "tess.teamadmin@demo.test";
const MILO = "milo.member@demo.test";
const RITA = "rita.riverside@demo.test";
const SAM = "sam.second@demo.test";
const STEP_MS = 30_000;

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({
    impersonateLimitPerMinute: 100_000,
    signinLimitPer15Minutes: 3,
    stepUpMaxAgeS: MAX_AGE,
  });
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (token: string | null, ip?: string) => api.caller(token, ip);

/** The session's id, from its access token (the `sid` claim). */
const sidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { sid: string }).sid;

/** Moves the session's proof `seconds` into the past, as time passing would. */
const age = (token: string, seconds: number) =>
  rows(
    sql`update sessions set auth_time = now() - make_interval(secs => ${seconds}) where id = ${sidOf(token)}`,
  );

const grants = async (actorEmail: string) =>
  (
    await rows<{ n: number }>(
      sql`select count(*)::int as n from impersonation_grants g join users u on u.id = g.actor_user_id where u.email = ${actorEmail}`,
    )
  )[0]!.n;

const refusedIssues = async (actorEmail: string) =>
  (
    await rows<{ n: number }>(
      sql`select count(*)::int as n from audit_events e join users u on u.id = e.actor_user_id
          where u.email = ${actorEmail} and e.type = 'impersonation.issued' and e.outcome = 'refused'
            and e.detail = 'step_up_required'`,
    )
  )[0]!.n;

const PASSWORD: Record<string, string> = {
  [ADA]: "demo-admin-pass",
  [OTTO]: "demo-operator-pass",
};
const passwordOf = (email: string) => PASSWORD[email] ?? "demo-member-pass";

describe("step-up before issuing (CONTRACT §10)", () => {
  it("counts a fresh sign-in as a step-up: me shows authTime and amr, and issuing works", async () => {
    const ada = await api.signIn(ADA);
    const me = await (await as(ada)).auth.me();
    expect(me.amr).toEqual(["pwd"]);
    expect(Math.abs(Date.parse(me.authTime) - Date.now())).toBeLessThan(5000);
    const issued = await (await as(ada)).impersonation.impersonate({ coworkerId: 42 });
    expect(issued.token.split(".")).toHaveLength(3);
  });

  it("refuses both routes once the proof is older than the max age: 401 step_up_required with the RFC 9470 challenge, audited, no grant", async () => {
    const otto = await api.signIn(OTTO);
    const tess = await api.signIn(TESS);
    await age(otto, MAX_AGE + 1);
    await age(tess, MAX_AGE + 1);
    const grantsBefore = (await grants(OTTO)) + (await grants(TESS));
    const staff = await refusal((await as(otto)).impersonation.impersonate({ coworkerId: 42 }));
    const team = await refusal(
      (await as(tess)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
    );
    for (const error of [staff, team]) {
      expect({ status: error.status, code: error.code }).toEqual({
        status: 401,
        code: "step_up_required",
      });
      expect(error.challenge).toBe(
        `Bearer error="insufficient_user_authentication", max_age=${MAX_AGE}`,
      );
    }
    expect((await grants(OTTO)) + (await grants(TESS))).toBe(grantsBefore);
    expect(await refusedIssues(OTTO)).toBe(1);
    expect(await refusedIssues(TESS)).toBe(1);
    const [event] = await rows<{ kind: string; outcome: string; location_id: number }>(
      sql`select e.kind, e.outcome, e.location_id from audit_events e join users u on u.id = e.actor_user_id
          where u.email = ${TESS} and e.detail = 'step_up_required'`,
    );
    expect(event).toEqual({ kind: "team", outcome: "refused", location_id: 1 });
  });

  it("still accepts a proof just inside the max age", async () => {
    const otto = await api.signIn(OTTO);
    await age(otto, MAX_AGE - 5);
    await expect(
      (await as(otto)).impersonation.impersonate({ coworkerId: 42 }),
    ).resolves.toBeDefined();
  });

  it("answers a member who administers no team with 403, not with a step-up", async () => {
    const milo = await api.signIn(MILO);
    await age(milo, MAX_AGE + 1);
    await expectRefused(
      (await as(milo)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      403,
      "forbidden",
    );
  });

  it("lets a stale session issue again after reauthenticate (authTime is now)", async () => {
    const otto = await api.signIn(OTTO);
    await age(otto, MAX_AGE + 60);
    await expectRefused(
      (await as(otto)).impersonation.impersonate({ coworkerId: 42 }),
      401,
      "step_up_required",
    );
    await expect(
      (await as(otto)).security.reauthenticate({ password: passwordOf(OTTO) }),
    ).resolves.toBeUndefined();
    const me = await (await as(otto)).auth.me();
    expect(me.amr).toEqual(["pwd"]);
    expect(Math.abs(Date.parse(me.authTime) - Date.now())).toBeLessThan(5000);
    await expect(
      (await as(otto)).impersonation.impersonate({ coworkerId: 42 }),
    ).resolves.toBeDefined();
    const [event] = await rows<{ outcome: string; detail: string }>(
      sql`select outcome, detail from audit_events where type = 'session.reauthenticated' and session_id = ${sidOf(otto)}`,
    );
    expect(event).toEqual({ outcome: "success", detail: "pwd" });
  });

  it("does not ask the exchange or the impersonated session for the actor's step-up", async () => {
    const ada = await api.signIn(ADA);
    const { token } = await (await as(ada)).impersonation.impersonate({ coworkerId: 43 });
    await age(ada, MAX_AGE + 60);
    const { accessToken } = await (await as(null)).impersonation.exchange({ token });
    const member = await (await as(accessToken)).auth.me();
    expect(member.impersonation?.actor.userId).toBe(1);
    expect(member.amr).toEqual([]);
  });
});

describe("reauthenticate", () => {
  it("answers 401 without a session and 403 from an impersonated one", async () => {
    await expectRefused(
      (await as(null)).security.reauthenticate({ password: "x" }),
      401,
      "unauthorized",
    );
    const ada = await api.signIn(ADA);
    const { token } = await (await as(ada)).impersonation.impersonate({ coworkerId: 43 });
    const { accessToken } = await (await as(null)).impersonation.exchange({ token });
    await expectRefused(
      (await as(accessToken)).security.reauthenticate({ password: "demo-member-pass" }),
      403,
      "forbidden",
    );
  });

  it("refuses a wrong password with 400 invalid_grant and leaves the proof as it was", async () => {
    const sam = await api.signIn(SAM);
    await age(sam, 1000);
    const before = (await (await as(sam)).auth.me()).authTime;
    await expectRefused(
      (await as(sam, "198.51.100.1")).security.reauthenticate({ password: "wrong" }),
      400,
      "invalid_grant",
    );
    expect((await (await as(sam)).auth.me()).authTime).toBe(before);
  });

  it("counts failures by the sign-in limits: once reached, 429 for a correct password too, and for sign-in", async () => {
    const rita = await api.signIn(RITA);
    // Three failures on three addresses: the account's limit (3), not any address's.
    for (const ip of ["198.51.100.11", "198.51.100.12", "198.51.100.13"]) {
      await expectRefused(
        (await as(rita, ip)).security.reauthenticate({ password: "wrong" }),
        400,
        "invalid_grant",
      );
    }
    await expectRefused(
      (await as(rita, "198.51.100.14")).security.reauthenticate({ password: "demo-member-pass" }),
      429,
      "throttled",
    );
    await expectRefused(
      (await as(null, "198.51.100.15")).auth.signIn({ email: RITA, password: "demo-member-pass" }),
      429,
      "throttled",
    );
  });
});

describe("one-time codes (RFC 6238)", () => {
  let tess: string;
  let secret: Uint8Array;

  beforeAll(async () => {
    tess = await api.signIn(TESS);
  });

  it("enrols: a 160-bit base32 secret and its otpauth URI; enrolling again before confirming replaces it", async () => {
    const first = await (await as(tess)).security.enrolOtp();
    const second = await (await as(tess)).security.enrolOtp();
    expect(second.secret).not.toBe(first.secret);
    expect(second.secret).toMatch(/^[A-Z2-7]{32,}$/);
    expect(Secret.fromBase32(second.secret).bytes.byteLength).toBeGreaterThanOrEqual(20);
    const uri = new URL(second.otpauthUri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({
      secret: second.secret,
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
    // Only the newest secret confirms: a code of the replaced one is wrong.
    await expectRefused(
      (await as(tess)).security.confirmOtp({
        code: codeAt(Secret.fromBase32(first.secret).bytes, Date.now()),
      }),
      400,
      "invalid_grant",
    );
    // The secret is sealed at rest: the stored text is not the secret in any spelling.
    const [stored] = await rows<{ secret: string }>(
      sql`select o.secret from otp_credentials o join users u on u.id = o.user_id where u.email = ${TESS}`,
    );
    expect(stored!.secret).toMatch(/^v1\./);
    expect(stored!.secret).not.toContain(second.secret);
    expect(
      Buffer.from(stored!.secret.slice(3), "base64url").includes(
        Buffer.from(Secret.fromBase32(second.secret).bytes),
      ),
    ).toBe(false);
    secret = new Uint8Array(Secret.fromBase32(second.secret).bytes);
  });

  it("confirms with a code of the current step: 204, audited otp.enrolled; enrolling again is 409", async () => {
    await expectRefused(
      (await as(tess)).security.confirmOtp({ code: "000000x" }),
      400,
      "invalid_grant",
    );
    await expect(
      (await as(tess)).security.confirmOtp({ code: codeAt(secret, Date.now()) }),
    ).resolves.toBeUndefined();
    expect(await (await as(tess)).security.otpStatus()).toEqual({
      enrolled: true,
      pending: false,
      stepUpMaxAgeSeconds: MAX_AGE,
    });
    await expectRefused((await as(tess)).security.enrolOtp(), 409, "already_enrolled");
    await expectRefused(
      (await as(tess)).security.confirmOtp({ code: codeAt(secret, Date.now()) }),
      409,
      "already_enrolled",
    );
    const [event] = await rows<{ outcome: string }>(
      sql`select e.outcome from audit_events e join users u on u.id = e.actor_user_id where u.email = ${TESS} and e.type = 'otp.enrolled'`,
    );
    expect(event).toEqual({ outcome: "success" });
  });

  it("does not count a password-only sign-in of an enrolled actor as a step-up", async () => {
    const fresh = await api.signIn(TESS);
    expect((await (await as(fresh)).auth.me()).amr).toEqual(["pwd"]);
    await expectRefused(
      (await as(fresh)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
      401,
      "step_up_required",
    );
  });

  it("asks reauthenticate for the code: missing or wrong is 400; the code of the next step steps up with amr otp; used again it is refused", async () => {
    await expectRefused(
      (await as(tess, "198.51.100.31")).security.reauthenticate({ password: "demo-member-pass" }),
      400,
      "invalid_grant",
    );
    await expectRefused(
      (await as(tess, "198.51.100.32")).security.reauthenticate({
        password: "demo-member-pass",
        otp: codeAt(secret, Date.now() + 5 * STEP_MS),
      }),
      400,
      "invalid_grant",
    );
    // The code confirm used (this step's) is used: only a later step's code counts.
    const next = codeAt(secret, Date.now() + STEP_MS);
    await expect(
      (await as(tess, "198.51.100.33")).security.reauthenticate({
        password: "demo-member-pass",
        otp: next,
      }),
    ).resolves.toBeUndefined();
    expect((await (await as(tess)).auth.me()).amr.sort()).toEqual(["otp", "pwd"]);
    await expect(
      (await as(tess)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
    ).resolves.toBeDefined();
    // The same code again, on another session of the same account: refused (used).
    const other = await api.signIn(TESS);
    await expectRefused(
      (await as(other, "198.51.100.34")).security.reauthenticate({
        password: "demo-member-pass",
        otp: next,
      }),
      400,
      "invalid_grant",
    );
    expect((await (await as(other)).auth.me()).amr).toEqual(["pwd"]);
    // The failures above were counted; give the account's window back for what follows.
    await rows(sql`delete from throttle_hits where key like 'signin:%'`);
    await rows(sql`delete from throttle_log where key like 'signin:%'`);
  });

  it("removes the app only after a step-up with the code within the max age", async () => {
    // A password-only session of the enrolled account: refused with the challenge.
    const passwordOnly = await api.signIn(TESS);
    const error = await refusal((await as(passwordOnly)).security.removeOtp());
    expect({ status: error.status, code: error.code, challenge: error.challenge }).toEqual({
      status: 401,
      code: "step_up_required",
      challenge: `Bearer error="insufficient_user_authentication", max_age=${MAX_AGE}`,
    });
    // The stepped-up session, once its proof is too old: refused too.
    await age(tess, MAX_AGE + 1);
    await expectRefused((await as(tess)).security.removeOtp(), 401, "step_up_required");
    await age(tess, 10);
    await expect((await as(tess)).security.removeOtp()).resolves.toBeUndefined();
    expect((await (await as(tess)).security.otpStatus()).enrolled).toBe(false);
    await expectRefused((await as(tess)).security.removeOtp(), 404, "not_found");
    const [event] = await rows<{ outcome: string }>(
      sql`select e.outcome from audit_events e join users u on u.id = e.actor_user_id where u.email = ${TESS} and e.type = 'otp.removed'`,
    );
    expect(event).toEqual({ outcome: "success" });
    // Without an app, a password-only sign-in steps up again.
    await expect(
      (await as(passwordOnly)).impersonation.impersonateTeamMember({ coworkerId: 43 }),
    ).resolves.toBeDefined();
  });

  it("accepts a code at most once when two reauthentications race with it", async () => {
    const otto = await api.signIn(OTTO);
    const { secret: text } = await (await as(otto)).security.enrolOtp();
    const bytes = new Uint8Array(Secret.fromBase32(text).bytes);
    await (await as(otto)).security.confirmOtp({ code: codeAt(bytes, Date.now() - STEP_MS) });
    const code = codeAt(bytes, Date.now() + STEP_MS);
    const sessions = [await api.signIn(OTTO), await api.signIn(OTTO), await api.signIn(OTTO)];
    const results = await Promise.allSettled(
      sessions.map(async (session, index) =>
        (await as(session, `198.51.100.4${index}`)).security.reauthenticate({
          password: passwordOf(OTTO),
          otp: code,
        }),
      ),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
  });

  it("answers 401 without a session and 403 from an impersonated one, on all three", async () => {
    const anonymous = await as(null);
    await expectRefused(anonymous.security.enrolOtp(), 401, "unauthorized");
    await expectRefused(anonymous.security.confirmOtp({ code: "123456" }), 401, "unauthorized");
    await expectRefused(anonymous.security.removeOtp(), 401, "unauthorized");
    const ada = await api.signIn(ADA);
    const { token } = await (await as(ada)).impersonation.impersonate({ coworkerId: 43 });
    const { accessToken } = await (await as(null)).impersonation.exchange({ token });
    const impersonated = await as(accessToken);
    await expectRefused(impersonated.security.enrolOtp(), 403, "forbidden");
    await expectRefused(impersonated.security.confirmOtp({ code: "123456" }), 403, "forbidden");
    await expectRefused(impersonated.security.removeOtp(), 403, "forbidden");
    await expectRefused(impersonated.security.otpStatus(), 403, "forbidden");
  });
});
