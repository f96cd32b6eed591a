// Sign-in (credentials, location rules of CONTRACT §4, throttling), who am I, and sign-out.
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, createContext } from "../context";
import { createCaller } from "../root";
import { type IssuedAccessToken } from "../services/sign-in";
import { createTestApi, testTimes, type TestApi } from "../testing";
import { expectRefused, refusal } from "../testing-refusals";

const MEMBER_PASS = "demo-member-pass";

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api.close());

const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const signIn = async (
  input: { email: string; password: string; locationId?: number },
  ip?: string,
) => (await api.caller(null, ip)).auth.signIn(input);
const me = async (token: string) => (await api.caller(token)).auth.me();

/** A user with the demo member password, inserted directly. */
async function addUser(id: number, email: string): Promise<void> {
  await rows(sql`insert into users (id, email, full_name, password_hash)
                 select ${id}, ${email}, ${`User ${id}`}, password_hash from users where id = 4`);
}

describe("signIn", () => {
  it("returns an access token naming a new server-side session", async () => {
    const result = await signIn(
      { email: "milo.member@demo.test", password: MEMBER_PASS },
      "198.51.100.90",
    );
    expect(result.expiresIn).toBeGreaterThan(12 * 3600 - 60);
    expect(result.expiresIn).toBeLessThanOrEqual(12 * 3600);
    expect(decodeProtectedHeader(result.accessToken!)).toMatchObject({
      alg: "EdDSA",
      typ: "at+jwt",
    });
    const claims = decodeJwt(result.accessToken!);
    expect(claims).toMatchObject({
      sub: "4",
      iss: "http://portal.test",
      aud: "http://portal.test/api",
    });
    expect(claims).not.toHaveProperty("act");
    const [session] = await rows<{
      user_id: number;
      location_id: number;
      coworker_id: number;
      grant_jti: string | null;
    }>(
      sql`select user_id, location_id, coworker_id, grant_jti from sessions where id = ${claims.sid as string}`,
    );
    expect(session).toEqual({ user_id: 4, location_id: 1, coworker_id: 42, grant_jti: null });
    const [event] = await rows<Record<string, unknown>>(
      sql`select type, outcome, actor_user_id, location_id, ip from audit_events where session_id = ${claims.sid as string}`,
    );
    expect(event).toEqual({
      type: "signin",
      outcome: "success",
      actor_user_id: 4,
      location_id: 1,
      ip: "198.51.100.90",
    });
  });

  it("gives each sign-in its own session", async () => {
    const first = await api.signIn("milo.member@demo.test");
    const second = await api.signIn("milo.member@demo.test");
    expect(decodeJwt(first).sid).not.toBe(decodeJwt(second).sid);
  });

  it("matches the email case-insensitively and trims it", async () => {
    const result = await signIn({ email: "  ADA.Admin@Demo.TEST ", password: "demo-admin-pass" });
    expect((await me(result.accessToken!)).userId).toBe(1);
  });

  it("answers invalid_grant with the same message for an unknown user and a wrong password, and audits both", async () => {
    const unknown = await refusal(
      signIn({ email: "nobody@demo.test", password: MEMBER_PASS }, "198.51.100.91"),
    );
    const wrong = await refusal(
      signIn({ email: "milo.member@demo.test", password: "not-the-password" }, "198.51.100.92"),
    );
    const otherCase = await refusal(
      signIn(
        { email: "milo.member@demo.test", password: MEMBER_PASS.toUpperCase() },
        "198.51.100.93",
      ),
    );
    for (const answer of [unknown, wrong, otherCase])
      expect({ status: answer.status, code: answer.code }).toEqual({
        status: 400,
        code: "invalid_grant",
      });
    expect(unknown.message).toBe(wrong.message);
    expect(unknown.message).not.toMatch(/nobody|exist|unknown/i);
    const events = await rows<{
      ip: string;
      type: string;
      outcome: string;
      actor_user_id: number | null;
      detail: string;
    }>(
      sql`select ip, type, outcome, actor_user_id, detail from audit_events where ip in ('198.51.100.91', '198.51.100.92') order by ip`,
    );
    expect(events).toEqual([
      {
        ip: "198.51.100.91",
        type: "signin.failed",
        outcome: "refused",
        actor_user_id: null,
        detail: "invalid_credentials",
      },
      {
        ip: "198.51.100.92",
        type: "signin.failed",
        outcome: "refused",
        actor_user_id: 4,
        detail: "invalid_credentials",
      },
    ]);
  });

  it("answers 400 invalid_request to malformed input", async () => {
    const inputs: unknown[] = [
      {},
      { email: "milo.member@demo.test" },
      { password: MEMBER_PASS },
      { email: "", password: MEMBER_PASS },
      { email: "   ", password: MEMBER_PASS },
      { email: "milo.member@demo.test", password: "" },
      { email: "milo.member@demo.test", password: "x".repeat(1025) },
      { email: "milo.member@demo.test", password: MEMBER_PASS, locationId: 0 },
      { email: "milo.member@demo.test", password: MEMBER_PASS, locationId: "1" },
      { email: "milo.member@demo.test", password: MEMBER_PASS, userId: 1 },
      { email: ["milo.member@demo.test"], password: MEMBER_PASS },
    ];
    for (const input of inputs) {
      await expectRefused(
        (await api.caller()).auth.signIn(input as never),
        400,
        "invalid_request",
        JSON.stringify(input),
      );
    }
  });

  it("sets the cookie and keeps the token out of the body for a browser", async () => {
    let stored: IssuedAccessToken | null = null;
    const browser: BrowserSession = {
      sessionToken: null,
      actorToken: null,
      setSession: (token) => {
        stored = token;
      },
      setActor: () => undefined,
      clearSession: () => undefined,
    };
    const caller = createCaller(
      await createContext({
        deps: api.deps,
        token: null,
        meta: { ip: "198.51.100.94", requestId: "browser", ...testTimes() },
        browser,
      }),
    );
    const result = await caller.auth.signIn({
      email: "milo.member@demo.test",
      password: MEMBER_PASS,
    });
    expect(result.accessToken).toBeNull();
    expect(stored).not.toBeNull();
    expect((await me(stored!.accessToken)).userId).toBe(4);
  });
});

