// The browser door of /api/trpc: cookies only for the portal's own marked calls, an origin check
// on every browser POST, httpOnly SameSite cookies, and the actor's session kept aside while
// impersonating and given back on stop. REST never looks at cookies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, browserCall, browserSignIn, call, cookiesOf } from "./ops-helpers";
import { type Portal, signIn, startPortal } from "./support/portal";

let portal: Portal;
beforeAll(async () => {
  portal = await startPortal();
});
afterAll(() => portal?.stop());

const signInBody = JSON.stringify({ email: "ada.admin@demo.test", password: "demo-admin-pass" });

describe("the browser door", () => {
  it("sets an httpOnly, SameSite session cookie and keeps the token out of the body", async () => {
    const answer = await browserCall(portal, "auth.signIn", {
      email: "ada.admin@demo.test",
      password: "demo-admin-pass",
    });
    expect(answer.status).toBe(200);
    expect(answer.text).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    const setCookie = answer.headers
      .getSetCookie()
      .find((line) => line.startsWith("portal_session="));
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Secure/);
  });

  it("refuses a browser POST from another origin, or with no origin at all, and sets no cookie", async () => {
    for (const origin of ["https://evil.example", null]) {
      const answer = await call(portal, "/api/trpc/auth.signIn", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-portal-client": "web",
          ...(origin ? { origin } : {}),
        },
        body: signInBody,
      });
      expect(answer.status).toBe(403);
      expect(answer.headers.getSetCookie()).toEqual([]);
    }
  });

  it("ignores the session cookie on calls that do not come from the portal's own client", async () => {
    const session = await browserSignIn(portal, "ada.admin@demo.test", "demo-admin-pass");
    const viaTrpc = await call(portal, "/api/trpc/auth.me", {
      headers: { cookie: `portal_session=${session}` },
    });
    expect(viaTrpc.status).toBe(401);
    const viaRest = await call(portal, "/api/sys/users/me", {
      headers: { cookie: `portal_session=${session}` },
    });
    expect(viaRest.status).toBe(401);
    const issued = await call(portal, "/api/sys/users/impersonate?coworkerId=42", {
      headers: { cookie: `portal_session=${session}` },
    });
    expect(issued.status).toBe(401);
    expect(issued.text).not.toContain('token":');
  });

  it("swaps to the impersonated session, keeps the actor's aside, and gives it back on stop", async () => {
    const actor = await browserSignIn(portal, "otto.operator@demo.test", "demo-operator-pass");
    const actorCookie = `portal_session=${actor}`;
    const issued = await browserCall(
      portal,
      "impersonation.impersonate",
      { coworkerId: 42, reason: "browser door", returnPath: "/admin/impersonate" },
      actorCookie,
    );
    const token = (issued.body as { result: { data: { token: string } } }).result.data.token;
    const exchanged = await browserCall(portal, "impersonation.exchange", { token }, actorCookie);
    expect(exchanged.status).toBe(200);
    const cookies = cookiesOf(exchanged.headers);
    expect(cookies.portal_actor).toBe(actor);
    expect(cookies.portal_session).toBeTruthy();
    expect(cookies.portal_session).not.toBe(actor);
    const both = `portal_session=${cookies.portal_session}; portal_actor=${cookies.portal_actor}`;
    const me = await browserCall(portal, "auth.me", undefined, both, "query");
    expect(
      (
        me.body as {
          result: { data: { fullName: string; impersonation: { actor: { fullName: string } } } };
        }
      ).result.data,
    ).toMatchObject({
      fullName: "Milo Member",
      impersonation: { actor: { fullName: "Otto Operator" } },
    });

    const left = await browserCall(portal, "impersonation.leave", undefined, both);
    expect((left.body as { result: { data: unknown } }).result.data).toEqual({
      restored: true,
      returnPath: "/admin/impersonate",
    });
    const restored = cookiesOf(left.headers);
    expect(restored.portal_actor).toBe("");
    const back = await browserCall(
      portal,
      "auth.me",
      undefined,
      `portal_session=${restored.portal_session}`,
      "query",
    );
    expect(
      (back.body as { result: { data: { fullName: string; impersonation: null } } }).result.data,
    ).toMatchObject({ fullName: "Otto Operator", impersonation: null });
    // The impersonated session is over, for everyone holding it.
    const impersonated = await call(portal, "/api/sys/users/me", {
      headers: bearer(cookies.portal_session!),
    });
    expect(impersonated.status).toBe(401);
  });

  it("never hands an actor's session to someone holding only the impersonated one", async () => {
    const otto = await signIn(portal, "otto.operator@demo.test");
    const issued = await call<{ token: string }>(
      portal,
      "/api/sys/users/impersonate?coworkerId=43",
      { headers: bearer(otto) },
    );
    const exchanged = await call<{ access_token: string }>(portal, "/api/sys/users/exchange", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: issued.body.token }),
    });
    // The browser door with only the impersonated session: the stop works, nothing is restored.
    const left = await browserCall(
      portal,
      "impersonation.leave",
      undefined,
      `portal_session=${exchanged.body.access_token}`,
    );
    expect((left.body as { result: { data: unknown } }).result.data).toEqual({
      restored: false,
      returnPath: null,
    });
    expect(cookiesOf(left.headers).portal_session).toBe("");
  });
});
