// CONTRACT §5 over real HTTP, row by row, against the production build: every route's success
// shape and every failure status with its exact `{ error, message }` body; plus the §6 rules a
// client can see (no-store, Retry-After, the feature switch, throttling, client addresses) and
// start-up refusing bad configuration.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditAll,
  EMAIL,
  exchangeReply,
  impersonate,
  issue,
  issueReply,
  login,
  me,
  rankFixture,
  signInReply,
  sleep,
  type AuditItem,
} from "./support/flows";
import { call, expectError, expectNoLeak, expectNoStore, fields, type Reply } from "./support/http";
import { freePort, portalDir, startPortal, type Portal } from "./support/portal";
import { createStore, onPostgres, type Store } from "./support/store";
import { decodeJwt } from "./support/tokens";

/** Every token the suite saw; none may ever show up in a server log. */
const seenTokens = new Set<string>();
const remember = (token: string) => (seenTokens.add(token), token);

const PROFILE_KEYS = ["coworkerId", "fullName", "isCurrent", "locationId", "locationName"];
const AUDIT_KEYS = [
  "actor",
  "at",
  "detail",
  "id",
  "ip",
  "locationId",
  "outcome",
  "reason",
  "target",
  "type",
];
const AUDIT_TYPES = [
  "signin",
  "signin.failed",
  "impersonation.issued",
  "impersonation.exchanged",
  "impersonation.stopped",
  "impersonation.expired",
  "session.signed_out",
  "profile.switched",
];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function expectTokenResponse(reply: Reply): string {
  expect(reply.status, reply.text).toBe(200);
  expectNoStore(reply);
  const body = fields(reply);
  expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "token_type"]);
  expect(body.token_type).toBe("Bearer");
  expect(typeof body.access_token).toBe("string");
  expect(Number.isInteger(body.expires_in)).toBe(true);
  expect(body.expires_in as number).toBeGreaterThan(0);
  return remember(body.access_token as string);
}

function expectImpersonationTokenResponse(reply: Reply): string {
  expect(reply.status, reply.text).toBe(200);
  expectNoStore(reply);
  const body = fields(reply);
  expect(Object.keys(body)).toContain("token");
  expect(body).not.toHaveProperty("access_token");
  expect(typeof body.token).toBe("string");
  return remember(body.token as string);
}

