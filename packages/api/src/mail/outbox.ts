// The mail outbox's statements (table mail_outbox, migration 0007). Each is one atomic statement:
// a claim takes due rows with FOR UPDATE SKIP LOCKED, so workers of any number of processes
// never take the same row at once, and holds them for a lease (its end in next_attempt_at); each
// finished attempt is recorded in mail_attempts in the same statement as the row's new state.
import { type Database, mailOutbox, queryRows } from "@cowork/db";
import { desc, sql } from "drizzle-orm";
import { RETRY_FOR_S } from "./backoff";

/** A claimed mail (checked against the schema in row-types.test.ts). */
export interface ClaimedMail {
  id: number;
  claim_id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  /** Attempts started, this one included. */
  attempts: number;
}

/**
 * Claims up to `limit` due mails for `leaseS` seconds. Due: not sent, not given up, and its next
 * attempt's time reached, which for a claimed row is the end of its lease (its worker stopped
 * before it finished the attempt).
 */
export async function claimDueMail(
  db: Database,
  { limit, leaseS }: { limit: number; leaseS: number },
): Promise<ClaimedMail[]> {
  return queryRows<ClaimedMail>(
    db,
    sql`with due as (
          select id from mail_outbox
          where sent_at is null and given_up_at is null and next_attempt_at <= now()
          order by next_attempt_at, id
          limit ${limit}
          for update skip locked
        )
        update mail_outbox m
        set claim_id = gen_random_uuid(), attempts = m.attempts + 1,
          next_attempt_at = now() + make_interval(secs => ${leaseS})
        from due where m.id = due.id
        returning m.id, m.claim_id, m.to_address, m.subject, m.text_body, m.html_body, m.attempts`,
  );
}

interface Attempt {
  mail: ClaimedMail;
  worker: string;
  /** Sent as ISO text: the drivers serialise a Date parameter differently. */
  startedAt: Date;
}

/**
 * The server took the mail. It is sent even when this worker's lease ran out in the meantime (the
 * mail left; another worker that claimed it since may send it again: at least once).
 */
export async function recordSent(
  db: Database,
  { mail, worker, startedAt }: Attempt,
  response: string,
) {
  await queryRows(
    db,
    sql`with m as (
          update mail_outbox
          set sent_at = coalesce(sent_at, now()), last_error = null,
            claim_id = case when claim_id = ${mail.claim_id}::uuid then null else claim_id end
          where id = ${mail.id}
          returning id
        )
        insert into mail_attempts (mail_id, claim_id, worker, started_at, outcome, detail)
        select m.id, ${mail.claim_id}::uuid, ${worker}::text, ${startedAt.toISOString()}::timestamptz, 'sent',
          ${response.slice(0, 1000)}::text
        from m`,
  );
}

/**
 * The attempt failed: the mail is due again after `delayS`, but never later than a day after it
 * was written; once that day is over it is given up. Only the claim's holder reschedules the row
 * (a worker whose lease ran out leaves it to the one that claimed it since); every attempt is
 * recorded.
 */
export async function recordFailed(
  db: Database,
  { mail, worker, startedAt }: Attempt,
  error: string,
  delayS: number,
) {
  await queryRows(
    db,
    sql`with m as (
          update mail_outbox
          set claim_id = null, last_error = ${error.slice(0, 1000)},
            next_attempt_at = least(now() + make_interval(secs => ${delayS}),
              created_at + make_interval(secs => ${RETRY_FOR_S})),
            given_up_at = case when now() >= created_at + make_interval(secs => ${RETRY_FOR_S}) then now() end
          where id = ${mail.id} and claim_id = ${mail.claim_id}::uuid and sent_at is null
        )
        insert into mail_attempts (mail_id, claim_id, worker, started_at, outcome, detail)
        values (${mail.id}, ${mail.claim_id}::uuid, ${worker}, ${startedAt.toISOString()}::timestamptz, 'failed',
          ${error.slice(0, 1000)})`,
  );
}

/** A mail of the outbox as the development page shows it. */
export interface OutboxMail {
  id: number;
  toAddress: string;
  subject: string;
  textBody: string;
  createdAt: Date;
  attempts: number;
  sentAt: Date | null;
  givenUpAt: Date | null;
  lastError: string | null;
}

/** The newest mails of the outbox, sent or not (for the development page, /dev/mail). */
export async function recentOutboxMail(db: Database, limit = 50): Promise<OutboxMail[]> {
  return db
    .select({
      id: mailOutbox.id,
      toAddress: mailOutbox.toAddress,
      subject: mailOutbox.subject,
      textBody: mailOutbox.textBody,
      createdAt: mailOutbox.createdAt,
      attempts: mailOutbox.attempts,
      sentAt: mailOutbox.sentAt,
      givenUpAt: mailOutbox.givenUpAt,
      lastError: mailOutbox.lastError,
    })
    .from(mailOutbox)
    .orderBy(desc(mailOutbox.id))
    .limit(limit);
}
