// The mail worker against a real SMTP server on loopback: what arrives (recipient, subject, the
// HTML escaped, no token), and what happens when the server is down, refuses or hangs, when a
// worker died holding a claim, and when two workers share one database.
import { createServer, type Server, type Socket } from "node:net";
import { type AddressInfo } from "node:net";
import { createPostgres, type Database, mailOutbox, queryRows } from "@cowork/db";
import { testDriver } from "@cowork/db/testing";
import { type SQL, sql } from "drizzle-orm";
import { register } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing";
import { FIRST_RETRY_S, MAX_RETRY_S, retryDelayS } from "./backoff";
import { claimDueMail } from "./outbox";
import { createSmtpSender, type SmtpTimeouts } from "./smtp-sender";
import { type ReceivedMail, startSmtpReceiver, type SmtpReceiver } from "./testing-smtp";
import { type MailWorker, startMailWorker } from "./worker";

const FROM = "Coworking Portal <portal@portal.test>";
const QUICK: SmtpTimeouts = { connectMs: 2000, greetingMs: 500, idleMs: 2000, totalMs: 5000 };

let api: TestApi;
const workers: MailWorker[] = [];
const receivers: SmtpReceiver[] = [];
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  await rows(sql`delete from mail_outbox`);
});
afterAll(() => api.close());

const rows = <T>(query: SQL, db: Database = api.database.db) => queryRows<T>(db, query);

async function receiver(options: Parameters<typeof startSmtpReceiver>[0] = {}) {
  const started = await startSmtpReceiver(options);
  receivers.push(started);
  return started;
}

function worker(url: string, options: Partial<Parameters<typeof startMailWorker>[0]> = {}) {
  const started = startMailWorker({
    db: api.database.db,
    send: createSmtpSender(url, FROM, QUICK),
    logger: silent,
    pollMs: 100,
    ...options,
  });
  workers.push(started);
  return started;
}

/** Queues mails as the exchange does (one row each), to the given addresses. */
async function queue(...to: string[]): Promise<number[]> {
  const inserted = await api.database.db
    .insert(mailOutbox)
    .values(
      to.map((address) => ({
        toAddress: address,
        subject: "Subject",
        textBody: `Text for ${address}`,
        htmlBody: `<p>HTML for ${address}</p>`,
      })),
    )
    .returning({ id: mailOutbox.id });
  return inserted.map((row) => row.id);
}