describe("REST contract (CONTRACT §5)", () => {
  let portal: Portal;
  const tokens: Record<string, string> = {};
  const session = async (name: keyof typeof EMAIL, locationId?: number) =>
    remember(await login(portal, EMAIL[name], locationId));

  beforeAll(async () => {
    portal = await startPortal({
      fixture: await rankFixture(),
      env: { IMPERSONATE_LIMIT_PER_MINUTE: "10000" },
    });
    for (const name of ["ada", "otto", "tess", "milo", "nora", "ivan", "rita"] as const)
      tokens[name] = await session(name);
    tokens.adaL2 = await session("ada", 2);
  });

  afterAll(async () => {
    await portal?.stop();
  });

  describe("POST /api/token", () => {
    it("answers 200 with a bearer token for a JSON body and for a form body, never cached", async () => {
      const viaJson = expectTokenResponse(await signInReply(portal, EMAIL.milo));
      const viaForm = expectTokenResponse(
        await call(portal, "POST", "/api/token", {
          form: { grant_type: "password", username: EMAIL.milo, password: "demo-member-pass" },
        }),
      );
      for (const token of [viaJson, viaForm])
        expect(fields(await me(portal, token)).userId).toBe(4);
    });

    it("picks the active location: location_id, else the first profile's, else the first staff location", async () => {
      const where = async (token: string) =>
        fields(await me(portal, token)).location as { id: number };
      expect((await where(tokens.nora!)).id).toBe(1); // profiles 43 (L1) and 50 (L2): lowest id
      expect((await where(await session("nora", 2))).id).toBe(2);
      expect((await where(tokens.ada!)).id).toBe(1); // no profile: first staff location
      expect((await where(tokens.adaL2!)).id).toBe(2);
      expect(fields(await me(portal, await session("nora", 2))).profile).toMatchObject({
        coworkerId: 50,
      });
    });

    it("answers 400 invalid_request to malformed requests and to a location the user has no access to", async () => {
      const cases: Reply[] = [
        await call(portal, "POST", "/api/token"),
        await call(portal, "POST", "/api/token", {
          body: "{not json",
          headers: { "content-type": "application/json" },
        }),
        await call(portal, "POST", "/api/token", { json: ["grant_type", "password"] }),
        await call(portal, "POST", "/api/token", {
          body: "grant_type=password",
          headers: { "content-type": "text/plain" },
        }),
        await call(portal, "POST", "/api/token", {
          json: { username: EMAIL.milo, password: "demo-member-pass" },
        }),
        await call(portal, "POST", "/api/token", {
          json: { grant_type: "password", username: EMAIL.milo },
        }),
        await call(portal, "POST", "/api/token", {
          json: { grant_type: "password", password: "x" },
        }),
        await call(portal, "POST", "/api/token", {
          json: { grant_type: "password", username: EMAIL.milo, password: 12 },
        }),
        await signInReply(portal, EMAIL.otto, { locationId: 2 }),
        await call(portal, "POST", "/api/token", {
          form: {
            grant_type: "password",
            username: EMAIL.milo,
            password: "demo-member-pass",
            location_id: "1abc",
          },
        }),
      ];
      for (const reply of cases) expectError(reply, 400, "invalid_request");
    });

    it("answers 400 unsupported_grant_type to any other grant", async () => {
      for (const grant of [
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "PASSWORD",
      ]) {
        expectError(
          await call(portal, "POST", "/api/token", {
            json: { grant_type: grant, username: EMAIL.milo, password: "demo-member-pass" },
          }),
          400,
          "unsupported_grant_type",
        );
      }
    });

    it("answers 400 invalid_grant with the same body for a wrong password and an unknown user", async () => {
      const wrong = await signInReply(portal, EMAIL.milo, { password: "not-the-password" });
      const unknown = await signInReply(portal, "nobody@demo.test", {
        password: "not-the-password",
      });
      expectError(wrong, 400, "invalid_grant");
      expectError(unknown, 400, "invalid_grant");
      expect(unknown.text).toBe(wrong.text);
    });
  });

  describe("GET /api/sys/users/impersonate (staff)", () => {
    it("answers 200 { token }: a single-use EdDSA JWT of its own type naming target, actor, jti and a 60 s life (B1)", async () => {
      const reply = await issueReply(portal, tokens.otto!, 42, { reason: "ticket-1" });
      const token = expectImpersonationTokenResponse(reply);
      const { header, payload } = decodeJwt(token);
      const access = decodeJwt(tokens.otto!);
      expect(header.alg).toBe("EdDSA");
      expect(typeof header.typ).toBe("string");
      expect(String(header.typ).toLowerCase()).not.toBe(String(access.header.typ).toLowerCase());
      expect(String(header.typ).toLowerCase()).not.toBe("jwt");
      const jwks = fields(await call(portal, "GET", "/.well-known/jwks.json")).keys as {
        kid: string;
      }[];
      expect(jwks.map((key) => key.kid)).toContain(header.kid);
      expect(payload.iss).toBe(portal.url);
      expect(payload.aud).toBeDefined();
      expect(payload.aud).not.toEqual(access.payload.aud);
      expect(payload.sub).toBe("4");
      expect(payload.coworker_id).toBe(42);
      expect(payload.act).toEqual({ sub: "2" });
      expect(typeof payload.jti).toBe("string");
      expect((payload.exp as number) - (payload.iat as number)).toBe(60);
      const ada = decodeJwt(await issue(portal, tokens.ada!, 43));
      expect(ada.payload.act).toEqual({ sub: "1" });
      expect(ada.payload.jti).not.toBe(payload.jti);
    });

    it("writes one complete success event per issue, with the socket's address, not a forwarded one (G1)", async () => {
      const reason = `ticket-${Date.now()}`;
      await issueReply(portal, tokens.otto!, 42, {
        reason,
        headers: { "x-forwarded-for": "6.6.6.6" },
      });
      const events = (await auditAll(portal, tokens.ada!, { actorUserId: 2 })).filter(
        (event) => event.reason === reason,
      );
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: "impersonation.issued",
        actor: { userId: 2, fullName: "Otto Operator" },
        target: { coworkerId: 42, fullName: "Milo Member" },
        locationId: 1,
        reason,
        ip: "127.0.0.1",
        outcome: "success",
      });
      expect(events[0]!.at).toMatch(ISO_UTC);
    });

    it("lets an admin impersonate an operator's profile, as the contract is written (B5)", async () => {
      expectImpersonationTokenResponse(await issueReply(portal, tokens.ada!, 46));
    });

    it("answers 400 to a bad coworkerId or a reason over 500 characters", async () => {
      const replies = [
        await call(portal, "GET", "/api/sys/users/impersonate", { token: tokens.otto! }),
        await issueReply(portal, tokens.otto!, ""),
        await issueReply(portal, tokens.otto!, "abc"),
        await issueReply(portal, tokens.otto!, "0"),
        await issueReply(portal, tokens.otto!, "2147483648"),
        await issueReply(portal, tokens.otto!, 42, { reason: "x".repeat(501) }),
      ];
      for (const reply of replies) expectError(reply, 400, "invalid_request");
      expectImpersonationTokenResponse(
        await issueReply(portal, tokens.otto!, 42, { reason: "x".repeat(500) }),
      );
    });

    it("answers 401 without a bearer, to a customer or team admin session, and to an impersonated session (A1, B2, E3)", async () => {
      const impersonatedByAda = remember(await impersonate(portal, tokens.ada!, 46)); // Otto's profile: a staff user
      const replies = [
        await issueReply(portal, null, 42),
        await call(portal, "GET", "/api/sys/users/impersonate?coworkerId=42&userId=1&actorId=1"),
        await issueReply(portal, "not-a-token", 42),
        await call(portal, "GET", "/api/sys/users/impersonate?coworkerId=42", {
          headers: { authorization: `Basic ${Buffer.from("ada:x").toString("base64")}` },
        }),
        await call(
          portal,
          "GET",
          `/api/sys/users/impersonate?coworkerId=42&access_token=${tokens.otto!}`,
        ),
        await issueReply(portal, tokens.milo!, 43),
        await issueReply(portal, tokens.tess!, 43),
        await issueReply(portal, impersonatedByAda, 42),
      ];
      for (const reply of replies) expectError(reply, 401);
    });

    it("answers 403 for the caller itself and for staff of equal or higher rank in any location (B5, V4, V12)", async () => {
      const olga = await session("olga");
      const cases: [string, number][] = [
        [tokens.otto!, 46], // himself
        [tokens.otto!, 47], // Olga: operator, equal rank
        [tokens.otto!, 48], // Adam: admin of L2 only, higher rank elsewhere
        [olga, 46], // Otto: equal rank
        [tokens.ada!, 48], // Adam: admin, equal rank
      ];
      for (const [actor, target] of cases) {
        const reply = await issueReply(portal, actor, target);
        expectError(reply, 403, "forbidden");
      }
    });

    it("answers 404 with identical bodies for another location's coworker and a missing one (B3, B4)", async () => {
      const replies = [
        await issueReply(portal, tokens.otto!, 50),
        await issueReply(portal, tokens.otto!, 51),
        await issueReply(portal, tokens.otto!, 99_999),
        await issueReply(portal, tokens.otto!, 2_147_483_647),
      ];
      for (const reply of replies) expectError(reply, 404, "not_found");
      expect(new Set(replies.map((reply) => reply.text)).size).toBe(1);
      // Staff rights hold in the active location only: Ada on L2 reaches 51, not 42.
      expectError(await issueReply(portal, tokens.adaL2!, 42), 404, "not_found");
      const token = expectImpersonationTokenResponse(await issueReply(portal, tokens.adaL2!, 51));
      expect(decodeJwt(token).payload.coworker_id).toBe(51);
    });

    it("never takes the actor or the tenant from input (B6)", async () => {
      const reply = await call(
        portal,
        "GET",
        "/api/sys/users/impersonate?coworkerId=42&actorId=1&userId=1&locationId=2&act=1",
        {
          token: tokens.otto!,
          headers: { "x-user-id": "1", "x-location-id": "2", "x-forwarded-user": "ada" },
        },
      );
      if (reply.status === 200) {
        const { payload } = decodeJwt(expectImpersonationTokenResponse(reply));
        expect(payload.act).toEqual({ sub: "2" });
        expect(payload.coworker_id).toBe(42);
      } else {
        expectError(reply, 400, "invalid_request");
      }
    });
  });

  describe("GET /api/public/coworkers/{coworkerId}/impersonate (team admin)", () => {
    it("answers 200 { token } to a team admin for a member of their team (B7)", async () => {
      const tess = decodeJwt(
        expectImpersonationTokenResponse(
          await issueReply(portal, tokens.tess!, 42, { team: true }),
        ),
      );
      expect(tess.payload).toMatchObject({ sub: "4", coworker_id: 42, act: { sub: "3" } });
      expect(tess.header.typ).toBe(decodeJwt(await issue(portal, tokens.otto!, 42)).header.typ);
      const rita = decodeJwt(
        expectImpersonationTokenResponse(
          await issueReply(portal, await session("rita"), 50, { team: true }),
        ),
      );
      expect(rita.payload).toMatchObject({ sub: "5", coworker_id: 50, act: { sub: "7" } });
    });

    it("answers 400 to a bad id", async () => {
      for (const id of ["abc", "0", "-1", "1.5", "042", "2147483648", "1e1"]) {
        expectError(
          await issueReply(portal, tokens.tess!, id, { team: true }),
          400,
          "invalid_request",
        );
      }
      expectError(
        await issueReply(portal, tokens.tess!, 42, { team: true, reason: "y".repeat(501) }),
        400,
        "invalid_request",
      );
    });

    it("answers 401 without a bearer and to an impersonated session, even a team admin's (E3)", async () => {
      const asTess = remember(await impersonate(portal, tokens.otto!, 40));
      expectError(await issueReply(portal, null, 42, { team: true }), 401);
      expectError(await issueReply(portal, "garbage", 42, { team: true }), 401);
      expectError(await issueReply(portal, asTess, 42, { team: true }), 401);
      expectError(await issueReply(portal, asTess, 42), 401);
    });

    it("answers 403 to a caller who is no team admin, for staff targets of any rank and location, and for the caller itself (B8, B10)", async () => {
      for (const caller of [tokens.milo!, tokens.otto!, tokens.ada!, tokens.nora!]) {
        expectError(await issueReply(portal, caller, 43, { team: true }), 403, "forbidden");
      }
      for (const target of [46, 48, 40]) {
        expectError(
          await issueReply(portal, tokens.tess!, target, { team: true }),
          403,
          "forbidden",
        );
      }
    });

    it("answers 404 for a target outside the teams the caller administers, other locations included (B9)", async () => {
      const cases: [string, number][] = [
        [tokens.tess!, 44],
        [tokens.tess!, 45],
        [tokens.tess!, 51],
        [tokens.tess!, 50], // Nora's L2 profile; her L1 profile 43 is in Tess's team
        [tokens.tess!, 99_999],
        [tokens.ivan!, 42],
        [tokens.rita!, 43],
      ];
      for (const [caller, target] of cases)
        expectError(await issueReply(portal, caller, target, { team: true }), 404, "not_found");
    });
  });

  describe("POST /api/sys/users/exchange", () => {
    it("answers 200 with a session of the target that names its actor (E1)", async () => {
      const token = await issue(portal, tokens.otto!, 42, { reason: "ticket-1" });
      const access = expectTokenResponse(await exchangeReply(portal, token));
      expect(fields(await exchangeReply(portal, token)).error).toBe("invalid_token");
      const reply = await exchangeReply(portal, token);
      expectError(reply, 401, "invalid_token");
      const { payload } = decodeJwt(access);
      expect(payload).toMatchObject({ sub: "4", act: { sub: "2" } });
      expect(typeof payload.sid).toBe("string");
      const body = fields(await exchangeReply(portal, await issue(portal, tokens.otto!, 42)));
      expect(body.expires_in as number).toBeLessThanOrEqual(3600);
      const who = fields(await me(portal, access));
      expect(who).toMatchObject({
        userId: 4,
        profile: { coworkerId: 42 },
        location: { id: 1 },
        staffRole: null,
      });
    });

    it("answers 400 invalid_request to a missing or garbled body", async () => {
      const replies = [
        await call(portal, "POST", "/api/sys/users/exchange"),
        await call(portal, "POST", "/api/sys/users/exchange", { json: {} }),
        await call(portal, "POST", "/api/sys/users/exchange", { json: { token: 123 } }),
        await call(portal, "POST", "/api/sys/users/exchange", { json: { token: null } }),
        await call(portal, "POST", "/api/sys/users/exchange", { json: { token: ["x"] } }),
        await call(portal, "POST", "/api/sys/users/exchange", { json: { token: "" } }),
        await call(portal, "POST", "/api/sys/users/exchange", {
          body: "{token",
          headers: { "content-type": "application/json" },
        }),
        await call(portal, "POST", "/api/sys/users/exchange", {
          body: JSON.stringify({ token: "a.b.c" }),
          headers: { "content-type": "text/plain" },
        }),
      ];
      for (const reply of replies) expectError(reply, 400, "invalid_request");
    });

    it("answers 401 invalid_token to a bad signature, the wrong type, a replay and a revoked grant", async () => {
      const good = await issue(portal, tokens.otto!, 42);
      const [h, p, s] = good.split(".");
      // The first character carries 6 bits of the signature (the last one only 2).
      const flipped = `${h}.${p}.${s!.startsWith("A") ? "B" : "A"}${s!.slice(1)}`;
      const replies = [
        await exchangeReply(portal, "not-a-jwt"),
        await exchangeReply(portal, flipped),
        await exchangeReply(portal, tokens.otto!), // an access token is not an impersonation token
      ];
      for (const reply of replies) expectError(reply, 401, "invalid_token");
      // None of that consumed the grant.
      expectTokenResponse(await exchangeReply(portal, good));
      expectError(await exchangeReply(portal, good), 401, "invalid_token");
    });

    it("takes the target and actor from the grant, never from extra body fields (F5)", async () => {
      const token = await issue(portal, tokens.otto!, 42);
      const reply = await call(portal, "POST", "/api/sys/users/exchange", {
        json: { token, coworkerId: 43, act: { sub: "1" } },
      });
      if (reply.status === 200) {
        const access = expectTokenResponse(reply);
        expect(decodeJwt(access).payload).toMatchObject({ sub: "4", act: { sub: "2" } });
      } else {
        expectError(reply, 400, "invalid_request");
      }
    });

    it("refuses the pending token and ends the live impersonation when the actor signs out (E9, D5)", async () => {
      const otto = await session("otto");
      const live = remember(await impersonate(portal, otto, 42));
      const pending = await issue(portal, otto, 43);
      expect((await call(portal, "POST", "/api/sys/users/sign-out", { token: otto })).status).toBe(
        204,
      );
      expectError(await me(portal, live), 401);
      expectError(await exchangeReply(portal, pending), 401, "invalid_token");
    });
  });

  describe("GET /api/public/coworkers/profiles", () => {
    it("lists every profile of the caller with the current one marked", async () => {
      const reply = await call(portal, "GET", "/api/public/coworkers/profiles", {
        token: await session("nora"),
      });
      expect(reply.status).toBe(200);
      const profiles = reply.json as Record<string, unknown>[];
      for (const profile of profiles) expect(Object.keys(profile).sort()).toEqual(PROFILE_KEYS);
      expect(profiles).toEqual([
        {
          coworkerId: 43,
          locationId: 1,
          locationName: "Downtown Hub",
          fullName: "Nora Nomad",
          isCurrent: true,
        },
        {
          coworkerId: 50,
          locationId: 2,
          locationName: "Riverside Loft",
          fullName: "Nora Nomad",
          isCurrent: false,
        },
      ]);
      const ada = await call(portal, "GET", "/api/public/coworkers/profiles", {
        token: tokens.ada!,
      });
      expect(ada.json).toEqual([]);
    });

    it("shows an impersonated session only the impersonated profile", async () => {
      const asNora = remember(await impersonate(portal, tokens.otto!, 43));
      const reply = await call(portal, "GET", "/api/public/coworkers/profiles", { token: asNora });
      expect(reply.json).toEqual([
        {
          coworkerId: 43,
          locationId: 1,
          locationName: "Downtown Hub",
          fullName: "Nora Nomad",
          isCurrent: true,
        },
      ]);
    });

    it("answers 401 without a live session", async () => {
      expectError(await call(portal, "GET", "/api/public/coworkers/profiles"), 401);
      expectError(
        await call(portal, "GET", "/api/public/coworkers/profiles", { token: "x.y.z" }),
        401,
      );
    });
  });

  describe("PUT /api/public/coworkers/profiles/current", () => {
    const put = (token: string | null, body: unknown) =>
      call(portal, "PUT", "/api/public/coworkers/profiles/current", { token, json: body });

    it("answers 200 with the new current profile, and the session's location follows at once (B13)", async () => {
      const nora = await session("nora");
      const reply = await put(nora, { coworkerId: 50 });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toEqual({
        coworkerId: 50,
        locationId: 2,
        locationName: "Riverside Loft",
        fullName: "Nora Nomad",
        isCurrent: true,
      });
      const who = fields(await me(portal, nora));
      expect(who.location).toEqual({ id: 2, name: "Riverside Loft" });
      expect(who.profile).toEqual({ coworkerId: 50, locationId: 2, fullName: "Nora Nomad" });
      expect(who.staffRole).toBeNull();
      const events = (await auditAll(portal, tokens.adaL2!, { targetCoworkerId: 50 })).filter(
        (event) => event.type === "profile.switched",
      );
      expect(events[0]).toMatchObject({ outcome: "success", actor: { userId: 5 }, locationId: 2 });
    });

    it("lets the body set the profile and nothing else: no actor, location or impersonation marker (better-auth #9965)", async () => {
      const nora = await session("nora");
      const reply = await put(nora, {
        coworkerId: 43,
        locationId: 2,
        actorUserId: 1,
        impersonatedBy: 1,
        act: { sub: "1" },
        staffRole: "admin",
      });
      if (reply.status === 200) {
        expect(reply.json).toMatchObject({ coworkerId: 43, locationId: 1 });
        const who = fields(await me(portal, nora));
        expect(who).toMatchObject({
          userId: 5,
          location: { id: 1 },
          profile: { coworkerId: 43 },
          staffRole: null,
          impersonation: null,
        });
      } else {
        expectError(reply, 400, "invalid_request");
      }
    });

    it("answers 400 to a body outside the grammar { coworkerId: positive integer }", async () => {
      const nora = await session("nora");
      for (const body of [
        {},
        { coworkerId: "50" },
        { coworkerId: -1 },
        { coworkerId: 0 },
        { coworkerId: 1.5 },
        { coworkerId: null },
        [50],
        "50",
      ]) {
        expectError(await put(nora, body), 400, "invalid_request");
      }
      expectError(
        await call(portal, "PUT", "/api/public/coworkers/profiles/current", {
          token: nora,
          body: "{",
          headers: { "content-type": "application/json" },
        }),
        400,
        "invalid_request",
      );
    });

    it("answers 401 without a session, 403 to an impersonated one, 404 for someone else's profile (B13, E6)", async () => {
      expectError(await put(null, { coworkerId: 50 }), 401);
      const asNora = remember(await impersonate(portal, tokens.otto!, 43));
      expectError(await put(asNora, { coworkerId: 50 }), 403);
      expectError(await put(asNora, { coworkerId: 43 }), 403);
      expect(fields(await me(portal, asNora)).location).toMatchObject({ id: 1 });
      expectError(await put(tokens.nora!, { coworkerId: 42 }), 404, "not_found");
      expectError(await put(tokens.ada!, { coworkerId: 42 }), 404, "not_found");
    });
  });

  describe("GET /api/sys/users/me", () => {
    it("answers exactly the contract's shape for each kind of session", async () => {
      // authTime (when the session proved its password: its sign-in here) and amr (CONTRACT §10).
      const proof = (json: unknown) => {
        const { authTime, amr, ...rest } = json as { authTime: string; amr: string[] };
        expect(authTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(Date.parse(authTime)).toBeLessThanOrEqual(Date.now() + 1000);
        expect(amr).toEqual(["pwd"]);
        return rest;
      };
      expect(proof((await me(portal, tokens.otto!)).json)).toEqual({
        userId: 2,
        email: EMAIL.otto,
        fullName: "Otto Operator",
        location: { id: 1, name: "Downtown Hub" },
        profile: { coworkerId: 46, locationId: 1, fullName: "Otto Operator" },
        staffRole: "operator",
        impersonation: null,
      });
      expect(proof((await me(portal, tokens.ada!)).json)).toEqual({
        userId: 1,
        email: EMAIL.ada,
        fullName: "Ada Admin",
        location: { id: 1, name: "Downtown Hub" },
        profile: null,
        staffRole: "admin",
        impersonation: null,
      });
      expect(proof((await me(portal, tokens.milo!)).json)).toEqual({
        userId: 4,
        email: EMAIL.milo,
        fullName: "Milo Member",
        location: { id: 1, name: "Downtown Hub" },
        profile: { coworkerId: 42, locationId: 1, fullName: "Milo Member" },
        staffRole: null,
        impersonation: null,
      });
    });

    it("shows an impersonated session as the member, with the actor, expiry and reason, and no staff role (E1, E4)", async () => {
      const started = Date.now();
      const asMilo = remember(await impersonate(portal, tokens.otto!, 42, { reason: "ticket-1" }));
      const who = fields(await me(portal, asMilo));
      expect(Object.keys(who).sort()).toEqual([
        "amr",
        "authTime",
        "email",
        "fullName",
        "impersonation",
        "location",
        "profile",
        "staffRole",
        "userId",
      ]);
      // The impersonated session proved nothing of the member's (CONTRACT §10).
      expect(who.amr).toEqual([]);
      expect(who).toMatchObject({
        userId: 4,
        email: EMAIL.milo,
        fullName: "Milo Member",
        location: { id: 1, name: "Downtown Hub" },
        profile: { coworkerId: 42, locationId: 1, fullName: "Milo Member" },
        staffRole: null,
        impersonation: { actor: { userId: 2, fullName: "Otto Operator" }, reason: "ticket-1" },
      });
      const impersonation = who.impersonation as Record<string, unknown>;
      expect(Object.keys(impersonation)).toEqual(
        expect.arrayContaining(["actor", "expiresAt", "reason"]),
      );
      expect(Object.keys(impersonation.actor as object).sort()).toEqual(["fullName", "userId"]);
      const expiresAt = Date.parse(impersonation.expiresAt as string);
      expect(expiresAt).toBeGreaterThan(started);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000 + 2000);
      // Ada impersonating Otto's profile gets the member's view: no staff rights (E4).
      const asOtto = remember(await impersonate(portal, tokens.ada!, 46));
      expect(fields(await me(portal, asOtto)).staffRole).toBeNull();
      expectError(await call(portal, "GET", "/api/sys/audit", { token: asOtto }), 401);
      expectError(await issueReply(portal, asOtto, 42), 401);
    });

    it("answers 401 without a live session", async () => {
      expectError(await me(portal, null), 401);
      expectError(await me(portal, "a.b.c"), 401);
      expectError(
        await call(portal, "GET", "/api/sys/users/me", { headers: { authorization: "Bearer" } }),
        401,
      );
      expectError(
        await call(portal, "GET", "/api/sys/users/me", {
          headers: { authorization: `Bearer ${tokens.otto!}.` },
        }),
        401,
      );
      expectError(
        await call(portal, "GET", "/api/sys/users/me", {
          headers: { cookie: `portal_session=${tokens.otto!}` },
        }),
        401,
      );
    });
  });

  describe("POST /api/sys/users/stop-impersonating", () => {
    it("answers 204 and ends only the impersonated session; then 401 for it and 409 for sessions that are not impersonated (E7, V1)", async () => {
      const otto = await session("otto");
      const milo = await session("milo");
      const asMilo = remember(await impersonate(portal, otto, 42));
      const stop = await call(portal, "POST", "/api/sys/users/stop-impersonating", {
        token: asMilo,
        json: { userId: 1, actorId: 1 },
      });
      expect(stop.status).toBe(204);
      expect(stop.text).toBe("");
      expect(stop.headers["set-cookie"]).toBeUndefined();
      expectError(await me(portal, asMilo), 401);
      expect(fields(await me(portal, otto)).userId).toBe(2);
      expect(fields(await me(portal, milo)).userId).toBe(4);
      expectError(
        await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: asMilo }),
        401,
      );
      expectError(
        await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: otto }),
        409,
      );
      expectError(
        await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: milo }),
        409,
      );
      expectError(await call(portal, "POST", "/api/sys/users/stop-impersonating"), 401);
      expect(fields(await me(portal, milo)).userId).toBe(4);
      const stopped = (await auditAll(portal, tokens.ada!, { actorUserId: 2 })).filter(
        (event) => event.type === "impersonation.stopped",
      );
      expect(stopped[0]).toMatchObject({
        outcome: "success",
        actor: { userId: 2 },
        target: { coworkerId: 42 },
      });
    });
  });

  describe("POST /api/sys/users/sign-out", () => {
    it("answers 204 and revokes the session at once; 401 afterwards and without a session", async () => {
      const milo = await session("milo");
      const reply = await call(portal, "POST", "/api/sys/users/sign-out", { token: milo });
      expect(reply.status).toBe(204);
      expect(reply.text).toBe("");
      expectError(await me(portal, milo), 401);
      expectError(await call(portal, "POST", "/api/sys/users/sign-out", { token: milo }), 401);
      expectError(await call(portal, "POST", "/api/sys/users/sign-out"), 401);
    });

    it("signing out an impersonated session leaves the actor's own session alone", async () => {
      const otto = await session("otto");
      const asMilo = remember(await impersonate(portal, otto, 42));
      expect(
        (await call(portal, "POST", "/api/sys/users/sign-out", { token: asMilo })).status,
      ).toBe(204);
      expectError(await me(portal, asMilo), 401);
      expect((await me(portal, otto)).status).toBe(200);
    });
  });

  describe("GET /api/sys/audit", () => {
    it("answers 200 newest first with the contract's item shape, to an admin of the active location", async () => {
      const items = await auditAll(portal, tokens.ada!);
      expect(items.length).toBeGreaterThan(10);
      for (const item of items) {
        expect(Object.keys(item)).toEqual(expect.arrayContaining(AUDIT_KEYS));
        expect(AUDIT_TYPES).toContain(item.type);
        expect(["success", "refused"]).toContain(item.outcome);
        expect(item.at).toMatch(ISO_UTC);
        expect(item.locationId).toBe(1);
        if (item.actor) expect(Object.keys(item.actor).sort()).toEqual(["fullName", "userId"]);
        if (item.target)
          expect(Object.keys(item.target).sort()).toEqual(["coworkerId", "fullName"]);
      }
      for (let index = 1; index < items.length; index++) {
        expect(items[index]!.id).toBeLessThan(items[index - 1]!.id);
        expect(Date.parse(items[index]!.at)).toBeLessThanOrEqual(Date.parse(items[index - 1]!.at));
      }
      // A refusal keeps the type of what was refused, with the reason code in `detail`.
      const refused = items.find(
        (item) =>
          item.type === "impersonation.issued" &&
          item.outcome === "refused" &&
          item.target?.coworkerId === 47,
      );
      expect(refused?.detail).toMatch(/^(rank|forbidden)/);
      // Ada on L2 sees L2 events only (G5).
      for (const item of await auditAll(portal, tokens.adaL2!)) expect(item.locationId).toBe(2);
    });

    it("pages with limit (at most 200) and cursor, and filters by actor and target", async () => {
      const first = await call(portal, "GET", "/api/sys/audit?limit=3", { token: tokens.ada! });
      const page1 = first.json as { items: AuditItem[]; nextCursor: number | null };
      expect(Object.keys(page1).sort()).toEqual(["items", "nextCursor"]);
      expect(page1.items).toHaveLength(3);
      expect(page1.nextCursor).not.toBeNull();
      const page2 = (
        await call(portal, "GET", `/api/sys/audit?limit=3&cursor=${page1.nextCursor}`, {
          token: tokens.ada!,
        })
      ).json as typeof page1;
      expect(page2.items[0]!.id).toBeLessThan(page1.items[2]!.id);
      const all = await auditAll(portal, tokens.ada!);
      expect([...page1.items, ...page2.items].map((item) => item.id)).toEqual(
        all.slice(0, 6).map((item) => item.id),
      );
      expect(
        (
          (await call(portal, "GET", "/api/sys/audit?limit=200", { token: tokens.ada! }))
            .json as typeof page1
        ).items.length,
      ).toBeLessThanOrEqual(200);
      for (const bad of [
        "limit=201",
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=5&limit=6",
        "cursor=abc",
        "actorUserId=0",
        "targetCoworkerId=x",
      ]) {
        expectError(
          await call(portal, "GET", `/api/sys/audit?${bad}`, { token: tokens.ada! }),
          400,
          "invalid_request",
        );
      }
      const byOtto = await auditAll(portal, tokens.ada!, { actorUserId: 2 });
      expect(byOtto.length).toBeGreaterThan(0);
      for (const item of byOtto) expect(item.actor?.userId).toBe(2);
      const aboutMilo = await auditAll(portal, tokens.ada!, { targetCoworkerId: 42 });
      expect(aboutMilo.length).toBeGreaterThan(0);
      for (const item of aboutMilo) expect(item.target?.coworkerId).toBe(42);
      const both = await auditAll(portal, tokens.ada!, { actorUserId: 2, targetCoworkerId: 42 });
      expect(both.length).toBe(aboutMilo.filter((item) => item.actor?.userId === 2).length);
    });

    it("answers 401 to anyone but an admin of the active location, impersonated sessions included (G5)", async () => {
      const asMilo = remember(await impersonate(portal, tokens.ada!, 42));
      for (const token of [null, "x.y.z", tokens.otto!, tokens.milo!, tokens.tess!, asMilo]) {
        expectError(await call(portal, "GET", "/api/sys/audit", { token }), 401);
      }
    });

    it("offers no way to change the log", async () => {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const reply = await call(portal, method, "/api/sys/audit", {
          token: tokens.ada!,
          json: { id: 1 },
        });
        expectError(reply, 405, "method_not_allowed");
        expectNoLeak(reply);
      }
    });
  });

  describe("GET /.well-known/jwks.json", () => {
    it("answers the public keys only, with unique kids, covering every token issued (C13)", async () => {
      const reply = await call(portal, "GET", "/.well-known/jwks.json");
      expect(reply.status).toBe(200);
      const keys = fields(reply).keys as Record<string, unknown>[];
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        for (const secret of ["d", "p", "q", "dp", "dq", "qi", "k"])
          expect(key).not.toHaveProperty(secret);
        expect(key.kty).not.toBe("oct");
        expect(typeof key.kid).toBe("string");
      }
      expect(new Set(keys.map((key) => key.kid)).size).toBe(keys.length);
      for (const token of [tokens.otto!, await issue(portal, tokens.otto!, 42)]) {
        expect(keys.map((key) => key.kid)).toContain(decodeJwt(token).header.kid);
      }
    });
  });

  describe("GET /api/public/coworkers/access-history", () => {
    it("answers 200 with every impersonation of the caller's own profiles", async () => {
      const milo = await session("milo");
      const reason = `history-${Date.now()}`;
      const asMilo = await impersonate(portal, tokens.otto!, 42, { reason });
      await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: asMilo });
      await impersonate(portal, tokens.tess!, 42, { team: true, reason: `${reason}-team` });
      const reply = await call(portal, "GET", "/api/public/coworkers/access-history", {
        token: milo,
      });
      expect(reply.status).toBe(200);
      const items = fields(reply).items as Record<string, unknown>[];
      for (const item of items) {
        expect(Object.keys(item)).toEqual(
          expect.arrayContaining(["at", "actor", "kind", "reason", "endedAt"]),
        );
        expect(Object.keys(item.actor as object)).toEqual(["fullName"]);
      }
      expect(items.find((item) => item.reason === reason)).toMatchObject({
        actor: { fullName: "Otto Operator" },
        kind: "staff",
        endedAt: expect.stringMatching(ISO_UTC) as unknown,
      });
      expect(items.find((item) => item.reason === `${reason}-team`)).toMatchObject({
        actor: { fullName: "Tess Teamadmin" },
        kind: "team",
        endedAt: null,
      });
      // Nobody impersonated Ivan.
      expect(
        fields(
          await call(portal, "GET", "/api/public/coworkers/access-history", {
            token: tokens.ivan!,
          }),
        ).items,
      ).toEqual([]);
    });

    it("answers 401 without a session and 403 to an impersonated one", async () => {
      expectError(await call(portal, "GET", "/api/public/coworkers/access-history"), 401);
      const asMilo = remember(await impersonate(portal, tokens.otto!, 42));
      expectError(
        await call(portal, "GET", "/api/public/coworkers/access-history", { token: asMilo }),
        403,
      );
    });
  });

  describe("/api/trpc: the same procedures behind the second door (B11)", () => {
    // Without a bearer, a POST is a browser call and must come from our own origin.
    const trpc = (procedure: string, token: string | null, input: unknown) =>
      call(portal, "POST", `/api/trpc/${procedure}`, {
        token,
        json: input,
        headers: { origin: portal.url },
      });
    const code = (reply: Reply) =>
      (fields(reply).error as { data?: { code?: string } } | undefined)?.data?.code ?? null;

    it("gives the REST outcome and status for each refusal, with the matching tRPC code", async () => {
      const cases: [string, string | null, unknown, number, string][] = [
        ["impersonation.impersonate", tokens.milo!, { coworkerId: 42 }, 401, "UNAUTHORIZED"],
        ["impersonation.impersonate", tokens.otto!, { coworkerId: { gt: 0 } }, 400, "BAD_REQUEST"],
        ["impersonation.impersonate", tokens.otto!, { coworkerId: 46 }, 403, "FORBIDDEN"],
        ["impersonation.impersonate", tokens.otto!, { coworkerId: 51 }, 404, "NOT_FOUND"],
        ["impersonation.impersonateTeamMember", tokens.tess!, { coworkerId: 44 }, 404, "NOT_FOUND"],
        ["impersonation.exchange", null, { token: "x.y.z" }, 401, "UNAUTHORIZED"],
      ];
      for (const [procedure, token, input, status, trpcCode] of cases) {
        const reply = await trpc(procedure, token, input);
        expect({ procedure, input, status: reply.status, code: code(reply) }).toEqual({
          procedure,
          input,
          status,
          code: trpcCode,
        });
        expectNoLeak(reply);
      }
      const ok = await trpc("impersonation.impersonate", tokens.otto!, {
        coworkerId: 42,
        actorId: 1,
        locationId: 2,
      });
      if (ok.status === 200) {
        const token = (fields(ok).result as { data: { token: string } }).data.token;
        expect(decodeJwt(token).payload.act).toEqual({ sub: "2" });
      } else {
        expect(ok.status).toBe(400);
      }
    });
  });

  describe("responses never leak", () => {
    it("answers unknown routes and methods without a 5xx", async () => {
      for (const [method, path] of [
        ["GET", "/api/sys/users/exchange"],
        ["DELETE", "/api/sys/users/me"],
        ["GET", "/api/sys/users/stop-impersonating"],
        ["POST", "/api/public/coworkers/42/impersonate"],
        ["GET", "/api/sys/nothing-here"],
      ] as const) {
        const reply = await call(portal, method, path, { token: tokens.otto! });
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expectNoLeak(reply);
      }
    });

    it("answers a method a REST path does not serve with 405 and the methods it does", async () => {
      for (const [method, path, allow] of [
        ["DELETE", "/api/sys/users/me", "GET, HEAD, OPTIONS"],
        ["GET", "/api/sys/users/exchange", "OPTIONS, POST"],
        // GET here mints a token, so HEAD is not GET without the body: it is refused (405).
        ["POST", "/api/public/coworkers/42/impersonate", "GET, OPTIONS"],
        ["GET", "/api/public/coworkers/profiles/current", "OPTIONS, PUT"],
      ] as const) {
        const reply = await call(portal, method, path, { token: tokens.otto! });
        expectError(reply, 405, "method_not_allowed");
        expect(reply.headers.allow, `${method} ${path}`).toBe(allow);
      }
      const options = await call(portal, "OPTIONS", "/api/token");
      expect(options.status).toBe(204);
      expect(options.headers.allow).toBe("OPTIONS, POST");
    });

    it("answers HEAD like GET, without the body", async () => {
      const get = await call(portal, "GET", "/api/sys/users/me", { token: tokens.milo! });
      const head = await call(portal, "HEAD", "/api/sys/users/me", { token: tokens.milo! });
      expect(head.status).toBe(200);
      expect(head.text).toBe("");
      expect(head.headers["content-type"]).toBe(get.headers["content-type"]);
      expect(head.headers["cache-control"]).toBe("no-store");
    });

    it("sends the same security headers on REST answers, pages and tRPC", async () => {
      const replies = await Promise.all([
        call(portal, "GET", "/api/sys/users/me", { token: tokens.milo! }),
        call(portal, "GET", "/api/sys/users/me"),
        call(portal, "GET", "/sign-in"),
        call(portal, "GET", "/api/trpc/auth.me", { token: tokens.milo! }),
      ]);
      for (const reply of replies) {
        expect(reply.headers["x-content-type-options"]).toBe("nosniff");
        expect(reply.headers["x-frame-options"]).toBe("DENY");
        expect(reply.headers["referrer-policy"]).toBe("same-origin");
        expect(reply.headers["x-request-id"]).toBeTruthy();
      }
    });

    it("never writes a token into its logs (ASVS 16.2.5)", () => {
      expect(seenTokens.size).toBeGreaterThan(20);
      const logs = portal.logs();
      for (const token of seenTokens) {
        expect(logs.includes(token)).toBe(false);
        expect(logs.includes(token.split(".")[2]!)).toBe(false);
      }
    });
  });
});

