// The webhook outbox's statements (migration 0011). One worker at a time delivers a webhook's
// messages: a claim takes a webhook with due messages (FOR UPDATE SKIP LOCKED) and holds it for a
// lease, so the messages of one webhook go out one after another, in seq order, whichever
// process sends them; a worker that dies holding a lease lets go when it runs out. Each attempt
// is recorded in the statement that reschedules (or closes) its message.
import { type Database, queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { RETRY_FOR_S } from "../../mail/backoff";
import { grantStillValid } from "../grant-rules";

/**
 * Finds the impersonated sessions that ended without a write since the last sweep, marks each as
 * noted, and queues one message per caep webhook of its location: all in one statement, so each
 * end is queued once whatever the number of sweepers. A session whose hour ran out is only noted
 * (its expiry is audited when its token is next refused: sessions.ts, recordExpiryIfDue). One
 * whose grant no longer holds (the actor demoted or gone from the team, the actor's own session
 * expired, the consent ran out) is also revoked: the receiver was told it ended, so it must not
 * come back should the actor be promoted again (the revocation's trigger queues its messages).
 * Answers how many sessions it noted.
 *
 * Only locations with a caep webhook are swept: elsewhere nobody is to be told, and asking every
 * live impersonated session's grant on every poll would cost the database in proportion to all
 * live impersonations, webhooks or not. An expiry is news only to a webhook that existed before
 * it (one registered later is not told of sessions that ran out before it existed).
 */
export async function sweepEndedSessions(db: Database): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`with ended as (
          select s.id, s.location_id, s.expires_at <= now() as expired
          from sessions s join impersonation_grants g on g.jti = s.grant_jti
          where s.grant_jti is not null and s.revoked_at is null and s.caep_noted_at is null
            and s.location_id in (select w.location_id from webhooks w where w.format = 'caep')
            and (s.expires_at <= now() or not ${grantStillValid})
          for update of s skip locked
        ), noted as (
          update sessions s set caep_noted_at = now(),
            revoked_at = case when ended.expired then null else now() end,
            revoked_reason = case when ended.expired then null else 'grant_no_longer_valid' end
          from ended where s.id = ended.id
          returning s.id, s.location_id, ended.expired, s.expires_at
        ), queued as (
          insert into webhook_outbox (webhook_id, session_id)
          select w.id, noted.id from noted
          join webhooks w on w.location_id = noted.location_id and w.format = 'caep'
            and (not noted.expired or w.created_at < noted.expires_at)
          on conflict do nothing
        )
        select id from noted`,
  );
  return rows.length;
}

/** A claimed webhook (checked against the schema in row-types.test.ts). */
export interface ClaimedWebhook {
  id: number;
  lease_id: string;
  url: string;
  format: "standard-webhooks" | "caep";
  secret: string;
}

/** Due: not delivered, not given up, its time reached, and, for an audit event, sealed. */
const due = sql`o.delivered_at is null and o.given_up_at is null and o.next_attempt_at <= now()
  and (o.event_id is null or exists (select 1 from audit_events e where e.id = o.event_id and e.seq is not null))`;

/** Claims one webhook that has due messages and no live lease, for `leaseS` seconds. */
export async function claimWebhook(db: Database, leaseS: number): Promise<ClaimedWebhook | null> {
  const [row] = await queryRows<ClaimedWebhook>(
    db,
    sql`with h as (
          select h.id from webhooks h
          where (h.lease_until is null or h.lease_until <= now())
            and exists (select 1 from webhook_outbox o where o.webhook_id = h.id and ${due})
          order by h.lease_until nulls first, h.id
          limit 1
          for update skip locked
        )
        update webhooks w
        set lease_id = gen_random_uuid(), lease_until = now() + make_interval(secs => ${leaseS})
        from h where w.id = h.id and (w.lease_until is null or w.lease_until <= now())
        returning w.id, w.lease_id, w.url, w.format, w.secret`,
  );
  return row ?? null;
}

