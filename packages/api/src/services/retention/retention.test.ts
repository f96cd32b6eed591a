// Retention (RETENTION_DAYS, AUDIT_RETENTION_DAYS): each table's rows past the window go and those
// inside it stay, live sessions never go, batches and rounds cut short finish later, the member's
// access history survives the purge (with its actions) for as long as the audit events are kept,
// the job logs and counts what it purged, and on PostgreSQL two jobs of two pools never both run a
// round. Rows are made old by moving their times back, as a year of use would leave them.
import { createPostgres, type DatabaseHandle, queryRows, withAdvisoryLock } from "@cowork/db";
import { testDriver } from "@cowork/db/testing";
import { type SQL, sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderMetrics } from "../../observability/metrics";
import { createTestApi, type TestApi } from "../../testing";
import { RETENTION_LOCK, retentionRound, startRetentionJob } from "./job";
import { cutoffsOf, purgeStatement, runRetentionRound } from "./purge";
import { PURGE_STEPS } from "./steps";

const driver = testDriver();
let api: TestApi;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
});
afterAll(() => api.close());

const DEFAULTS = { retentionDays: 30, auditRetentionDays: null };
const exec = <Row = Record<string, unknown>>(statement: SQL) =>
  queryRows<Row>(api.database.db, statement);
const ago = (days: number, hours = 0) =>
  sql`(now() - make_interval(days => ${days}) + make_interval(hours => ${hours}))`;
const count = async (statement: SQL) => (await exec<{ n: number }>(statement))[0]!.n;
const sid = (token: string) => decodeJwt(token).sid as string;

async function session(expiresAt: SQL, revokedAt: SQL | null = null): Promise<string> {
  const [row] = await exec<{ id: string }>(
    sql`insert into sessions (user_id, location_id, coworker_id, expires_at, revoked_at)
        values (4, 1, 42, ${expiresAt}, ${revokedAt ?? sql`null`}) returning id`,
  );
  return row!.id;
}

async function exists(table: string, where: SQL): Promise<boolean> {
  const [row] = await exec<{ found: boolean }>(
    sql`select exists (select 1 from ${sql.identifier(table)} where ${where}) as found`,
  );
  return row!.found;
}

