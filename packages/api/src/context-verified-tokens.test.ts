// resolveSession verifies an access token once and takes it again afterwards: this must never
// accept what a fresh verification would refuse, and never skip the database.
import { CLOCK_TOLERANCE_S, verifyAccessToken } from "@cowork/auth";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { resolveSession } from "./context";
import { createTestApi, testTimes, type TestApi } from "./testing";

let api: TestApi;
const meta = { ip: "198.51.100.81", requestId: "verified-tokens-test", ...testTimes() };

beforeAll(async () => {
  api = await createTestApi();
});
afterAll(() => api.close());
afterEach(() => {
  vi.useRealTimers();
});

const fresh = (token: string) =>
  verifyAccessToken(api.deps.signer, token).then(
    () => "valid",
    () => "refused",
  );

describe("resolveSession with a token it verified before", () => {
  it("answers the same session again", async () => {
    const token = await api.signIn("milo.member@demo.test");
    const first = await resolveSession(api.deps, token, meta);
    expect(first.session).toMatchObject({ userId: 4 });
    expect(await resolveSession(api.deps, token, meta)).toEqual(first);
  });

  it("refuses it from the very second a fresh verification would call it expired", async () => {
    const token = await api.signIn("nora.nomad@demo.test");
    expect((await resolveSession(api.deps, token, meta)).session).not.toBeNull();
    const { exp } = decodeJwt(token);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime((exp! + CLOCK_TOLERANCE_S) * 1000 - 1);
    expect(await fresh(token)).toBe("valid");
    vi.setSystemTime((exp! + CLOCK_TOLERANCE_S) * 1000);
    expect(await fresh(token)).toBe("refused");
    expect(await resolveSession(api.deps, token, meta)).toEqual({
      session: null,
      sessionError: null,
    });
  });

  it("never takes a forged copy for it", async () => {
    const token = await api.signIn("ivan.indie@demo.test");
    expect((await resolveSession(api.deps, token, meta)).session).not.toBeNull();
    const [header, payload, signature] = token.split(".");
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BA" : "AA"}`;
    const forged = [
      `${header}.${payload}.${flipped}`,
      `${header}.${payload}.`,
      `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: "1" })).toString("base64url")}.${signature}`,
    ];
    for (const candidate of forged) {
      expect(await resolveSession(api.deps, candidate, meta)).toEqual({
        session: null,
        sessionError: null,
      });
    }
  });

  it("still asks the database every time: a signed-out session ends at once", async () => {
    const token = await api.signIn("sam.second@demo.test");
    expect((await resolveSession(api.deps, token, meta)).session).not.toBeNull();
    await (await api.caller(token)).auth.signOut();
    expect(await resolveSession(api.deps, token, meta)).toEqual({
      session: null,
      sessionError: null,
    });
  });
});