/** Lets a webhook go (only the lease's holder can). */
export async function releaseWebhook(db: Database, webhook: ClaimedWebhook): Promise<void> {
  await queryRows(
    db,
    sql`update webhooks set lease_id = null, lease_until = null
        where id = ${webhook.id} and lease_id = ${webhook.lease_id}::uuid`,
  );
}

/** A due message (checked against the schema in row-types.test.ts). */
export interface DueMessage {
  id: number;
  message_id: string;
  event_id: number | null;
  session_id: string | null;
  created_at: Date;
  /** Attempts made before this one. */
  attempts: number;
}

/**
 * A claimed webhook's due messages: first attempts before retries, so a message that keeps
 * failing never delays the ones after it, and each in seq order (first attempts follow seq).
 */
export async function dueMessages(
  db: Database,
  webhookId: number,
  limit: number,
): Promise<DueMessage[]> {
  const rows = await queryRows<DueMessage>(
    db,
    sql`select o.id, o.message_id, o.event_id, o.session_id, o.created_at, o.attempts
        from webhook_outbox o left join audit_events ev on ev.id = o.event_id
        where o.webhook_id = ${webhookId} and ${due}
        order by o.attempts > 0, ev.seq nulls last, o.id
        limit ${limit}`,
  );
  return rows.map((row) => ({
    ...row,
    id: Number(row.id),
    event_id: row.event_id === null ? null : Number(row.event_id),
    created_at: new Date(row.created_at),
    attempts: Number(row.attempts),
  }));
}

/** A session's end as a caep message tells it (its computed fields typed in row-types.test.ts). */
export interface SessionEndRow {
  id: string;
  ended_at: Date;
  reason: string;
}

/** When and why a session ended: its revocation, its expiry, or when its end was noticed. */
export async function sessionEnd(db: Database, sessionId: string): Promise<SessionEndRow | null> {
  const [row] = await queryRows<SessionEndRow>(
    db,
    sql`select id,
          coalesce(revoked_at, least(expires_at, coalesce(caep_noted_at, now()))) as ended_at,
          coalesce(revoked_reason, case when expires_at <= coalesce(caep_noted_at, now())
            then 'expired' else 'grant_no_longer_valid' end) as reason
        from sessions where id = ${sessionId}::uuid`,
  );
  return row ? { ...row, ended_at: new Date(row.ended_at) } : null;
}

export interface AttemptRecord {
  message: DueMessage;
  webhookId: number;
  worker: string;
  startedAt: Date;
  /** The receiver's HTTP status, or null when there was no answer. */
  status: number | null;
  /** Why the attempt failed, or null when it succeeded. */
  error: string | null;
}

/**
 * Records an attempt and, in the same statement, closes its message (delivered) or schedules the
 * next attempt after `delayS`, never later than a day after the message was written; after that
 * day a failed message is given up.
 */
export async function recordAttempt(db: Database, attempt: AttemptRecord, delayS: number) {
  const ok = attempt.error === null;
  const error = attempt.error === null ? null : attempt.error.slice(0, 1000);
  await queryRows(
    db,
    sql`with o as (
          update webhook_outbox
          set attempts = attempts + 1,
            delivered_at = case when ${ok} then now() end,
            last_error = ${error},
            next_attempt_at = case when ${ok} then next_attempt_at
              else least(now() + make_interval(secs => ${delayS}),
                created_at + make_interval(secs => ${RETRY_FOR_S})) end,
            given_up_at = case when not ${ok}
              and now() >= created_at + make_interval(secs => ${RETRY_FOR_S}) then now() end
          where id = ${attempt.message.id} and delivered_at is null
        )
        insert into webhook_attempts (outbox_id, webhook_id, at, worker, status, error)
        values (${attempt.message.id}, ${attempt.webhookId}, ${attempt.startedAt.toISOString()}::timestamptz,
          ${attempt.worker}, ${attempt.status}, ${error})`,
  );
}

/** Messages not yet delivered nor given up (the due index holds exactly these). */
export async function countWaiting(db: Database): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from webhook_outbox where delivered_at is null and given_up_at is null`,
  );
  return Number(row?.n ?? 0);
}
