// A bounded load test on PostgreSQL: 64 clients for LOAD_SECONDS (20 s in CI; `pnpm --filter
// @cowork/portal load` runs 60 s) mixing sign-in, impersonate, exchange, me and stop. Every
// answer counts, 503s included: the service answers 503 when it cannot answer within 5 s. Nothing
// but the designed 429s may fail, the server's memory must level off, and afterwards no session
// or grant may be in a wrong state.
import { Agent } from "node:http";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL, login, passwordOf, sleep } from "./support/flows";
import { call, expectError, fields, type Reply } from "./support/http";
import { invariantViolations } from "./support/invariants";
import { createSharedDatabase, startPortal, type Portal } from "./support/portal";
import { rssKiB } from "./support/proc";
import { sqlClient } from "./support/store";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 64);
/** Low enough that the busiest actors run into it: 429 is part of the designed answers. */
const ISSUE_LIMIT = 120;

const median = (values: number[]) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;
const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))] ??
  0;

describe(`load: ${CONCURRENCY} clients for ${SECONDS} s`, () => {
  let database: Awaited<ReturnType<typeof createSharedDatabase>>;
  let sql: postgres.Sql;
  let portal: Portal;

  beforeAll(async () => {
    database = await createSharedDatabase({ seed: true });
    sql = sqlClient(database.url!);
    portal = await startPortal({
      databaseUrl: database.url!,
      env: { IMPERSONATE_LIMIT_PER_MINUTE: String(ISSUE_LIMIT) },
    });
  });

  afterAll(async () => {
    await portal?.stop();
    await sql?.end({ timeout: 2 });
    await database?.close();
  });

  it(
    "answers only designed statuses, keeps memory level, and leaves every session and grant consistent",
    { timeout: (SECONDS + 120) * 1000 },
    async () => {
      const pid = portal.serverPid();
      expect(pid, "the node process serving the port").not.toBeNull();
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const actors = {
        staff: [await login(portal, EMAIL.otto), await login(portal, EMAIL.ada)],
        team: [await login(portal, EMAIL.tess), await login(portal, EMAIL.ivan)],
      };
      const members = [EMAIL.milo, EMAIL.nora, EMAIL.sam, EMAIL.rita, EMAIL.ivan];
      const sessions: string[] = [...actors.staff, ...actors.team];
      const counts: Record<string, number> = {};
      const latencies: Record<string, number[]> = {};
      const unexpected: string[] = [];
      const transport: string[] = [];

      const record = (op: string, reply: Reply, expected: number[]) => {
        const key = `${op} ${reply.status}`;
        counts[key] = (counts[key] ?? 0) + 1;
        (latencies[op] ??= []).push(reply.ms);
        if (!expected.includes(reply.status)) {
          if (unexpected.length < 20)
            unexpected.push(`${op}: ${reply.status} ${reply.text.slice(0, 160)}`);
        } else if (reply.status === 429) {
          expectError(reply, 429);
          expect(Number(reply.headers["retry-after"])).toBeGreaterThan(0);
        }
        return reply.status;
      };

      const iteration = async (worker: number, step: number) => {
        const roll = (worker * 7919 + step * 104_729) % 100;
        // Sign-ins are rare next to API calls, as in real traffic: two clients do them, so at
        // most two slow password hashes run at once.
        if (worker < 2 && step % 2 === 0) {
          // sign-in of a member (a new session each time)
          const email = members[(worker + step) % members.length]!;
          const reply = await call(portal, "POST", "/api/token", {
            agent,
            json: { grant_type: "password", username: email, password: passwordOf(email) },
          });
          if (record("signin", reply, [200]) === 200 && sessions.length < 400)
            sessions.push(fields(reply).access_token as string);
          return;
        }
        if (roll < 40) {
          // impersonate → exchange → me → (sometimes) stop
          const team = roll % 2 === 0;
          const pool = team ? actors.team : actors.staff;
          const actor = pool[(worker + step) % pool.length]!;
          const target = team ? (actor === actors.team[0] ? 42 : 45) : 42 + ((worker + step) % 4);
          const path = team
            ? `/api/public/coworkers/${target}/impersonate`
            : `/api/sys/users/impersonate?coworkerId=${target}&reason=load`;
          const issued = await call(portal, "GET", path, { agent, token: actor });
          if (record(team ? "issue (team)" : "issue (staff)", issued, [200, 429]) !== 200) return;
          const exchanged = await call(portal, "POST", "/api/sys/users/exchange", {
            agent,
            json: { token: fields(issued).token },
          });
          if (record("exchange", exchanged, [200]) !== 200) return;
          const access = fields(exchanged).access_token as string;
          record(
            "me (impersonated)",
            await call(portal, "GET", "/api/sys/users/me", { agent, token: access }),
            [200],
          );
          if (step % 2 === 0)
            record(
              "stop",
              await call(portal, "POST", "/api/sys/users/stop-impersonating", {
                agent,
                token: access,
              }),
              [204],
            );
          return;
        }
        record(
          "me",
          await call(portal, "GET", "/api/sys/users/me", {
            agent,
            token: sessions[(worker * 31 + step) % sessions.length]!,
          }),
          [200],
        );
      };

      const rss: number[] = [];
      const deadline = Date.now() + SECONDS * 1000;
      const sampler = (async () => {
        while (Date.now() < deadline) {
          rss.push(rssKiB(pid!));
          await sleep(500);
        }
      })();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, worker) => {
          for (let step = 0; Date.now() < deadline; step++) {
            try {
              await iteration(worker, step);
            } catch (error) {
              if (transport.length < 20) transport.push(String(error));
            }
          }
        }),
      );
      await sampler;
      agent.destroy();

      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      const summary = {
        requests: total,
        perSecond: Math.round(total / SECONDS),
        counts,
        p50ms: Object.fromEntries(
          Object.entries(latencies).map(([op, values]) => [op, Math.round(median(values))]),
        ),
        p99ms: Object.fromEntries(
          Object.entries(latencies).map(([op, values]) => [
            op,
            Math.round(percentile(values, 0.99)),
          ]),
        ),
        rssMiB: {
          first: Math.round(rss[0]! / 1024),
          max: Math.round(Math.max(...rss) / 1024),
          last: Math.round(rss.at(-1)! / 1024),
        },
      };
      console.info(`[load] ${JSON.stringify(summary)}`);

      expect(transport, "requests that failed below HTTP (hang, reset)").toEqual([]);
      expect(unexpected, JSON.stringify(summary)).toEqual([]);
      expect(counts["exchange 200"] ?? 0).toBeGreaterThan(10);
      expect(counts["me 200"] ?? 0).toBeGreaterThan(100);

      // Memory levels off: the last quarter of the run is not far above the second quarter.
      const quarter = Math.max(1, Math.floor(rss.length / 4));
      const warm = median(rss.slice(quarter, 2 * quarter));
      const late = median(rss.slice(-quarter));
      expect(late, JSON.stringify(summary)).toBeLessThan(warm * 1.5 + 64 * 1024);
      expect(Math.max(...rss)).toBeLessThan(2 * 1024 * 1024);

      // Afterwards: still healthy, and the database consistent.
      expect(
        (await call(portal, "GET", "/api/sys/users/me", { token: actors.staff[0]! })).status,
      ).toBe(200);
      expect(await invariantViolations(sql)).toEqual([]);
      const [row] = await sql`
      select (select count(*) from impersonation_grants where consumed_at is null and expires_at > now() + interval '300 seconds')::int as future_grants,
             (select count(*) from sessions s where s.grant_jti is not null and s.revoked_at is null and s.revoked_reason is not null)::int as half_revoked`;
      expect(row).toEqual({ future_grants: 0, half_revoked: 0 });
    },
  );
});