describe("throttling, client addresses and expiry (edge portal: TRUSTED_PROXIES, low limits)", () => {
  let portal: Portal;
  const LIMIT = 3;
  const xff = (ip: string) => ({ "x-forwarded-for": ip });

  beforeAll(async () => {
    portal = await startPortal({
      fixture: await rankFixture(),
      env: {
        IMPERSONATE_LIMIT_PER_MINUTE: String(LIMIT),
        SIGNIN_LIMIT_PER_15_MINUTES: String(LIMIT),
        TRUSTED_PROXIES: "127.0.0.1",
        IMPERSONATION_TOKEN_TTL_SECONDS: "5",
      },
    });
  });

  afterAll(async () => {
    await portal?.stop();
  });

  const retryAfter = (reply: Reply, windowS: number) => {
    const value = Number(reply.headers["retry-after"]);
    expect(Number.isInteger(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(1);
    expect(value).toBeLessThanOrEqual(windowS);
  };

  it("believes X-Forwarded-For from a listed proxy only; from anyone else the socket's address counts (G1)", async () => {
    const ada = await login(portal, EMAIL.ada);
    const viaProxy = await signInReply(portal, EMAIL.ivan, { headers: xff("203.0.113.7") });
    const viaProxyChain = await signInReply(portal, EMAIL.ivan, {
      headers: xff("203.0.113.8, 127.0.0.1"),
    });
    const direct = await call(portal, "POST", "/api/token", {
      host: "::1",
      json: { grant_type: "password", username: EMAIL.ivan, password: "demo-member-pass" },
      headers: xff("203.0.113.9"),
    });
    for (const reply of [viaProxy, viaProxyChain, direct])
      expect(reply.status, reply.text).toBe(200);
    const signins = (await auditAll(portal, ada, { actorUserId: 6 })).filter(
      (event) => event.type === "signin",
    );
    expect(signins.slice(0, 3).map((event) => event.ip)).toEqual([
      "::1",
      "203.0.113.8",
      "203.0.113.7",
    ]);
  });

  it("answers 429 with Retry-After once an account reaches its failed sign-ins, a correct password included", async () => {
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      expectError(
        await signInReply(portal, EMAIL.milo, {
          password: "wrong-password",
          headers: xff(`198.51.100.${attempt + 1}`),
        }),
        400,
        "invalid_grant",
      );
    }
    const throttled = await signInReply(portal, EMAIL.milo, { headers: xff("198.51.100.50") });
    expectError(throttled, 429);
    retryAfter(throttled, 900);
    expect(throttled.text).not.toContain("access_token");
    // Another account from the same addresses is not affected.
    expect((await signInReply(portal, EMAIL.sam, { headers: xff("198.51.100.1") })).status).toBe(
      200,
    );
  });

  it("answers 429 once a client address reaches its failed sign-ins, whatever the account; malformed requests do not count", async () => {
    const client = xff("192.0.2.77");
    for (let attempt = 0; attempt < LIMIT + 2; attempt++) {
      expectError(
        await call(portal, "POST", "/api/token", {
          json: { grant_type: "password", username: EMAIL.nora },
          headers: client,
        }),
        400,
        "invalid_request",
      );
    }
    for (const account of [EMAIL.rita, EMAIL.sam, "nobody@demo.test"]) {
      expectError(
        await signInReply(portal, account, { password: "wrong-password", headers: client }),
        400,
        "invalid_grant",
      );
    }
    const throttled = await signInReply(portal, EMAIL.nora, { headers: client });
    expectError(throttled, 429);
    retryAfter(throttled, 900);
    expect((await signInReply(portal, EMAIL.nora, { headers: xff("192.0.2.78") })).status).toBe(
      200,
    );
  });

  it("counts every spelling of one client address as that address: a lock on 2001:db8::1 holds for 2001:DB8::1, 2001:0db8:0:…:1, 2001:db8::0:1", async () => {
    const ada = await login(portal, EMAIL.ada);
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      expectError(
        await signInReply(portal, `v6-${attempt}@demo.test`, {
          password: "wrong-password",
          headers: xff("2001:db8::1"),
        }),
        400,
        "invalid_grant",
      );
    }
    for (const spelling of [
      "2001:db8::1",
      "2001:DB8::1",
      "2001:0db8:0000:0000:0000:0000:0000:0001",
      "2001:db8::0:1",
      "2001:db8:0:0:0:0:0:1",
    ]) {
      const reply = await signInReply(portal, "v6-check@demo.test", {
        password: "wrong-password",
        headers: xff(spelling),
      });
      expect({ spelling, status: reply.status }).toEqual({ spelling, status: 429 });
    }
    // IPv4-mapped IPv6 is the IPv4 address: one budget for both spellings.
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      expectError(
        await signInReply(portal, `v4m-${attempt}@demo.test`, {
          password: "wrong-password",
          headers: xff("::ffff:192.0.2.150"),
        }),
        400,
        "invalid_grant",
      );
    }
    expectError(
      await signInReply(portal, "v4m-check@demo.test", {
        password: "wrong-password",
        headers: xff("192.0.2.150"),
      }),
      429,
    );
    // The audit log writes the one canonical text.
    for (const spelling of ["2001:0DB8:0000::0002", "::FFFF:198.51.100.77"]) {
      expect((await signInReply(portal, EMAIL.ivan, { headers: xff(spelling) })).status).toBe(200);
    }
    const signins = (await auditAll(portal, ada, { actorUserId: 6 })).filter(
      (event) => event.type === "signin",
    );
    expect(signins.slice(0, 2).map((event) => event.ip)).toEqual(["198.51.100.77", "2001:db8::2"]);
  });

  it("never counts correct sign-ins, not even concurrent ones from one address for one account", async () => {
    // Adam signs in nowhere else in this portal, so a wrong 429 here cannot spill into other tests.
    const replies = await Promise.all(
      Array.from({ length: LIMIT + 3 }, () =>
        signInReply(portal, EMAIL.adam, { headers: xff("192.0.2.200") }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
  });

  it("ignores rotating X-Forwarded-For values from a client that is not a listed proxy (H2, V9)", async () => {
    // From ::1 (not a listed proxy): failures for different accounts, each with another
    // forwarded address. Only the socket's address can tie them together.
    const direct = (account: string, password: string, ip: string) =>
      call(portal, "POST", "/api/token", {
        host: "::1",
        json: { grant_type: "password", username: account, password },
        headers: xff(ip),
      });
    for (let attempt = 0; attempt < LIMIT; attempt++) {
      expectError(
        await direct(`h2-${attempt}@demo.test`, "wrong-password", `10.9.9.${attempt}`),
        400,
        "invalid_grant",
      );
    }
    expectError(await direct(EMAIL.ivan, "demo-member-pass", "10.9.9.200"), 429);
    expect((await signInReply(portal, EMAIL.ivan)).status).toBe(200);
  });

  it("answers 429 with Retry-After from the limit on, per actor, on both issue routes, whatever the address or session (H1, H2)", async () => {
    const otto = await login(portal, EMAIL.otto);
    for (let attempt = 0; attempt < LIMIT; attempt++)
      expect((await issueReply(portal, otto, 42)).status).toBe(200);
    const throttled = await issueReply(portal, otto, 42);
    expectError(throttled, 429);
    retryAfter(throttled, 60);
    expect(fields(throttled)).not.toHaveProperty("token");
    expectError(await issueReply(portal, otto, 43, { headers: xff("203.0.113.99") }), 429);
    expectError(await issueReply(portal, await login(portal, EMAIL.otto), 43), 429);

    const tess = await login(portal, EMAIL.tess);
    for (let attempt = 0; attempt < LIMIT; attempt++)
      expect((await issueReply(portal, tess, 42, { team: true })).status).toBe(200);
    const team = await issueReply(portal, tess, 42, { team: true });
    expectError(team, 429);
    retryAfter(team, 60);
    // An enumeration sweep runs into the limit too (H3): refused attempts count, on both routes.
    const ada = await login(portal, EMAIL.ada);
    const staffSweep = [];
    for (let id = 90; id < 90 + LIMIT + 2; id++)
      staffSweep.push((await issueReply(portal, ada, id)).status);
    expect(staffSweep).toEqual([404, 404, 404, 429, 429]);
    const ivan = await login(portal, EMAIL.ivan);
    const teamSweep = [];
    for (let id = 40; id < 40 + LIMIT + 2; id++)
      teamSweep.push((await issueReply(portal, ivan, id, { team: true })).status);
    expect(teamSweep.slice(LIMIT)).toEqual([429, 429]);
    const refusals = (await auditAll(portal, ada, { actorUserId: 2 })).filter(
      (event) => event.outcome === "refused" && event.type === "impersonation.issued",
    );
    expect(refusals[0]?.detail).toMatch(/throttled/);
  });

  it("refuses an impersonation token after its lifetime with 401 (C9)", async () => {
    const rita = await login(portal, EMAIL.rita);
    const token = await issue(portal, rita, 50, { team: true });
    await sleep(6500);
    expectError(await exchangeReply(portal, token), 401, "invalid_token");
  });
});

describe("IMPERSONATION=off (CONTRACT §6)", () => {
  let store: Store;
  const running: Portal[] = [];
  const start = async (impersonation: "on" | "off") => {
    const portal = await startPortal({
      ...store.options,
      env: { IMPERSONATION: impersonation, AUTH_ISSUER: "http://portal.test" },
    });
    running.push(portal);
    return portal;
  };

  beforeAll(async () => {
    store = await createStore();
  });

  afterAll(async () => {
    for (const portal of running) await portal.stop();
    await store?.close();
  });

  it("switches the feature off in that process on every path: 403 impersonation_disabled, 401 at the exchange, live sessions stop there", async () => {
    const on = await start("on");
    const otto = await login(on, EMAIL.otto);
    const tess = await login(on, EMAIL.tess);
    const live = await impersonate(on, otto, 42);
    const pending = await issue(on, otto, 43);
    expect((await me(on, live)).status).toBe(200);
    if (!onPostgres()) await on.stop(); // one process at a time on a PGlite folder

    const off = await start("off");
    expectError(await issueReply(off, otto, 42), 403, "impersonation_disabled");
    expectError(await issueReply(off, tess, 42, { team: true }), 403, "impersonation_disabled");
    expectError(await issueReply(off, tess, 44, { team: true }), 403, "impersonation_disabled");
    expectError(await exchangeReply(off, pending), 401, "invalid_token");
    expectError(await me(off, live), 401);
    expectError(await call(off, "GET", "/api/public/coworkers/profiles", { token: live }), 401);
    expectError(await call(off, "POST", "/api/sys/users/stop-impersonating", { token: live }), 401);
    // Own sessions are untouched, and tokens of the 'on' process verify here.
    expect(fields(await me(off, otto)).userId).toBe(2);
    const ada = await login(off, EMAIL.ada);
    const refusals = (await auditAll(off, ada, { actorUserId: 2 })).filter(
      (event) => event.outcome === "refused",
    );
    expect(refusals[0]).toMatchObject({
      type: "impersonation.issued",
      detail: expect.stringMatching(/impersonation_disabled/) as unknown,
    });

    if (onPostgres()) {
      // The same database, another process with the feature on: the session lives there, and
      // the refused exchange did not consume the token.
      expect(fields(await me(on, live)).userId).toBe(4);
      expectTokenResponse(await exchangeReply(on, pending));
    }
  });
});

describe("start-up configuration (CONTRACT §2)", () => {
  /** Starts the built server directly (no pnpm around it, whose own lines would blur "one line"). */
  const run = async (env: Record<string, string>) => {
    const port = String(await freePort());
    return new Promise<{ code: number | string | null; output: string }>((resolve) => {
      const dir = mkdtempSync(join(tmpdir(), "portal-config-"));
      const child = spawn(process.execPath, ["dist/server.js"], {
        cwd: portalDir,
        env: {
          ...process.env,
          NODE_ENV: "production",
          PORT: port,
          DATABASE_URL: "",
          PGLITE_DIR: dir,
          OTP_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      let started = false;
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        // It started after all: a bad value went unnoticed. Stop it; the test fails on `started`.
        if (!started && output.includes("Portal ready")) {
          started = true;
          child.kill("SIGKILL");
        }
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: started ? "started" : code, output });
      });
    });
  };

  // Each case is its own short-lived process; a few at a time keep the file quick.
  it.concurrent.for([
    ["IMPERSONATION", "maybe"],
    ["PORT", "abc"],
    ["AUTH_SIGNING_KEYS", "not json"],
    ["AUTH_SIGNING_KEYS", JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", kid: "hmac" }] })],
    [
      "AUTH_SIGNING_KEYS",
      JSON.stringify({
        keys: [
          {
            kty: "OKP",
            crv: "Ed25519",
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            kid: "public-only",
          },
        ],
      }),
    ],
    ["AUTH_SIGNING_KEYS", JSON.stringify({ keys: [] })],
    ["IMPERSONATE_LIMIT_PER_MINUTE", "-1"],
    ["SIGNIN_LIMIT_PER_15_MINUTES", "ten"],
    ["TRUSTED_PROXIES", "not-an-address"],
    ["AUTH_ISSUER", "not a url"],
    ["DATABASE_URL", "mysql://nope"],
    ["DATABASE_POOL_SIZE", "0"],
    ["IMPERSONATION_TOKEN_TTL_SECONDS", "301"],
    ["METRICS_TOKEN", "short"],
    ["LOG_LEVEL", "verbose"],
  ] as const)(
    "refuses %s=%s with one line naming the variable and a non-zero exit",
    async ([variable, value], { expect }) => {
      const { code, output } = await run({ [variable]: value });
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      const lines = output.split("\n").filter((line) => line.trim() !== "");
      expect(lines, output).toHaveLength(1);
      expect(lines[0]).toContain(variable);
      expect(lines[0]).not.toMatch(/\n\s+at /);
    },
  );
});