async function until<T>(
  what: () => Promise<T | undefined | false>,
  withinMs: number,
  label: string,
) {
  const end = Date.now() + withinMs;
  for (;;) {
    const value = await what();
    if (value) return value;
    if (Date.now() > end) return expect.fail(`${label}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface AttemptRow {
  mail_id: number;
  worker: string;
  outcome: "sent" | "failed";
  detail: string | null;
  started_at: Date;
  finished_at: Date;
}
const attemptsOf = (mailId: number) =>
  rows<AttemptRow>(sql`select * from mail_attempts where mail_id = ${mailId} order by id`);
interface OutboxRow {
  attempts: number;
  sent_at: Date | null;
  next_attempt_at: Date;
  claim_id: string | null;
  last_error: string | null;
  given_up_at: Date | null;
}
const outboxRow = async (mailId: number) =>
  (await rows<OutboxRow>(sql`select * from mail_outbox where id = ${mailId}`))[0]!;

/** cowork_mail_attempts_total, by outcome, as the registry holds it now. */
async function attemptCounts(): Promise<Record<"sent" | "failed", number>> {
  const metric = await register.getSingleMetric("cowork_mail_attempts_total")!.get();
  const of = (outcome: string) =>
    metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
  return { sent: of("sent"), failed: of("failed") };
}

/** A TCP server that accepts connections and never says a word (an SMTP server that hangs). */
async function mute(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("the notice mail", () => {
  it("reaches the member: their address, the subject, the HTML escaped, no token, no link", async () => {
    await rows(
      sql`update users set full_name = ${'Otto <b onclick="x()">Op</b> & Co'} where id = 2`,
    );
    const otto = await api.signIn("otto.operator@demo.test");
    const { token } = await (
      await api.caller(otto)
    ).impersonation.impersonate({
      coworkerId: 43,
      reason: "<i>billing</i>",
    });
    const { accessToken } = await (await api.caller(null)).impersonation.exchange({ token });
    const smtp = await receiver();
    worker(smtp.url);

    const [mail] = await until(
      () => Promise.resolve(smtp.received.length > 0 && smtp.received),
      10_000,
      "delivery",
    );
    expect(mail!.rcptTo).toEqual(["nora.nomad@demo.test"]);
    expect(mail!.mailFrom).toBe("portal@portal.test");
    expect(mail!.parsed.subject).toBe("Your coworking portal account was accessed");
    expect(mail!.parsed.from?.text).toBe('"Coworking Portal" <portal@portal.test>');
    const html = String(mail!.parsed.html);
    expect(html).toContain("Otto &lt;b onclick=&quot;x()&quot;&gt;Op&lt;/b&gt; &amp; Co (staff)");
    expect(html).toContain("&quot;&lt;i&gt;billing&lt;/i&gt;&quot;");
    expect(html).not.toMatch(/<b\b|<i\b/);
    expect(mail!.parsed.text).toContain(
      'Otto <b onclick="x()">Op</b> & Co (staff) entered your account on',
    );
    expect(mail!.parsed.text).toContain('Reason: "<i>billing</i>".');
    for (const secret of [token, accessToken!]) expect(mail!.raw).not.toContain(secret);
    expect(mail!.raw).not.toMatch(/eyJ[\w-]+\.[\w-]+|https?:\/\/|href/i);

    const [{ id }] = (await rows<{ id: number }>(sql`select id from mail_outbox`)) as [
      { id: number },
    ];
    await until(async () => (await outboxRow(id)).sent_at, 5000, "recorded as sent");
    expect(await attemptsOf(id)).toMatchObject([{ outcome: "sent", worker: workers[0]!.name }]);
    expect((await attemptsOf(id))[0]!.detail).toMatch(/^250 /);
    expect(smtp.received).toHaveLength(1);
  });
});

describe("encryption as the URL says", () => {
  it("smtp://: plain when the server offers no STARTTLS, upgraded when it does", async () => {
    const plain = await receiver();
    await queue("plain@example.test");
    await worker(plain.url).drain();
    expect(plain.received.map((mail) => mail.secure)).toEqual([false]);
    await workers.pop()!.stop();

    const offering = await receiver({ starttls: true });
    await queue("upgraded@example.test");
    // smtp-server's own certificate is self-signed: trusted here by the URL's own tls option.
    await worker(`${offering.url}/?tls.rejectUnauthorized=false`).drain();
    expect(offering.received.map((mail) => [mail.rcptTo[0], mail.secure])).toEqual([
      ["upgraded@example.test", true],
    ]);
  });

  it("smtp:// against STARTTLS with a certificate it cannot verify: not sent, tried again", async () => {
    const offering = await receiver({ starttls: true });
    const [id] = await queue("unverified@example.test");
    await worker(offering.url, { retryDelayS: () => 60 }).drain();
    expect(offering.received).toEqual([]);
    expect(await attemptsOf(id!)).toMatchObject([{ outcome: "failed" }]);
  });

  it("smtps://: TLS from the first byte", async () => {
    const tls = await receiver({ secure: true });
    await queue("tls@example.test");
    await worker(`${tls.url}/?tls.rejectUnauthorized=false`).drain();
    expect(tls.received.map((mail) => mail.secure)).toEqual([true]);
  });
});

describe("retries", () => {
  it("waits 5 s, then twice as long each time, at most an hour (first retry within 10 s)", () => {
    const exact = () => 0;
    expect([1, 2, 3, 4].map((n) => retryDelayS(n, exact))).toEqual([5, 10, 20, 40]);
    expect(retryDelayS(1, () => 0.999)).toBeGreaterThan(4.5);
    expect(retryDelayS(30, exact)).toBe(MAX_RETRY_S);
    expect(FIRST_RETRY_S).toBeLessThanOrEqual(10);
  });

  it("across an outage: down, then back; sent once it is back, every attempt recorded", async () => {
    const countsBefore = await attemptCounts();
    const probe = await startSmtpReceiver();
    const port = probe.port;
    await probe.close();
    const [id] = await queue("outage@example.test");
    const sender = worker(`smtp://127.0.0.1:${port}`);

    const failed = await until(
      async () => (await attemptsOf(id!)).length > 0 && (await attemptsOf(id!)),
      10_000,
      "the first attempt",
    );
    expect(failed).toMatchObject([{ outcome: "failed", worker: sender.name }]);
    expect(failed[0]!.detail).toMatch(/ECONNREFUSED/);
    const row = await outboxRow(id!);
    expect(row).toMatchObject({ attempts: 1, sent_at: null, claim_id: null });
    expect(row.last_error).toMatch(/ECONNREFUSED/);
    // The first retry within 10 s of the failure.
    const wait = row.next_attempt_at.getTime() - failed[0]!.finished_at.getTime();
    expect(wait).toBeGreaterThan(4000);
    expect(wait).toBeLessThanOrEqual(10_000);

    const smtp = await receiver({ port });
    await until(async () => (await outboxRow(id!)).sent_at, 12_000, "sent after the outage");
    expect(smtp.received.map((mail) => mail.rcptTo)).toEqual([["outage@example.test"]]);
    expect((await attemptsOf(id!)).map((attempt) => attempt.outcome)).toEqual(["failed", "sent"]);
    expect((await outboxRow(id!)).last_error).toBeNull();
    // Operators see the same in the metrics.
    const countsAfter = await attemptCounts();
    expect(countsAfter.sent - countsBefore.sent).toBe(1);
    expect(countsAfter.failed - countsBefore.failed).toBe(1);
  });

  it("while the server refuses (451) or hangs, and then sends once it accepts", async () => {
    const hung = await mute();
    const [id] = await queue("patient@example.test");
    const onHung = worker(`smtp://127.0.0.1:${hung.port}`, { retryDelayS: () => 0.1 });
    await until(async () => (await attemptsOf(id!)).length >= 1, 10_000, "the hung attempt");
    await onHung.stop();
    await hung.close();
    expect((await attemptsOf(id!))[0]).toMatchObject({ outcome: "failed" });
    expect((await attemptsOf(id!))[0]!.detail).toMatch(/ETIMEDOUT|[Gg]reeting/);

    const smtp = await receiver();
    smtp.refuseWith(451);
    worker(smtp.url, { retryDelayS: () => 0.1 });
    await until(async () => (await attemptsOf(id!)).length >= 3, 10_000, "refused attempts");
    expect(smtp.received).toEqual([]);
    smtp.refuseWith(null);
    await until(async () => (await outboxRow(id!)).sent_at, 10_000, "sent once accepted");
    const outcomes = (await attemptsOf(id!)).map((attempt) => attempt.outcome);
    expect(outcomes.at(-1)).toBe("sent");
    expect(outcomes.slice(0, -1).every((outcome) => outcome === "failed")).toBe(true);
    expect((await attemptsOf(id!)).find((a) => /451/.test(a.detail ?? ""))).toBeDefined();
    expect(smtp.received).toHaveLength(1);
    expect((await outboxRow(id!)).attempts).toBe(outcomes.length);
  });

  it("gives a mail up once a day has passed since it was written", async () => {
    const probe = await startSmtpReceiver();
    await probe.close();
    const [id] = await queue("late@example.test");
    await rows(
      sql`update mail_outbox set created_at = now() - interval '1 day 1 minute' where id = ${id}`,
    );
    await worker(`smtp://127.0.0.1:${probe.port}`).drain();
    const row = await outboxRow(id!);
    expect(row.given_up_at).not.toBeNull();
    expect(row.sent_at).toBeNull();
    // Given up: no worker claims it again.
    expect(await claimDueMail(api.database.db, { limit: 10, leaseS: 60 })).toEqual([]);
  });
});

