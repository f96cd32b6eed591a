// CONTRACT §10 over real HTTP against the production build: the step-up challenge as the front
// door writes it (RFC 9470), a one-time-code app enrolled and used through REST, and DPoP-bound
// sessions used through @cowork/client on both doors, the proof's htu built from the URL the
// request was sent to, and every refusal with its status, code and WWW-Authenticate.
import {
  createDpopKey,
  createDpopProof,
  createPortalClient,
  dpopFetch,
  requestToken,
} from "@cowork/client";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, type Portal, signIn, startPortal } from "./support/portal";

let portal: Portal;

beforeAll(async () => {
  portal = await startPortal({ env: { STEP_UP_MAX_AGE_SECONDS: "120" } });
});
afterAll(() => portal?.stop());

const STEP_UP_CHALLENGE = 'Bearer error="insufficient_user_authentication", max_age=120';

async function send(path: string, init: RequestInit = {}) {
  const response = await fetch(`${portal.url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : null) as Record<string, unknown> | null,
  };
}

const post = (path: string, token: string | null, body?: unknown) =>
  send(path, {
    method: "POST",
    headers: {
      ...(token ? bearer(token) : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const codeOf = (secret: string, at = Date.now()) =>
  new TOTP({
    secret: Secret.fromBase32(secret),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  }).generate({ timestamp: at });

describe("step-up over HTTP", () => {
  it("enrols an app, then asks a password-only session to step up with the RFC 9470 challenge, and lets it issue after", async () => {
    const ada = await signIn(portal, "ada.admin@demo.test");
    const enrolled = await post("/api/sys/users/otp/enroll", ada);
    expect(enrolled.status).toBe(200);
    expect(enrolled.headers.get("cache-control")).toBe("no-store");
    const secret = enrolled.body!.secret as string;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolled.body!.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect((await post("/api/sys/users/otp/confirm", ada, { code: "000000" })).status).toBe(400);
    const confirmCode = codeOf(secret);
    expect((await post("/api/sys/users/otp/confirm", ada, { code: confirmCode })).status).toBe(204);
    expect((await post("/api/sys/users/otp/enroll", ada)).status).toBe(409);

    // A fresh sign-in proves the password only: not enough for an enrolled actor.
    const fresh = await signIn(portal, "ada.admin@demo.test");
    const refused = await send("/api/sys/users/impersonate?coworkerId=42", {
      headers: bearer(fresh),
    });
    expect({ status: refused.status, error: refused.body!.error }).toEqual({
      status: 401,
      error: "step_up_required",
    });
    expect(refused.headers.get("www-authenticate")).toBe(STEP_UP_CHALLENGE);
    const removalRefused = await send("/api/sys/users/otp", {
      method: "DELETE",
      headers: bearer(fresh),
    });
    expect(removalRefused.status).toBe(401);
    expect(removalRefused.headers.get("www-authenticate")).toBe(STEP_UP_CHALLENGE);

    // The code confirm used is used; the next step's code steps the session up.
    const reused = await post("/api/sys/users/reauthenticate", fresh, {
      password: "demo-admin-pass",
      otp: confirmCode,
    });
    expect({ status: reused.status, error: reused.body?.error }).toEqual({
      status: 400,
      error: "invalid_grant",
    });
    const stepped = await post("/api/sys/users/reauthenticate", fresh, {
      password: "demo-admin-pass",
      otp: codeOf(secret, Date.now() + 30_000),
    });
    expect(stepped.status).toBe(204);
    const me = await send("/api/sys/users/me", { headers: bearer(fresh) });
    expect((me.body!.amr as string[]).sort()).toEqual(["otp", "pwd"]);
    const issued = await send("/api/sys/users/impersonate?coworkerId=42", {
      headers: bearer(fresh),
    });
    expect(issued.status).toBe(200);
    // Removal after the step-up with the code.
    expect(
      (await send("/api/sys/users/otp", { method: "DELETE", headers: bearer(fresh) })).status,
    ).toBe(204);
  });

  it("answers the one-time-code routes 401 without a session and 403 from an impersonated one", async () => {
    expect((await post("/api/sys/users/otp/enroll", null)).status).toBe(401);
    expect((await post("/api/sys/users/reauthenticate", null, { password: "x" })).status).toBe(401);
    const otto = await signIn(portal, "otto.operator@demo.test");
    const { token } = (
      await send("/api/sys/users/impersonate?coworkerId=43", {
        headers: bearer(otto),
      })
    ).body as { token: string };
    const exchanged = await post("/api/sys/users/exchange", null, { token });
    const member = exchanged.body!.access_token as string;
    for (const [path, body] of [
      ["/api/sys/users/otp/enroll", undefined],
      ["/api/sys/users/otp/confirm", { code: "123456" }],
      ["/api/sys/users/reauthenticate", { password: "demo-member-pass" }],
    ] as const) {
      const answer = await post(path, member, body);
      expect({ path, status: answer.status, error: answer.body!.error }).toEqual({
        path,
        status: 403,
        error: "forbidden",
      });
    }
    const removal = await send("/api/sys/users/otp", { method: "DELETE", headers: bearer(member) });
    expect(removal.status).toBe(403);
  });
});

describe("DPoP over HTTP with @cowork/client", () => {
  it("binds a sign-in to the client's key and serves it on both doors, a fresh proof each time", async () => {
    const key = await createDpopKey();
    const issued = await requestToken({
      baseUrl: portal.url,
      username: "milo.member@demo.test",
      password: "demo-member-pass",
      dpop: key,
    });
    expect(issued.tokenType).toBe("DPoP");
    const client = createPortalClient({
      baseUrl: portal.url,
      token: issued.accessToken,
      dpop: key,
    });
    expect((await client.auth.me.query()).email).toBe("milo.member@demo.test");
    expect((await client.profiles.listProfiles.query()).length).toBeGreaterThan(0);
    const rest = dpopFetch(key);
    const me = await rest(`${portal.url}/api/sys/users/me`, {
      headers: { authorization: `DPoP ${issued.accessToken}` },
    });
    expect(me.status).toBe(200);
  });

  it("refuses the bound token as Bearer, without a proof, with a replayed proof, and with another key's proof", async () => {
    const key = await createDpopKey("EdDSA");
    const { accessToken } = await requestToken({
      baseUrl: portal.url,
      username: "nora.nomad@demo.test",
      password: "demo-member-pass",
      dpop: key,
    });
    const url = `${portal.url}/api/sys/users/me`;
    const asBearer = await send("/api/sys/users/me", { headers: bearer(accessToken) });
    expect({ status: asBearer.status, error: asBearer.body!.error }).toEqual({
      status: 401,
      error: "invalid_token",
    });
    expect(asBearer.headers.get("www-authenticate")).toBe('DPoP error="invalid_token"');

    const noProof = await send("/api/sys/users/me", {
      headers: { authorization: `DPoP ${accessToken}` },
    });
    expect({ status: noProof.status, error: noProof.body!.error }).toEqual({
      status: 401,
      error: "invalid_dpop_proof",
    });
    expect(noProof.headers.get("www-authenticate")).toBe('DPoP error="invalid_dpop_proof"');

    const proof = await createDpopProof(key, { method: "GET", url, accessToken });
    const headers = { authorization: `DPoP ${accessToken}`, dpop: proof };
    expect((await send("/api/sys/users/me", { headers })).status).toBe(200);
    const replayed = await send("/api/sys/users/me", { headers });
    expect({ status: replayed.status, error: replayed.body!.error }).toEqual({
      status: 401,
      error: "invalid_dpop_proof",
    });
    expect(replayed.headers.get("www-authenticate")).toBe('DPoP error="invalid_dpop_proof"');

    const other = await createDpopKey();
    const stolen = await send("/api/sys/users/me", {
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await createDpopProof(other, { method: "GET", url, accessToken }),
      },
    });
    expect({ status: stolen.status, error: stolen.body!.error }).toEqual({
      status: 401,
      error: "invalid_token",
    });
    expect(stolen.headers.get("www-authenticate")).toBe('DPoP error="invalid_token"');
  });

  it("builds htu from the Host the request was sent to, and believes forwarding headers only from a trusted proxy", async () => {
    const key = await createDpopKey();
    const { accessToken } = await requestToken({
      baseUrl: portal.url,
      username: "milo.member@demo.test",
      password: "demo-member-pass",
      dpop: key,
    });
    // The portal is reached as localhost:PORT; a proof for https://… of the same host is for
    // another URL, and a client's X-Forwarded-Proto (no proxy is trusted here) changes nothing.
    const httpsUrl = portal.url.replace("http://", "https://");
    const forwarded = await send("/api/sys/users/me", {
      headers: {
        authorization: `DPoP ${accessToken}`,
        "x-forwarded-proto": "https",
        dpop: await createDpopProof(key, {
          method: "GET",
          url: `${httpsUrl}/api/sys/users/me`,
          accessToken,
        }),
      },
    });
    expect(forwarded.status).toBe(401);
    expect(forwarded.body!.error).toBe("invalid_dpop_proof");
  });

  it("answers an invalid proof at /api/token with 400 invalid_dpop_proof in OAuth's dialect, and issues nothing", async () => {
    const key = await createDpopKey();
    const proof = await createDpopProof(key, { method: "GET", url: `${portal.url}/api/token` });
    const answer = await send("/api/token", {
      method: "POST",
      headers: { "content-type": "application/json", dpop: proof },
      body: JSON.stringify({
        grant_type: "password",
        username: "milo.member@demo.test",
        password: "demo-member-pass",
      }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: "invalid_dpop_proof",
      error_description: expect.any(String) as string,
    });
    expect(answer.body!.access_token).toBeUndefined();
  });
});
