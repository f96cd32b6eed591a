// Every change and its audit event are written together: when the audit write fails, the change
// it records does not happen either (CONTRACT §6 "in the same transaction").
import { queryRows } from "@cowork/db";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { domainErrorOf } from "../errors";
import { createTestApi, type TestApi } from "../testing";

let api: TestApi;
const rows = <T>(query: SQL) => queryRows<T>(api.database.db, query);
const as = (bearer: string | null) => api.caller(bearer);

async function expectServerError(promise: Promise<unknown>, label: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(domainErrorOf(error).status, label).toBeGreaterThanOrEqual(500);
    return;
  }
  expect.fail(`${label}: succeeded although its audit event could not be written`);
}

async function breakAuditWrites(): Promise<void> {
  await rows(
    sql.raw(`create or replace function refuse_audit_write() returns trigger language plpgsql as $$
    begin raise exception 'audit store unavailable'; end $$`),
  );
  await rows(
    sql.raw(
      `create trigger refuse_audit_write before insert on audit_events for each row execute function refuse_audit_write()`,
    ),
  );
}

async function repairAuditWrites(): Promise<void> {
  await rows(sql.raw(`drop trigger if exists refuse_audit_write on audit_events`));
}

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
});
afterAll(() => api.close());

describe("a failed audit write leaves nothing half done (I3)", () => {
  it("issue, exchange, stop, sign-out, profile switch and sign-in all roll back, and work once the audit store is back", async () => {
    const otto = await api.signIn("otto.operator@demo.test");
    const nora = await api.signIn("nora.nomad@demo.test");
    const pending = (await (await as(otto)).impersonation.impersonate({ coworkerId: 42 })).token;
    const live = (
      await (
        await as(null)
      ).impersonation.exchange({
        token: (await (await as(otto)).impersonation.impersonate({ coworkerId: 43 })).token,
      })
    ).accessToken!;
    const count = async (table: "impersonation_grants" | "sessions") =>
      (await rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!
        .n;
    const grantsBefore = await count("impersonation_grants");
    const sessionsBefore = await count("sessions");
    const eventsBefore = (
      await rows<{ n: number }>(sql`select count(*)::int as n from audit_events`)
    )[0]!.n;

    await breakAuditWrites();
    try {
      await expectServerError(
        (await as(otto)).impersonation.impersonate({ coworkerId: 44 }),
        "issue",
      );
      expect(await count("impersonation_grants")).toBe(grantsBefore);

      await expectServerError(
        (await as(null)).impersonation.exchange({ token: pending }),
        "exchange",
      );
      const [grant] = await rows<{ consumed: boolean }>(
        sql`select consumed_at is not null as consumed from impersonation_grants where jti = ${decodeJwt(pending).jti}`,
      );
      expect(grant?.consumed).toBe(false);

      await expectServerError((await as(live)).impersonation.stopImpersonating(), "stop");
      await expectServerError((await as(otto)).auth.signOut(), "sign-out");
      await expectServerError(
        (await as(nora)).profiles.setCurrentProfile({ coworkerId: 50 }),
        "profile switch",
      );
      await expectServerError(
        (await as(null)).auth.signIn({
          email: "milo.member@demo.test",
          password: "demo-member-pass",
        }),
        "sign-in",
      );
      expect(await count("sessions")).toBe(sessionsBefore);
      expect(
        (
          await rows<{ n: number }>(
            sql`select count(*)::int as n from sessions where revoked_at is not null`,
          )
        )[0]!.n,
      ).toBe(0);
      expect(
        (await rows<{ n: number }>(sql`select count(*)::int as n from audit_events`))[0]!.n,
      ).toBe(eventsBefore);
    } finally {
      await repairAuditWrites();
    }

    // Nothing was spent or ended while the audit store was down.
    expect((await (await as(live)).auth.me()).userId).toBe(5);
    expect((await (await as(nora)).auth.me()).location.id).toBe(1);
    const { accessToken } = await (await as(null)).impersonation.exchange({ token: pending });
    expect((await (await as(accessToken)).auth.me()).userId).toBe(4);
    await (await as(live)).impersonation.stopImpersonating();
    await expect((await as(live)).auth.me()).rejects.toThrow();
    await expect(
      (await as(otto)).impersonation.impersonate({ coworkerId: 44 }),
    ).resolves.toHaveProperty("token");
  });
});