describe("across a restart", () => {
  it("a mail claimed by a worker that died is sent by a new one once the claim expires, not before", async () => {
    const [id] = await queue("orphan@example.test");
    // A worker claims it for 2 s and dies before it sends.
    const [claimed] = await claimDueMail(api.database.db, { limit: 10, leaseS: 2 });
    expect(claimed!.id).toBe(id);
    const claimedAt = Date.now();

    const smtp = await receiver();
    const successor = worker(smtp.url);
    expect(await successor.drain()).toBe(0);
    expect(smtp.received).toEqual([]);
    await until(async () => (await outboxRow(id!)).sent_at, 10_000, "sent by the new worker");
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(1900);
    expect(smtp.received.map((mail) => mail.rcptTo)).toEqual([["orphan@example.test"]]);
    expect(await attemptsOf(id!)).toMatchObject([{ outcome: "sent", worker: successor.name }]);
    expect((await outboxRow(id!)).attempts).toBe(2);
  });
});

describe("several workers on one database", () => {
  it("never send the same mail twice: every mail once, each recorded once", async () => {
    const smtp = await receiver();
    const addresses = Array.from({ length: 40 }, (_, index) => `member${index}@example.test`);
    const ids = await queue(...addresses);
    // On PostgreSQL the second worker has a connection pool of its own, as another process would.
    const other = testDriver() === "postgres" ? createPostgres(api.database.url!, 4) : null;
    try {
      const first = worker(smtp.url, { batch: 3, pollMs: 20 });
      const second = worker(smtp.url, { batch: 3, pollMs: 20, db: other?.db ?? api.database.db });
      await until(
        async () =>
          (
            await rows<{ n: number }>(
              sql`select count(*)::int as n from mail_outbox where sent_at is null`,
            )
          )[0]!.n === 0,
        30_000,
        "every mail sent",
      );
      await Promise.all([first.stop(), second.stop()]);
      const recipients = smtp.received.map((mail: ReceivedMail) => mail.rcptTo.join());
      expect(recipients.sort()).toEqual([...addresses].sort());
      const attempts = await rows<{ mail_id: number; worker: string }>(
        sql`select mail_id, worker from mail_attempts where outcome = 'sent'`,
      );
      expect(attempts.map((attempt) => attempt.mail_id).sort((a, b) => a - b)).toEqual(ids);
      if (testDriver() === "postgres")
        expect(new Set(attempts.map((attempt) => attempt.worker)).size).toBe(2);
    } finally {
      await other?.close();
    }
  });
});
