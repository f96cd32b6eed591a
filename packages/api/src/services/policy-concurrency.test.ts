// Policy and consent changes against exchanges under way, and across processes: two service
// instances (each with its own connection pool, as two portal processes have) share one
// database. The races need PostgreSQL (PGlite has one connection); the sequential case runs on both.
import { createPostgres, queryRows } from "@cowork/db";
import { testDriver } from "@cowork/db/testing";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createContext } from "../context";
import { domainErrorOf } from "../errors";
import { createCaller } from "../root";
import { createTestApi, testTimes, type TestApi } from "../testing";
import { refusal } from "../testing-refusals";
import { createServiceDeps } from ".";
import { type ServiceDeps } from "./deps";

const driver = testDriver();

let api: TestApi;
/** The second process: its own pool on the same database (PostgreSQL only). */
let other: { deps: ServiceDeps; close: () => Promise<void> } | null = null;
let ada: string;
let milo: string;

const callerOf = async (deps: ServiceDeps, token: string | null) =>
  createCaller(
    await createContext({
      deps,
      token,
      meta: { ip: "203.0.113.8", requestId: "race", ...testTimes() },
    }),
  );
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const issue = async (coworkerId: number) =>
  (await (await callerOf(api.deps, ada)).impersonation.impersonate({ coworkerId })).token;
/** Exchanges on `deps`: the access token, or the refusal's status. */
const tryExchange = async (deps: ServiceDeps, token: string) => {
  try {
    const result = await (await callerOf(deps, null)).impersonation.exchange({ token });
    return { ok: true as const, accessToken: result.accessToken! };
  } catch (error) {
    return { ok: false as const, status: domainErrorOf(error).status };
  }
};
/** Whether an access token still works (on `deps`). */
const works = async (deps: ServiceDeps, token: string) => {
  try {
    await (await callerOf(deps, token)).auth.me();
    return true;
  } catch (error) {
    expect(domainErrorOf(error).status).toBe(401);
    return false;
  }
};
const processes = () => [api.deps, other?.deps ?? api.deps];

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  if (driver === "postgres") {
    const handle = createPostgres(api.database.url!, 10);
    other = {
      deps: await createServiceDeps(handle.db, api.deps.config),
      close: () => handle.close(),
    };
  }
  ada = await api.signIn("ada.admin@demo.test");
  milo = await api.signIn("milo.member@demo.test");
});
afterAll(async () => {
  await other?.close();
  await api.close();
});
beforeEach(async () => {
  await rows(sql`update location_policies set impersonation = true, staff_consent_required = true`);
  await rows(sql`update support_access_grants set revoked_at = now() where revoked_at is null`);
});

const grantStaff = async () =>
  (
    await (
      await callerOf(api.deps, milo)
    ).supportAccess.grantSupportAccess({
      grantedTo: "staff",
      hours: 1,
      mode: "full",
    })
  ).id;

