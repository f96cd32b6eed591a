// Read-only impersonation, end to end over HTTP: issue with mode=readonly, exchange, the session
// says so, every change answers 403 read_only (ending the session still works), the audit log
// records the mode; and without mode (or with mode=full) it stays a full impersonation.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPortal, type Portal } from "./support/portal";
import {
  anyString,
  bearer,
  call,
  exchange,
  impersonationToken,
  jsonBody,
  signIn,
} from "./ops-helpers";

let portal: Portal;
let otto: string;
let tess: string;
let ada: string;

beforeAll(async () => {
  portal = await startPortal();
  [otto, tess, ada] = await Promise.all([
    signIn(portal, "otto.operator@demo.test"),
    signIn(portal, "tess.teamadmin@demo.test"),
    signIn(portal, "ada.admin@demo.test"),
  ]);
});
afterAll(() => portal?.stop());

interface AuditItem {
  type: string;
  outcome: string;
  target: { coworkerId: number } | null;
  mode: "readonly" | "full" | null;
  reason: string | null;
}

async function auditFor(reason: string): Promise<AuditItem[]> {
  const answer = await call<{ items: AuditItem[] }>(portal, "/api/sys/audit?limit=200", {
    headers: bearer(ada),
  });
  expect(answer.status).toBe(200);
  return answer.body.items.filter((item) => item.reason === reason);
}

const setProfile = (token: string, coworkerId: number) =>
  call(portal, "/api/public/coworkers/profiles/current", {
    ...jsonBody({ coworkerId }),
    method: "PUT",
    headers: { ...bearer(token), "content-type": "application/json" },
  });

describe("mode=readonly (staff route)", () => {
  const reason = "read-only check 1";
  let token: string;
  let session: string;

  it("issues a token carrying ro and exchanges it for a read-only session", async () => {
    token = await impersonationToken(portal, otto, 42, { mode: "readonly", reason });
    expect(decodeJwt(token).ro).toBe(true);
    session = await exchange(portal, token);
    const me = await call<{
      staffRole: string | null;
      impersonation: { readOnly: boolean; kind: string; reason: string; actor: { userId: number } };
    }>(portal, "/api/sys/users/me", { headers: bearer(session) });
    expect(me.status).toBe(200);
    expect(me.body.staffRole).toBeNull();
    expect(me.body.impersonation).toMatchObject({
      readOnly: true,
      kind: "staff",
      reason,
      actor: { userId: 2 },
    });
  });

  it("still reads", async () => {
    const profiles = await call<unknown[]>(portal, "/api/public/coworkers/profiles", {
      headers: bearer(session),
    });
    expect(profiles.status).toBe(200);
    expect(profiles.body).toHaveLength(1);
  });

  it("refuses every change with 403 read_only, on REST and on tRPC", async () => {
    const rest = await setProfile(session, 42);
    expect(rest.status).toBe(403);
    expect(rest.body).toEqual({ error: "read_only", message: anyString });
    const trpc = await call<{ error: { data: { error: string; httpStatus: number } } }>(
      portal,
      "/api/trpc/profiles.setCurrentProfile",
      {
        method: "POST",
        headers: { ...bearer(session), "content-type": "application/json" },
        body: JSON.stringify({ coworkerId: 42 }),
      },
    );
    expect(trpc.status).toBe(403);
    expect(trpc.body.error.data).toMatchObject({ error: "read_only", httpStatus: 403 });
  });

  it("can still be stopped, at once", async () => {
    const stop = await call(portal, "/api/sys/users/stop-impersonating", {
      method: "POST",
      headers: bearer(session),
    });
    expect(stop.status).toBe(204);
    expect((await call(portal, "/api/sys/users/me", { headers: bearer(session) })).status).toBe(
      401,
    );
  });

  it("is recorded as readonly in the audit log: issued, exchanged, stopped", async () => {
    const events = await auditFor(reason);
    expect(
      events.map((event) => [event.type, event.outcome, event.mode, event.target?.coworkerId]),
    ).toEqual([
      ["impersonation.stopped", "success", "readonly", 42],
      ["impersonation.exchanged", "success", "readonly", 42],
      ["impersonation.issued", "success", "readonly", 42],
    ]);
  });
});

describe("mode=readonly (team route)", () => {
  it("gives a read-only team impersonation that may still sign out", async () => {
    const token = await impersonationToken(portal, tess, 43, {
      team: true,
      mode: "readonly",
      reason: "read-only team",
    });
    expect(decodeJwt(token).ro).toBe(true);
    const session = await exchange(portal, token);
    const me = await call<{ impersonation: { readOnly: boolean; kind: string } }>(
      portal,
      "/api/sys/users/me",
      { headers: bearer(session) },
    );
    expect(me.body.impersonation).toMatchObject({ readOnly: true, kind: "team" });
    expect((await setProfile(session, 43)).body).toMatchObject({ error: "read_only" });
    expect(
      (await call(portal, "/api/sys/users/sign-out", { method: "POST", headers: bearer(session) }))
        .status,
    ).toBe(204);
    expect((await auditFor("read-only team")).map((event) => event.mode)).toEqual([
      "readonly",
      "readonly",
    ]);
  });
});

describe("the default stays full", () => {
  for (const mode of [undefined, "full"] as const) {
    it(`mode ${mode ?? "absent"}: a full impersonation, recorded as full`, async () => {
      const reason = `full check ${mode ?? "default"}`;
      const token = await impersonationToken(portal, otto, 42, {
        reason,
        ...(mode ? { mode } : {}),
      });
      expect(decodeJwt(token).ro).toBeUndefined();
      const session = await exchange(portal, token);
      const me = await call<{ impersonation: { readOnly: boolean } }>(portal, "/api/sys/users/me", {
        headers: bearer(session),
      });
      expect(me.body.impersonation.readOnly).toBe(false);
      // Not read_only: the refusal is the one every impersonated session gets for a profile switch.
      expect((await setProfile(session, 42)).body).toMatchObject({ error: "forbidden" });
      expect(
        (
          await call(portal, "/api/sys/users/stop-impersonating", {
            method: "POST",
            headers: bearer(session),
          })
        ).status,
      ).toBe(204);
      const events = await auditFor(reason);
      expect(events.map((event) => event.type)).toEqual([
        "impersonation.stopped",
        "impersonation.exchanged",
        "impersonation.issued",
      ]);
      expect(events.every((event) => event.mode === "full")).toBe(true);
    });
  }

  it("refuses an unknown mode with 400 invalid_request", async () => {
    const answer = await call(portal, "/api/sys/users/impersonate?coworkerId=42&mode=readwrite", {
      headers: bearer(otto),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: "invalid_request" });
  });
});