describe("a round", () => {
  it("purges each table's rows that ended before the window, and keeps those that ended inside it", async () => {
    const sessions = {
      expired: await session(ago(31)),
      revoked: await session(ago(31, 6), ago(31)),
      expiredInside: await session(ago(29)),
      revokedInside: await session(ago(29, 6), ago(29)),
      live: await session(sql`now() + interval '1 hour'`),
    };
    const grant = async (issued: SQL, consumed = false) =>
      (
        await exec<{ jti: string }>(
          sql`insert into impersonation_grants (kind, actor_user_id, actor_session_id, target_user_id, coworker_id, location_id, issued_at, expires_at, consumed_at)
              values ('staff', 2, gen_random_uuid(), 4, 42, 1, ${issued}, ${issued} + interval '60 seconds',
                ${consumed ? issued : sql`null`}) returning jti`,
        )
      )[0]!.jti;
    const grants = { unused: await grant(ago(31)), unusedInside: await grant(ago(29)) };
    const consent = async (created: SQL, hours: number, revoked: SQL | null = null) =>
      (
        await exec<{ id: number }>(
          sql`insert into support_access_grants (user_id, coworker_id, location_id, granted_to, read_only, created_at, expires_at, revoked_at)
              values (4, 42, 1, 'staff', false, ${created}, ${created} + make_interval(hours => ${hours}), ${revoked ?? sql`null`})
              returning id`,
        )
      )[0]!.id;
    const consents = {
      expired: await consent(ago(40), 24),
      revoked: await consent(ago(35), 168, ago(34)),
      endedInside: await consent(ago(35), 168),
    };
    const mail = async (
      done: { sent?: SQL; givenUp?: SQL; created?: SQL },
      attempts: ("sent" | "failed")[],
    ) => {
      const [row] = await exec<{ id: number }>(
        sql`insert into mail_outbox (to_address, subject, text_body, html_body, created_at, sent_at, given_up_at)
            values ('milo@demo.test', 'Your account was entered', 'text', '<p>html</p>',
              ${done.created ?? ago(41)}, ${done.sent ?? sql`null`}, ${done.givenUp ?? sql`null`})
            returning id`,
      );
      for (const outcome of attempts)
        await exec(
          sql`insert into mail_attempts (mail_id, claim_id, worker, started_at, outcome)
              values (${row!.id}, gen_random_uuid(), 'test', ${ago(41)}, ${outcome})`,
        );
      return row!.id;
    };
    const mails = {
      sent: await mail({ sent: ago(31) }, ["sent"]),
      givenUp: await mail({ givenUp: ago(31) }, ["failed", "failed"]),
      sentInside: await mail({ sent: ago(29) }, ["sent"]),
      waiting: await mail({ created: ago(40) }, []),
    };
    const [hook] = await exec<{ id: number }>(
      sql`insert into webhooks (location_id, url, events, format, secret)
          values (1, 'https://receiver.example/hook', '{*}', 'standard-webhooks', 'sealed') returning id`,
    );
    const [event] = await exec<{ id: number }>(
      sql`insert into audit_events (type, outcome, location_id) values ('signin', 'success', 1) returning id`,
    );
    // The event's trigger queued it for the webhook; that message and older ones, made by hand.
    const message = async (done: { delivered?: SQL; givenUp?: SQL }, attempts: number) => {
      const [row] = await exec<{ id: number }>(
        sql`insert into webhook_outbox (webhook_id, session_id, created_at, delivered_at, given_up_at)
            values (${hook!.id}, ${await session(ago(20))}, ${ago(41)},
              ${done.delivered ?? sql`null`}, ${done.givenUp ?? sql`null`})
            returning id`,
      );
      for (let n = 0; n < attempts; n++)
        await exec(
          sql`insert into webhook_attempts (outbox_id, webhook_id, at, worker, status)
              values (${row!.id}, ${hook!.id}, ${ago(41)}, 'test', 500)`,
        );
      return row!.id;
    };
    const messages = {
      delivered: await message({ delivered: ago(31) }, 2),
      givenUp: await message({ givenUp: ago(31) }, 3),
      deliveredInside: await message({ delivered: ago(29) }, 1),
      waiting: await message({}, 1),
    };
    await exec(
      sql`insert into throttle_log (key, next_seq, expires_at) values
            ('test:old', 3, ${ago(31)}), ('test:recent', 2, ${ago(1)})`,
    );
    await exec(
      sql`insert into throttle_hits (key, seq, at) values
            ('test:old', 1, ${ago(31)}), ('test:old', 2, ${ago(31)}), ('test:recent', 1, ${ago(1)})`,
    );
    await exec(
      sql`insert into dpop_proofs (jkt, jti, expires_at) values
            ('test-jkt', 'old', ${ago(31)}), ('test-jkt', 'recent', ${ago(1)}),
            ('test-jkt', 'live', now() + interval '2 minutes')`,
    );

    const round = await runRetentionRound(api.database.db, DEFAULTS);
    expect(round).toEqual({
      purged: {
        sessions: 2,
        impersonation_grants: 1,
        support_access_grants: 2,
        mail_attempts: 3,
        mail_outbox: 2,
        webhook_attempts: 5,
        webhook_outbox: 2,
        throttle_hits: 2,
        throttle_log: 1,
        dpop_proofs: 1,
      },
      more: false,
    });

    const sessionIds = Object.values(sessions);
    const keptSessions = await exec<{ id: string }>(
      sql`select id from sessions where id in ${sessionIds}`,
    );
    expect(keptSessions.map((row) => row.id).sort()).toEqual(
      [sessions.expiredInside, sessions.revokedInside, sessions.live].sort(),
    );
    expect(await exists("impersonation_grants", sql`jti = ${grants.unused}`)).toBe(false);
    expect(await exists("impersonation_grants", sql`jti = ${grants.unusedInside}`)).toBe(true);
    const keptConsents = await exec<{ id: number }>(
      sql`select id from support_access_grants where id in ${Object.values(consents)}`,
    );
    expect(keptConsents.map((row) => Number(row.id))).toEqual([consents.endedInside]);
    const keptMail = await exec<{ id: number; attempts: number }>(
      sql`select m.id, (select count(*)::int from mail_attempts a where a.mail_id = m.id) as attempts
          from mail_outbox m where m.id in ${Object.values(mails)} order by m.id`,
    );
    expect(keptMail.map((row) => [Number(row.id), row.attempts])).toEqual([
      [mails.sentInside, 1],
      [mails.waiting, 0],
    ]);
    const keptMessages = await exec<{ id: number; attempts: number }>(
      sql`select o.id, (select count(*)::int from webhook_attempts a where a.outbox_id = o.id) as attempts
          from webhook_outbox o where o.webhook_id = ${hook!.id} and o.session_id is not null order by o.id`,
    );
    expect(keptMessages.map((row) => [Number(row.id), row.attempts])).toEqual([
      [messages.deliveredInside, 1],
      [messages.waiting, 1],
    ]);
    expect(await exists("webhook_outbox", sql`event_id = ${event!.id}`)).toBe(true);
    expect(await exec(sql`select key from throttle_log where key like 'test:%'`)).toEqual([
      { key: "test:recent" },
    ]);
    expect(await exec(sql`select key, seq from throttle_hits where key like 'test:%'`)).toEqual([
      { key: "test:recent", seq: 1 },
    ]);
    const keptJtis = await exec<{ jti: string }>(
      sql`select jti from dpop_proofs where jkt = 'test-jkt' order by jti`,
    );
    expect(keptJtis.map((row) => row.jti)).toEqual(["live", "recent"]);

    // Nothing is left for the next round.
    expect(await runRetentionRound(api.database.db, DEFAULTS)).toEqual({ purged: {}, more: false });
  });

  it("deletes in batches: more rows than one batch all go, and a round cut short leaves the rest to the next", async () => {
    await exec(
      sql`insert into dpop_proofs (jkt, jti, expires_at)
          select 'batch-jkt', 'jti-' || n, ${ago(40)} from generate_series(1, 2500) as n`,
    );
    const whole = await runRetentionRound(api.database.db, DEFAULTS, { batch: 1000 });
    expect(whole).toEqual({ purged: { dpop_proofs: 2500 }, more: false });

    for (let n = 0; n < 20; n++) await session(ago(45));
    // Only the sessions' steps, so that the batches counted are theirs: the third never starts.
    let batches = 0;
    const cut = await runRetentionRound(api.database.db, DEFAULTS, {
      batch: 7,
      steps: PURGE_STEPS.filter((step) => step.table === "sessions"),
      stopping: () => batches++ >= 2,
    });
    expect(cut).toEqual({ purged: { sessions: 14 }, more: true });
    expect(await runRetentionRound(api.database.db, DEFAULTS, { batch: 7 })).toEqual({
      purged: { sessions: 6 },
      more: false,
    });
  });

  it("never purges a live session, nor the staff session a live impersonation stands on, even with a one-day window", async () => {
    const otto = await api.signIn("otto.operator@demo.test");
    const milo = await api.signIn("milo.member@demo.test");
    const { token } = await (await api.caller(otto)).impersonation.impersonate({ coworkerId: 42 });
    const asMilo = (await (await api.caller(null)).impersonation.exchange({ token })).accessToken!;
    await (await api.caller(asMilo)).auth.me();
    // A session opened long ago that is still live (none lasts so long today; the rule must not
    // depend on it).
    const longLived = await session(sql`now() + interval '1 hour'`);
    await exec(sql`update sessions set created_at = ${ago(400)} where id = ${longLived}`);

    await runRetentionRound(api.database.db, { retentionDays: 1, auditRetentionDays: 1 });
    for (const id of [sid(otto), sid(milo), sid(asMilo), longLived])
      expect(await exists("sessions", sql`id = ${id}`), id).toBe(true);
    expect((await (await api.caller(asMilo)).auth.me()).impersonation).not.toBeNull();
    expect((await (await api.caller(otto)).auth.me()).email).toBe("otto.operator@demo.test");
    await (await api.caller(asMilo)).impersonation.stopImpersonating();
  });
});