describe("revoking consent against exchanges", () => {
  it("leaves no pending token exchangeable and no session on the grant alive once the revocation answered", async () => {
    const grantId = await grantStaff();
    const live = await tryExchange(api.deps, await issue(42));
    const pending = await Promise.all(Array.from({ length: 3 }, () => issue(42)));
    await (await callerOf(api.deps, milo)).supportAccess.revokeSupportAccess({ grantId });
    expect(live.ok).toBe(true);
    for (const deps of processes()) {
      expect(await works(deps, live.ok ? live.accessToken : "")).toBe(false);
    }
    for (const [index, token] of pending.entries()) {
      expect(await tryExchange(processes()[index % 2]!, token)).toEqual({ ok: false, status: 401 });
    }
  });

  if (driver === "postgres") {
    it("lets none of 20 concurrent exchanges succeed once the revocation has committed: they wait for it, then fail", async () => {
      const grantId = await grantStaff();
      const tokens = await Promise.all(Array.from({ length: 20 }, () => issue(42)));
      // The revocation's own UPDATE, held open on a connection of its own: exchanges that reach
      // the grant now must wait for its outcome.
      const holder = createPostgres(api.database.url!, 1);
      try {
        type Outcome = Awaited<ReturnType<typeof tryExchange>>;
        let racing: Promise<Outcome>[] = [];
        const settled: boolean[] = [];
        await holder.db.transaction(async (tx) => {
          await tx.execute(
            sql`update support_access_grants set revoked_at = now() where id = ${grantId}`,
          );
          racing = tokens.map((token, index) =>
            tryExchange(processes()[index % 2]!, token).then((result) => {
              settled.push(result.ok);
              return result;
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, 400));
          expect(settled, "an exchange finished while the revocation was open").toEqual([]);
        });
        // Committed: every exchange that waited sees the grant revoked.
        const outcomes = await Promise.all(racing);
        expect(outcomes).toEqual(tokens.map(() => ({ ok: false, status: 401 })));
      } finally {
        await holder.close();
      }
    });

    it("decides each of 20 exchanges racing the revocation service before or after it, never across: every session on the grant ends", async () => {
      for (let round = 0; round < 3; round++) {
        const grantId = await grantStaff();
        const tokens = await Promise.all(Array.from({ length: 20 }, () => issue(42)));
        const racing = tokens.map((token, index) => tryExchange(processes()[index % 2]!, token));
        const revoked = (async () => {
          await new Promise((resolve) => setTimeout(resolve, round * 5));
          await (
            await callerOf(processes()[round % 2]!, milo)
          ).supportAccess.revokeSupportAccess({
            grantId,
          });
        })();
        const outcomes = await Promise.all(racing);
        await revoked;
        // After the revocation answered, issuing is refused too.
        expect((await refusal(issue(42))).code).toBe("consent_required");
        for (const outcome of outcomes) {
          if (outcome.ok) {
            for (const deps of processes())
              expect(await works(deps, outcome.accessToken)).toBe(false);
          } else {
            expect(outcome.status).toBe(401);
          }
        }
        // Every success stands on the grant, so the revocation ended it.
        const [onGrant] = await rows<{ n: number }>(
          sql`select count(*)::int as n from impersonation_grants where consent_grant_id = ${grantId}`,
        );
        expect(onGrant!.n).toBe(outcomes.filter((outcome) => outcome.ok).length);
      }
    });
  }
});

describe("switching impersonation off", () => {
  it("ends live sessions and refuses pending tokens on every process at once, and they stay ended", async () => {
    await rows(sql`update location_policies set staff_consent_required = false`);
    const [a, b] = processes() as [ServiceDeps, ServiceDeps];
    const onA = await tryExchange(a, await issue(42));
    const onB = await tryExchange(b, await issue(43));
    const pending = await issue(44);
    expect(onA.ok && onB.ok).toBe(true);
    if (!onA.ok || !onB.ok) return;
    await (await callerOf(b, ada)).policy.updatePolicy({ impersonation: "off" });
    for (const deps of [a, b]) {
      expect(await works(deps, onA.accessToken)).toBe(false);
      expect(await works(deps, onB.accessToken)).toBe(false);
    }
    expect(await tryExchange(a, pending)).toEqual({ ok: false, status: 401 });
    await (await callerOf(a, ada)).policy.updatePolicy({ impersonation: "on" });
    for (const deps of [a, b]) {
      expect(await works(deps, onA.accessToken)).toBe(false);
      expect(await works(deps, onB.accessToken)).toBe(false);
    }
    expect(await works(a, ada)).toBe(true);
  });

  if (driver === "postgres") {
    it("leaves no session of 20 exchanges racing the switch alive once switched on again", async () => {
      await rows(sql`update location_policies set staff_consent_required = false`);
      for (let round = 0; round < 3; round++) {
        const tokens = await Promise.all(Array.from({ length: 20 }, () => issue(42)));
        const racing = tokens.map((token, index) => tryExchange(processes()[index % 2]!, token));
        await new Promise((resolve) => setTimeout(resolve, round * 5));
        await (
          await callerOf(processes()[round % 2]!, ada)
        ).policy.updatePolicy({
          impersonation: "off",
        });
        const outcomes = await Promise.all(racing);
        await (await callerOf(api.deps, ada)).policy.updatePolicy({ impersonation: "on" });
        for (const outcome of outcomes) {
          if (!outcome.ok) {
            expect(outcome.status).toBe(401);
            continue;
          }
          for (const deps of processes())
            expect(await works(deps, outcome.accessToken)).toBe(false);
          const sid = decodeJwt(outcome.accessToken).sid as string;
          const [row] = await rows<{ revoked_reason: string | null }>(
            sql`select revoked_reason from sessions where id = ${sid}`,
          );
          expect(row!.revoked_reason).toBe("policy_off");
        }
      }
    });
  }
});
