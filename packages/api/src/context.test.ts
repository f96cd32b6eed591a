// The bearer door: a token resolves to a live session only when its signature, its kind, its
// subject and its actor all match the server-side session it names. Anything else is anonymous.
import { randomUUID } from "node:crypto";
import { generatePrivateJwk, loadKeySet, signToken } from "@cowork/auth";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createContext, resolveSession } from "./context";
import { domainErrorOf } from "./errors";
import { createTestApi, testTimes, type TestApi } from "./testing";

let api: TestApi;
let milo: string;
let miloSid: string;
let otto: string;
let impersonated: string;
let impersonatedSid: string;

const meta = { ip: "198.51.100.80", requestId: "context-test", ...testTimes() };
const expiresAt = () => new Date(Date.now() + 600_000);

beforeAll(async () => {
  api = await createTestApi();
  milo = await api.signIn("milo.member@demo.test");
  miloSid = decodeJwt(milo).sid as string;
  otto = await api.signIn("otto.operator@demo.test");
  const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 42 });
  impersonated = (await (await api.caller()).impersonation.exchange({ token })).accessToken!;
  impersonatedSid = decodeJwt(impersonated).sid as string;
});
afterAll(() => api.close());

async function expectAnonymous(token: string, label: string): Promise<void> {
  const resolved = await resolveSession(api.deps, token, meta);
  expect(resolved, label).toEqual({ session: null, sessionError: null });
  const error = await (await api.caller(token)).auth.me().then(
    () => expect.fail(`${label}: me answered`),
    (caught: unknown) => domainErrorOf(caught),
  );
  expect({ status: error.status, code: error.code }, label).toEqual({
    status: 401,
    code: "unauthorized",
  });
}

describe("resolveSession", () => {
  it("resolves a genuine token to its live session", async () => {
    const { session } = await resolveSession(api.deps, milo, meta);
    expect(session).toMatchObject({
      id: miloSid,
      userId: 4,
      locationId: 1,
      coworkerId: 42,
      staffRole: null,
      impersonation: null,
    });
    const { session: staff } = await resolveSession(api.deps, otto, meta);
    expect(staff).toMatchObject({ userId: 2, staffRole: "operator" });
    const { session: acting } = await resolveSession(api.deps, impersonated, meta);
    expect(acting).toMatchObject({
      id: impersonatedSid,
      userId: 4,
      staffRole: null,
      impersonation: { actorUserId: 2, kind: "staff" },
    });
  });

  it("treats no token and an empty token as anonymous", async () => {
    expect(await resolveSession(api.deps, null, meta)).toEqual({
      session: null,
      sessionError: null,
    });
    expect(await resolveSession(api.deps, "", meta)).toEqual({ session: null, sessionError: null });
  });

  it("never throws on garbage, and answers 401 to it", async () => {
    for (const garbage of [
      "x",
      "a.b.c",
      "Bearer x",
      `${milo}.`,
      ` ${milo}`,
      "a".repeat(100_000),
      "\u0000",
      "{}",
    ]) {
      await expectAnonymous(garbage, JSON.stringify(garbage.slice(0, 20)));
    }
  });

  it("refuses a real signature over another user's claim to a session", async () => {
    const token = signToken(
      api.deps.signer,
      "access",
      { sub: "1", sid: miloSid },
      { expiresAt: expiresAt() },
    );
    await expectAnonymous(token, "sub of Ada, session of Milo");
  });

  it("refuses an actor added to an own session, removed from an impersonated one, or changed", async () => {
    await expectAnonymous(
      signToken(
        api.deps.signer,
        "access",
        { sub: "4", sid: miloSid, act: { sub: "2" } },
        { expiresAt: expiresAt() },
      ),
      "act added",
    );
    await expectAnonymous(
      signToken(
        api.deps.signer,
        "access",
        { sub: "4", sid: impersonatedSid },
        { expiresAt: expiresAt() },
      ),
      "act removed",
    );
    await expectAnonymous(
      signToken(
        api.deps.signer,
        "access",
        { sub: "4", sid: impersonatedSid, act: { sub: "1" } },
        { expiresAt: expiresAt() },
      ),
      "act changed",
    );
  });

  it("refuses a session id that does not exist", async () => {
    await expectAnonymous(
      signToken(
        api.deps.signer,
        "access",
        { sub: "4", sid: randomUUID() },
        { expiresAt: expiresAt() },
      ),
      "unknown sid",
    );
  });

  it("refuses an impersonation token presented as a bearer", async () => {
    const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 43 });
    await expectAnonymous(token, "impersonation token");
    // Presenting it did not spend it.
    await expect((await api.caller()).impersonation.exchange({ token })).resolves.toHaveProperty(
      "accessToken",
    );
  });

  it("refuses tokens signed by another key set or for another issuer", async () => {
    const foreignKeys = await loadKeySet([await generatePrivateJwk()]);
    const foreign = signToken(
      { keys: foreignKeys, issuer: api.deps.signer.issuer },
      "access",
      { sub: "4", sid: miloSid },
      { expiresAt: expiresAt() },
    );
    await expectAnonymous(foreign, "foreign key");
    const otherIssuer = signToken(
      { keys: api.deps.signer.keys, issuer: "http://elsewhere.test" },
      "access",
      { sub: "4", sid: miloSid },
      { expiresAt: expiresAt() },
    );
    await expectAnonymous(otherIssuer, "other issuer");
  });

  it("refuses an alg none copy of a genuine token", async () => {
    const [, payload] = milo.split(".");
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString(
      "base64url",
    );
    await expectAnonymous(`${header}.${payload}.`, "alg none");
  });

  it("refuses the token of a revoked session at once", async () => {
    const own = await api.signIn("nora.nomad@demo.test");
    expect((await resolveSession(api.deps, own, meta)).session).not.toBeNull();
    await (await api.caller(own)).auth.signOut();
    await expectAnonymous(own, "signed out");
  });

  it("has jose check the signature at every request, the same token again included", async () => {
    const verify = vi.spyOn(crypto.subtle, "verify");
    try {
      const first = await resolveSession(api.deps, milo, meta);
      expect(first.session).toMatchObject({ id: miloSid });
      expect(await resolveSession(api.deps, milo, meta)).toEqual(first);
      expect(await resolveSession(api.deps, milo, meta)).toEqual(first);
      const keys = [...api.deps.signer.keys.verifying.values()];
      const checks = verify.mock.calls.filter(([, key]) => keys.includes(key));
      expect(checks).toHaveLength(3);
    } finally {
      verify.mockRestore();
    }
  });

  it("builds the context from its parts without throwing", async () => {
    const context = await createContext({ deps: api.deps, token: "not-a-token", meta });
    expect(context).toMatchObject({ session: null, sessionError: null, meta, browser: null });
    expect(context.deps).toBe(api.deps);
  });
});