describe("sign-in chooses the active location (CONTRACT §4)", () => {
  const cases: {
    name: string;
    email: string;
    locationId?: number;
    location: number;
    profile: number | null;
    staffRole: string | null;
  }[] = [
    {
      name: "a member: their profile's location",
      email: "milo.member@demo.test",
      location: 1,
      profile: 42,
      staffRole: null,
    },
    {
      name: "two profiles: the first profile (lowest id)",
      email: "nora.nomad@demo.test",
      location: 1,
      profile: 43,
      staffRole: null,
    },
    {
      name: "two profiles, the second asked for",
      email: "nora.nomad@demo.test",
      locationId: 2,
      location: 2,
      profile: 50,
      staffRole: null,
    },
    {
      name: "staff without a profile: the first staff location",
      email: "ada.admin@demo.test",
      location: 1,
      profile: null,
      staffRole: "admin",
    },
    {
      name: "staff without a profile, the second location asked for",
      email: "ada.admin@demo.test",
      locationId: 2,
      location: 2,
      profile: null,
      staffRole: "admin",
    },
    {
      name: "staff with a profile: the profile's location",
      email: "otto.operator@demo.test",
      location: 1,
      profile: 46,
      staffRole: "operator",
    },
    {
      name: "a member of the second location",
      email: "rita.riverside@demo.test",
      location: 2,
      profile: 51,
      staffRole: null,
    },
  ];

  for (const row of cases) {
    it(row.name, async () => {
      const password = row.email.startsWith("ada")
        ? "demo-admin-pass"
        : row.email.startsWith("otto")
          ? "demo-operator-pass"
          : MEMBER_PASS;
      const { accessToken } = await signIn({
        email: row.email,
        password,
        ...(row.locationId ? { locationId: row.locationId } : {}),
      });
      const who = await me(accessToken!);
      expect(who.location.id).toBe(row.location);
      expect(who.profile?.coworkerId ?? null).toBe(row.profile);
      expect(who.staffRole).toBe(row.staffRole);
    });
  }

  it("refuses a location where the user is neither staff nor has a profile with 400 invalid_request", async () => {
    const attempts = [
      { email: "otto.operator@demo.test", password: "demo-operator-pass", locationId: 2 },
      { email: "rita.riverside@demo.test", password: MEMBER_PASS, locationId: 1 },
      { email: "tess.teamadmin@demo.test", password: MEMBER_PASS, locationId: 2 },
      { email: "ada.admin@demo.test", password: "demo-admin-pass", locationId: 99 },
    ];
    for (const attempt of attempts) {
      await expectRefused(
        signIn(attempt),
        400,
        "invalid_request",
        `${attempt.email} → ${attempt.locationId}`,
      );
    }
  });

  it("picks the profile with the lowest id, not the location with the lowest id", async () => {
    await addUser(100, "two.places@demo.test");
    await rows(
      sql`insert into coworkers (id, user_id, location_id, full_name) values (30, 100, 2, 'Two Places'), (60, 100, 1, 'Two Places')`,
    );
    const { accessToken } = await signIn({ email: "two.places@demo.test", password: MEMBER_PASS });
    expect(await me(accessToken!)).toMatchObject({
      location: { id: 2 },
      profile: { coworkerId: 30 },
    });
  });

  it("prefers a profile's location over a staff location, and staff rights hold only where the session is", async () => {
    await addUser(101, "staff.elsewhere@demo.test");
    await rows(
      sql`insert into coworkers (id, user_id, location_id, full_name) values (61, 101, 2, 'Staff Elsewhere')`,
    );
    await rows(
      sql`insert into staff_roles (user_id, location_id, role) values (101, 1, 'operator')`,
    );
    const byDefault = await signIn({ email: "staff.elsewhere@demo.test", password: MEMBER_PASS });
    expect(await me(byDefault.accessToken!)).toMatchObject({
      location: { id: 2 },
      profile: { coworkerId: 61 },
      staffRole: null,
    });
    await expectRefused(
      (await api.caller(byDefault.accessToken)).impersonation.impersonate({ coworkerId: 50 }),
      401,
      "unauthorized",
    );
    const asStaff = await signIn({
      email: "staff.elsewhere@demo.test",
      password: MEMBER_PASS,
      locationId: 1,
    });
    expect(await me(asStaff.accessToken!)).toMatchObject({
      location: { id: 1 },
      profile: null,
      staffRole: "operator",
    });
  });

  it("picks the staff location with the lowest id when there is no profile", async () => {
    await addUser(102, "staff.only@demo.test");
    await rows(
      sql`insert into staff_roles (user_id, location_id, role) values (102, 2, 'operator'), (102, 1, 'operator')`,
    );
    const { accessToken } = await signIn({ email: "staff.only@demo.test", password: MEMBER_PASS });
    expect(await me(accessToken!)).toMatchObject({
      location: { id: 1 },
      profile: null,
      staffRole: "operator",
    });
  });

  it("refuses an account with no location at all with 400 invalid_request", async () => {
    await addUser(103, "nowhere@demo.test");
    await expectRefused(
      signIn({ email: "nowhere@demo.test", password: MEMBER_PASS }),
      400,
      "invalid_request",
    );
  });
});