describe("each step's batch", () => {
  it("is served by indexes: its window is an index condition, and with sequential scans switched off no plan has one", async () => {
    const cutoffs = cutoffsOf({ retentionDays: 30, auditRetentionDays: 400 });
    for (const step of PURGE_STEPS) {
      const where = step.purgeable(cutoffs)!;
      const plan = await api.database.db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        const result = await tx.execute(sql`explain ${purgeStatement(step.table, where, 1000)}`);
        const rows = (
          Array.isArray(result) ? result : (result as { rows: unknown[] }).rows
        ) as Record<string, string>[];
        return rows.map((row) => Object.values(row)[0]).join("\n");
      });
      expect(plan, `${step.table}:\n${plan}`).not.toMatch(/Seq Scan/);
      expect(plan, `${step.table}:\n${plan}`).toMatch(/Tid Scan/);
      // A full scan of some other index would also avoid "Seq Scan": the cutoff must bound one.
      expect(plan, `${step.table}:\n${plan}`).toMatch(/Index Cond: .*now\(\)/);
    }
  });
});

describe("the member's access history", () => {
  it("survives the purge of the staff session, the grant's consent and the window, with its actions, as long as the audit events are kept", async () => {
    await exec(
      sql`update location_policies set staff_consent_required = true where location_id = 1`,
    );
    try {
      const sam = await api.signIn("sam.second@demo.test");
      await (
        await api.caller(sam)
      ).supportAccess.grantSupportAccess({
        grantedTo: "staff",
        hours: 24,
        mode: "full",
      });
      const otto = await api.signIn("otto.operator@demo.test");
      const { token } = await (
        await api.caller(otto)
      ).impersonation.impersonate({
        coworkerId: 45,
        reason: "Locked out of billing",
      });
      const asSam = (await (await api.caller(null)).impersonation.exchange({ token })).accessToken!;
      await (await api.caller(asSam)).auth.me();
      await (await api.caller(asSam)).impersonation.stopImpersonating();
      await api.deps.actions.flush();

      // Forty days pass: the impersonation, the staff member's session and the consent end long
      // before the 30-day window.
      const impersonated = sid(asSam);
      const [{ jti, consent }] = (await exec<{ jti: string; consent: number }>(
        sql`select g.jti, g.consent_grant_id as consent from sessions s
            join impersonation_grants g on g.jti = s.grant_jti where s.id = ${impersonated}`,
      )) as [{ jti: string; consent: number }];
      expect(consent).not.toBeNull();
      const back = sql`make_interval(days => 40)`;
      await exec(
        sql`update sessions set created_at = created_at - ${back}, expires_at = expires_at - ${back},
              revoked_at = revoked_at - ${back}, auth_time = auth_time - ${back}
            where id in (${impersonated}, ${sid(otto)})`,
      );
      await exec(
        sql`update impersonation_grants set issued_at = issued_at - ${back},
              expires_at = expires_at - ${back}, consumed_at = consumed_at - ${back} where jti = ${jti}`,
      );
      await exec(
        sql`update support_access_grants set created_at = created_at - ${back},
              expires_at = expires_at - ${back}, revoked_at = revoked_at - ${back} where id = ${consent}`,
      );
      await exec(
        sql`update impersonation_actions set at = at - ${back} where session_id = ${impersonated}`,
      );
      const history = async () => (await (await api.caller(sam)).profiles.accessHistory()).items;
      const before = await history();
      const item = before.find((entry) => entry.reason === "Locked out of billing")!;
      expect(item.actions.map((action) => action.procedure)).toEqual([
        "auth.me",
        "impersonation.stopImpersonating",
      ]);

      const round = await runRetentionRound(api.database.db, DEFAULTS);
      expect(round.purged.sessions).toBeGreaterThanOrEqual(1);
      expect(round.purged.support_access_grants).toBe(1);
      expect(await exists("sessions", sql`id = ${sid(otto)}`)).toBe(false);
      expect(await exists("support_access_grants", sql`id = ${consent}`)).toBe(false);
      // The grant keeps which consent it stood on, as a record.
      expect(
        await exists("impersonation_grants", sql`jti = ${jti} and consent_grant_id = ${consent}`),
      ).toBe(true);
      expect(await history()).toEqual(before);

      // Audit events kept for 60 days: so is what the history shows of them.
      await runRetentionRound(api.database.db, { retentionDays: 30, auditRetentionDays: 60 });
      expect(await history()).toEqual(before);

      // Kept for 35 days: the impersonation goes with its events, its actions and grant first.
      const shorter = await runRetentionRound(api.database.db, {
        retentionDays: 30,
        auditRetentionDays: 35,
      });
      expect(shorter.purged).toMatchObject({
        impersonation_actions: 2,
        impersonation_grants: 1,
        sessions: 1,
      });
      expect(await history()).toEqual(before.filter((entry) => entry !== item));
    } finally {
      await exec(
        sql`update location_policies set staff_consent_required = false where location_id = 1`,
      );
    }
  });
});

