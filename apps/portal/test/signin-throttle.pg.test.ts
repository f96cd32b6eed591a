// Sign-in throttling against concurrency across two server processes on one PostgreSQL database
// (CONTRACT §2 "counted across all processes", §6 "Sign-in throttling"): bursts split over both
// processes, REST and tRPC batches at once, one address over several accounts. The database is
// the only state the processes share; the audit log there shows how many passwords were checked.
import type postgres from "postgres";
import { type Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL, passwordOf } from "./support/flows";
import { type Reply } from "./support/http";
import { createSharedDatabase, startPortal, type Portal } from "./support/portal";
import { burst, burstAgent, signInBatch, statusCounts } from "./support/sign-in-burst";
import { sqlClient } from "./support/store";

const LIMIT = 5;

describe("sign-in throttling across two processes, one database", () => {
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let sql: postgres.Sql;
  let a: Portal;
  let b: Portal;
  let agent: Agent;

  beforeAll(async () => {
    database = await createSharedDatabase({ seed: true });
    sql = sqlClient(database.url!);
    const env = { SIGNIN_LIMIT_PER_15_MINUTES: String(LIMIT), TRUSTED_PROXIES: "127.0.0.1" };
    [a, b] = await Promise.all([
      startPortal({ databaseUrl: database.url!, env }),
      startPortal({ databaseUrl: database.url!, env }),
    ]);
    agent = burstAgent();
  });

  afterAll(async () => {
    agent?.destroy();
    await Promise.all([a?.stop(), b?.stop()]);
    await sql?.end({ timeout: 2 });
    await database?.close();
  });

  const statusesOf = (replies: Reply[]) => statusCounts(replies.map((reply) => reply.status));

  /** Wrong passwords checked for an account (or from an address), as the audit log has them. */
  async function checkedAndWrong(where: { email: string } | { ip: string }): Promise<number> {
    const [row] =
      "email" in where
        ? await sql`select count(*)::int as n from audit_events
            where type = 'signin.failed' and detail = 'invalid_credentials'
              and actor_user_id = (select id from users where lower(email) = ${where.email})`
        : await sql`select count(*)::int as n from audit_events
            where type = 'signin.failed' and detail = 'invalid_credentials' and ip = ${where.ip}`;
    return row!.n as number;
  }

  it("checks exactly the limit of 20 wrong passwords sent at once to both processes", async () => {
    // Both processes warm, then all at once.
    await burst(
      [a, b].map((portal) => ({ portal, email: "warm@demo.test", password: "x", ip: "192.0.2.1" })),
      agent,
    );
    const replies = await burst(
      Array.from({ length: 20 }, (_, index) => ({
        portal: index % 2 ? a : b,
        email: EMAIL.milo,
        password: `wrong-${index}`,
        ip: `192.0.2.${index + 10}`,
      })),
      agent,
    );
    expect(statusesOf(replies)).toEqual({ 400: LIMIT, 429: 20 - LIMIT });
    expect(await checkedAndWrong({ email: EMAIL.milo })).toBe(LIMIT);
    const [log] = await sql`select count(*)::int as n from throttle_hits
      where key = ${`signin:account:${EMAIL.milo}`}`;
    expect(log!.n).toBe(LIMIT);
  });

  it("of 29 wrong passwords and the right one over both processes, checks only the limit of wrong ones; the right one, sent after, answers 429", async () => {
    const replies = await burst(
      Array.from({ length: 30 }, (_, index) => ({
        portal: index % 2 ? a : b,
        email: EMAIL.nora,
        password: index === 29 ? passwordOf(EMAIL.nora) : `wrong-${index}`,
        ip: `198.51.100.${index + 1}`,
      })),
      agent,
    );
    const counts = statusesOf(replies);
    expect(counts[400], JSON.stringify(counts)).toBe(LIMIT);
    expect(counts[200] ?? 0).toBeLessThanOrEqual(1);
    expect(await checkedAndWrong({ email: EMAIL.nora })).toBe(LIMIT);
    for (const portal of [a, b]) {
      const [late] = await burst(
        [{ portal, email: EMAIL.nora, password: passwordOf(EMAIL.nora), ip: "198.51.100.99" }],
        agent,
      );
      expect(late!.status, late!.text).toBe(429);
      const seconds = Number(late!.headers["retry-after"]);
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(900);
    }
  });

  it("counts the calls of tRPC batches sent to both processes at once, and REST attempts beside them, as if each were alone", async () => {
    const calls = (from: number) =>
      Array.from({ length: 10 }, (_, index) => ({
        email: EMAIL.ivan,
        password: `wrong-${from + index}`,
      }));
    const [first, second, rest] = await Promise.all([
      signInBatch(a, calls(0), "192.0.2.101"),
      signInBatch(b, calls(10), "192.0.2.102"),
      burst(
        Array.from({ length: 6 }, (_, index) => ({
          portal: index % 2 ? a : b,
          email: EMAIL.ivan,
          password: `wrong-rest-${index}`,
          ip: `192.0.2.${110 + index}`,
        })),
        agent,
      ),
    ]);
    const statuses = [
      ...first.statuses!,
      ...second.statuses!,
      ...rest.map((reply) => reply.status),
    ];
    expect(statusCounts(statuses)).toEqual({ 400: LIMIT, 429: 26 - LIMIT });
    expect(await checkedAndWrong({ email: EMAIL.ivan })).toBe(LIMIT);
  });

  it("checks exactly the limit of wrong passwords from one address over four accounts on both processes", async () => {
    const ip = "203.0.113.20";
    const accounts = [EMAIL.rita, EMAIL.sam, EMAIL.tess, "ghost@demo.test"];
    const replies = await burst(
      Array.from({ length: 24 }, (_, index) => ({
        portal: index % 2 ? a : b,
        email: accounts[index % 4]!,
        password: `wrong-${index}`,
        ip,
      })),
      agent,
    );
    expect(statusesOf(replies)).toEqual({ 400: LIMIT, 429: 24 - LIMIT });
    expect(await checkedAndWrong({ ip })).toBe(LIMIT);
  });
});