describe("me", () => {
  it("describes the caller's own session", async () => {
    const before = Date.now();
    const token = await api.signIn("otto.operator@demo.test");
    const described = await me(token);
    const { authTime: shown, ...rest } = described;
    expect(shown).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(rest).toEqual({
      userId: 2,
      email: "otto.operator@demo.test",
      fullName: "Otto Operator",
      location: { id: 1, name: "Downtown Hub" },
      profile: { coworkerId: 46, locationId: 1, fullName: "Otto Operator" },
      staffRole: "operator",
      impersonation: null,
      amr: ["pwd"],
    });
    // The sign-in set it (the database's clock; a second either way for the two clocks).
    const authTime = Date.parse(described.authTime);
    expect(authTime).toBeGreaterThanOrEqual(before - 1000);
    expect(authTime).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("answers 401 without a session", async () => {
    await expectRefused((await api.caller()).auth.me(), 401, "unauthorized");
    await expectRefused((await api.caller("garbage")).auth.me(), 401, "unauthorized");
  });
});

describe("signOut", () => {
  it("revokes the session at once, leaves the user's other sessions alone, and audits it", async () => {
    const first = await api.signIn("sam.second@demo.test");
    const second = await api.signIn("sam.second@demo.test");
    await expect(
      (await api.caller(first, "198.51.100.95")).auth.signOut(),
    ).resolves.toBeUndefined();
    await expectRefused(me(first), 401, "unauthorized", "signed-out session");
    await expectRefused(
      (await api.caller(first)).auth.signOut(),
      401,
      "unauthorized",
      "second sign-out",
    );
    expect((await me(second)).userId).toBe(8);
    const sid = decodeJwt(first).sid as string;
    const [row] = await rows<{ revoked: boolean; revoked_reason: string }>(
      sql`select revoked_at is not null as revoked, revoked_reason from sessions where id = ${sid}`,
    );
    expect(row).toEqual({ revoked: true, revoked_reason: "signed_out" });
    const events = await rows<Record<string, unknown>>(
      sql`select type, outcome, actor_user_id, target_coworker_id, location_id, ip from audit_events where session_id = ${sid} and type = 'session.signed_out'`,
    );
    expect(events).toEqual([
      {
        type: "session.signed_out",
        outcome: "success",
        actor_user_id: 8,
        target_coworker_id: null,
        location_id: 1,
        ip: "198.51.100.95",
      },
    ]);
  });

  it("answers 401 without a session", async () => {
    await expectRefused((await api.caller()).auth.signOut(), 401, "unauthorized");
  });
});

describe("sign-in throttling", () => {
  let limited: TestApi;
  const attempt = async (email: string, password: string, ip: string) =>
    (await limited.caller(null, ip)).auth.signIn({ email, password });

  beforeAll(async () => {
    limited = await createTestApi({ signinLimitPer15Minutes: 3 });
  });
  afterAll(() => limited.close());

  it("throttles an account after the limit of failures, from any address, a correct password included", async () => {
    for (const ip of ["192.0.2.11", "192.0.2.12", "192.0.2.13"]) {
      await expectRefused(
        attempt("milo.member@demo.test", "wrong-password", ip),
        400,
        "invalid_grant",
        ip,
      );
    }
    const throttled = await refusal(attempt("milo.member@demo.test", MEMBER_PASS, "192.0.2.14"));
    expect({ status: throttled.status, code: throttled.code }).toEqual({
      status: 429,
      code: "throttled",
    });
    expect(throttled.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(throttled.retryAfterS).toBeLessThanOrEqual(900);
    await expectRefused(
      attempt("MILO.member@demo.test", MEMBER_PASS, "192.0.2.15"),
      429,
      "throttled",
      "another spelling of the email",
    );
    // Another account from the same addresses is not affected.
    await expect(
      attempt("sam.second@demo.test", MEMBER_PASS, "192.0.2.11"),
    ).resolves.toHaveProperty("accessToken");
    const [event] = await queryRows<Record<string, unknown>>(
      limited.database.db,
      sql`select type, outcome, detail from audit_events where ip = '192.0.2.14'`,
    );
    expect(event).toEqual({ type: "signin.failed", outcome: "refused", detail: "throttled" });
  });

  it("throttles a client address after the limit of failures, across accounts", async () => {
    const ip = "192.0.2.21";
    for (const email of ["ghost-1@demo.test", "ghost-2@demo.test", "ghost-3@demo.test"]) {
      await expectRefused(attempt(email, "whatever-password", ip), 400, "invalid_grant", email);
    }
    await expectRefused(
      attempt("tess.teamadmin@demo.test", MEMBER_PASS, ip),
      429,
      "throttled",
      "correct password from that address",
    );
    await expect(
      attempt("tess.teamadmin@demo.test", MEMBER_PASS, "192.0.2.22"),
    ).resolves.toHaveProperty("accessToken");
  });

  it("does not count malformed requests", async () => {
    const ip = "192.0.2.31";
    for (let i = 0; i < 5; i++) {
      await expectRefused(
        (await limited.caller(null, ip)).auth.signIn({
          email: "nora.nomad@demo.test",
          password: "",
        }),
        400,
        "invalid_request",
      );
      await expectRefused(
        (await limited.caller(null, ip)).auth.signIn({
          email: "nora.nomad@demo.test",
          password: "x",
          extra: 1,
        } as never),
        400,
        "invalid_request",
      );
    }
    for (let i = 0; i < 3; i++) {
      await expectRefused(
        attempt("nora.nomad@demo.test", "wrong-password", ip),
        400,
        "invalid_grant",
        `failure ${i + 1}`,
      );
    }
    await expectRefused(attempt("nora.nomad@demo.test", "wrong-password", ip), 429, "throttled");
  });

  it("does not count a correct password", async () => {
    const ip = "192.0.2.41";
    await expectRefused(
      attempt("rita.riverside@demo.test", "wrong-password", ip),
      400,
      "invalid_grant",
    );
    await expectRefused(
      attempt("rita.riverside@demo.test", "wrong-password", ip),
      400,
      "invalid_grant",
    );
    for (let i = 0; i < 4; i++) await attempt("rita.riverside@demo.test", MEMBER_PASS, ip);
    await expectRefused(
      attempt("rita.riverside@demo.test", "wrong-password", ip),
      400,
      "invalid_grant",
      "third failure",
    );
    await expectRefused(
      attempt("rita.riverside@demo.test", MEMBER_PASS, ip),
      429,
      "throttled",
      "after the third failure",
    );
  });
});