describe("the job", () => {
  it("logs one line per round that purged anything, with the counts per table, and counts them in the metrics", async () => {
    const lines: { fields: unknown; message: string }[] = [];
    const logger = {
      info: (fields: unknown, message: string) => lines.push({ fields, message }),
      warn: (fields: unknown, message: string) => lines.push({ fields, message }),
    };
    const purgedMetric = async (table: string) => {
      const text = await renderMetrics(null);
      const match = new RegExp(
        `^cowork_retention_purged_total\\{table="${table}"\\} (\\d+)$`,
        "m",
      ).exec(text);
      return Number(match?.[1] ?? 0);
    };
    const before = await purgedMetric("dpop_proofs");
    await exec(
      sql`insert into dpop_proofs (jkt, jti, expires_at)
          select 'job-jkt', 'jti-' || n, ${ago(31)} from generate_series(1, 5) as n`,
    );
    await session(ago(50));
    const job = startRetentionJob(
      { db: api.database.db, config: DEFAULTS },
      { firstRoundMs: 3_600_000, logger: logger as never },
    );
    try {
      expect(await job.runNow()).toEqual({
        purged: { dpop_proofs: 5, sessions: 1 },
        more: false,
      });
      expect(lines).toEqual([
        {
          fields: { purged: { dpop_proofs: 5, sessions: 1 }, more: false },
          message: "retention: purged 5 dpop_proofs, 1 sessions",
        },
      ]);
      expect(await purgedMetric("dpop_proofs")).toBe(before + 5);
      // A round that purges nothing says nothing.
      expect(await job.runNow()).toEqual({ purged: {}, more: false });
      expect(lines).toHaveLength(1);
      expect(await renderMetrics(null)).toMatch(
        /^cowork_retention_rounds_total\{outcome="ran"\} \d+$/m,
      );
    } finally {
      await job.stop();
    }
  });

  if (driver === "postgres") {
    it("runs on one process at a time: two jobs of two pools on one database never both run a round, and nothing fails", async () => {
      const other: DatabaseHandle = createPostgres(api.database.url!, 4);
      try {
        const first = { db: api.database.db, config: DEFAULTS };
        const second = { db: other.db, config: DEFAULTS };
        // While one process holds the round, the other's turn is skipped and deletes nothing.
        await exec(
          sql`insert into dpop_proofs (jkt, jti, expires_at)
              select 'lock-jkt', 'jti-' || n, ${ago(31)} from generate_series(1, 50) as n`,
        );
        const skipped = await withAdvisoryLock(api.database.db, RETENTION_LOCK, 0, async (db) => {
          // The work runs on the connection that holds the lock, not on the rest of the pool.
          const [own] = await queryRows<{ holds: boolean }>(
            db,
            sql`select exists (select 1 from pg_locks where locktype = 'advisory' and granted
                  and pid = pg_backend_pid() and classid = ${RETENTION_LOCK}) as holds`,
          );
          expect(own!.holds).toBe(true);
          const result = await retentionRound(second);
          expect(
            await count(sql`select count(*)::int as n from dpop_proofs where jkt = 'lock-jkt'`),
          ).toBe(50);
          return result;
        });
        expect(skipped).toBeNull();

        // Both jobs at once, round after round: each row is purged once, no round fails, and at
        // no moment do two rounds run (each records when it held the lock).
        await exec(
          sql`insert into dpop_proofs (jkt, jti, expires_at)
              select 'race-jkt', 'jti-' || n, ${ago(31)} from generate_series(1, 3000) as n`,
        );
        // A round's first and last steps note the time: both run while it holds the lock.
        const spans: [number, number][] = [];
        const timed = async (deps: typeof first) => {
          const span: [number, number] = [0, 0];
          const mark = (at: 0 | 1) => ({
            table: "none",
            purgeable: () => {
              span[at] = performance.now();
              return null;
            },
          });
          const result = await retentionRound(deps, {
            batch: 100,
            steps: [mark(0), ...PURGE_STEPS, mark(1)],
          });
          if (result) spans.push(span);
          return result;
        };
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, n) => timed(n % 2 ? second : first)),
        );
        const purged = results.reduce((sum, result) => sum + (result?.purged.dpop_proofs ?? 0), 0);
        expect(purged).toBe(3050);
        expect(results.some((result) => result === null)).toBe(true);
        spans.sort((a, b) => a[0] - b[0]);
        for (let n = 1; n < spans.length; n++)
          expect(spans[n]![0]).toBeGreaterThanOrEqual(spans[n - 1]![1]);
        expect(
          await count(
            sql`select count(*)::int as n from dpop_proofs where jkt in ('lock-jkt', 'race-jkt')`,
          ),
        ).toBe(0);
      } finally {
        await other.close();
      }
    });
  }
});
