// What the retention job purges (RETENTION_DAYS, AUDIT_RETENTION_DAYS): one entry per table, in
// the order they run. Each says which of its table's rows may go; purge.ts deletes them in small
// batches. The order and the conditions keep one rule: a step never removes a row that a kept row
// still points at. Where rows depend on others (a mail's attempts, a throttle key's hits, an
// impersonated session's actions and grant), the dependents come first and the row they depend
// on goes only once none is left, so a round cut short never leaves an orphan behind.
//
// A new table is one more entry here (with an index its condition can walk: migration 0012 has
// those of the tables below).
import { SESSION_LIFETIME_S } from "@cowork/auth";
import { type SQL, sql } from "drizzle-orm";

/** The start of each window, as SQL on the database's clock. */
export interface RetentionCutoffs {
  /** now() − RETENTION_DAYS: records of things that ended before it go. */
  records: SQL;
  /**
   * now() − the longer of RETENTION_DAYS and AUDIT_RETENTION_DAYS: what the member's access
   * history shows goes with the audit events that tell of it. Null while those are kept for ever
   * (AUDIT_RETENTION_DAYS unset), and with them the history.
   */
  history: SQL | null;
}

export interface PurgeStep {
  /** The table it deletes from (also the rows' name in the log line and in the metrics). */
  table: string;
  /**
   * Which rows of `table` may go: a condition on the table's rows, its columns named by the
   * table's name (subqueries use aliases of their own); null when none may this round.
   */
  purgeable(cutoffs: RetentionCutoffs): SQL | null;
}

/**
 * An impersonated session the history no longer needs: it ended (revoked, or expired) before
 * the history's window. `expires_at` bounds the walk of its index (no session lasts longer than
 * SESSION_LIFETIME_S), `least` ignores a null revoked_at.
 */
const impersonatedEndedBefore = (alias: string, cutoff: SQL) =>
  sql`${sql.raw(alias)}.grant_jti is not null
    and ${sql.raw(alias)}.expires_at < ${cutoff} + make_interval(secs => ${SESSION_LIFETIME_S})
    and least(${sql.raw(alias)}.expires_at, ${sql.raw(alias)}.revoked_at) < ${cutoff}`;

/** A mail the outbox is done with (sent, or given up) before `cutoff`, by mail_outbox_done_idx. */
const mailDoneBefore = (alias: string, cutoff: SQL) =>
  sql`(${sql.raw(alias)}.sent_at is not null or ${sql.raw(alias)}.given_up_at is not null)
    and coalesce(${sql.raw(alias)}.sent_at, ${sql.raw(alias)}.given_up_at) < ${cutoff}`;

/** A webhook message done with (delivered, or given up) before `cutoff`, by webhook_outbox_done_idx. */
const webhookDoneBefore = (alias: string, cutoff: SQL) =>
  sql`(${sql.raw(alias)}.delivered_at is not null or ${sql.raw(alias)}.given_up_at is not null)
    and coalesce(${sql.raw(alias)}.delivered_at, ${sql.raw(alias)}.given_up_at) < ${cutoff}`;

export const PURGE_STEPS: readonly PurgeStep[] = [
  // The member's access history: an impersonated session, what it did and the grant it was
  // exchanged from, kept as long as the audit events of it are.
  {
    table: "impersonation_actions",
    purgeable: ({ history }) =>
      history &&
      sql`impersonation_actions.session_id in (
        select s.id from sessions s where ${impersonatedEndedBefore("s", history)})`,
  },
  {
    table: "impersonation_grants",
    purgeable: ({ history }) =>
      history &&
      sql`impersonation_grants.consumed_at is not null and impersonation_grants.jti in (
        select s.grant_jti from sessions s where ${impersonatedEndedBefore("s", history)})`,
  },
  {
    table: "sessions",
    purgeable: ({ history }) =>
      history &&
      sql`${impersonatedEndedBefore("sessions", history)}
        and not exists (select 1 from impersonation_grants g where g.jti = sessions.grant_jti)
        and not exists (select 1 from impersonation_actions a where a.session_id = sessions.id)`,
  },
  // Grants never exchanged: of no use once expired (at most 300 s after their issue).
  {
    table: "impersonation_grants",
    purgeable: ({ records }) =>
      sql`impersonation_grants.consumed_at is null and impersonation_grants.expires_at < ${records}`,
  },
  // Members' and staff's own sessions, once ended. A staff session an impersonation stands on is
  // live as long as that impersonation is (grant_still_valid), so it is never among these.
  {
    table: "sessions",
    purgeable: ({ records }) =>
      sql`sessions.grant_jti is null
        and sessions.expires_at < ${records} + make_interval(secs => ${SESSION_LIFETIME_S})
        and least(sessions.expires_at, sessions.revoked_at) < ${records}`,
  },
  // Members' consent, once expired or revoked (it lasts 168 h at most). The audit log keeps its
  // consent.granted and consent.revoked events.
  {
    table: "support_access_grants",
    purgeable: ({ records }) =>
      sql`support_access_grants.expires_at < ${records} + interval '168 hours'
        and least(support_access_grants.expires_at, support_access_grants.revoked_at) < ${records}`,
  },
  {
    table: "mail_attempts",
    purgeable: ({ records }) =>
      sql`mail_attempts.mail_id in (select m.id from mail_outbox m where ${mailDoneBefore("m", records)})`,
  },
  {
    table: "mail_outbox",
    purgeable: ({ records }) =>
      sql`${mailDoneBefore("mail_outbox", records)}
        and not exists (select 1 from mail_attempts a where a.mail_id = mail_outbox.id)`,
  },
  // Webhook messages delivered or given up (webhooks/worker.ts), their attempts first.
  {
    table: "webhook_attempts",
    purgeable: ({ records }) =>
      sql`webhook_attempts.outbox_id in (select o.id from webhook_outbox o where ${webhookDoneBefore("o", records)})`,
  },
  {
    table: "webhook_outbox",
    purgeable: ({ records }) =>
      sql`${webhookDoneBefore("webhook_outbox", records)}
        and not exists (select 1 from webhook_attempts a where a.outbox_id = webhook_outbox.id)`,
  },
  // A throttle key whose newest hit left its window long ago: its hits, then its head (a take
  // that comes meanwhile moves the head's expiry, and the head stays).
  {
    table: "throttle_hits",
    purgeable: ({ records }) =>
      sql`throttle_hits.key in (select l.key from throttle_log l where l.expires_at < ${records})`,
  },
  {
    table: "throttle_log",
    purgeable: ({ records }) =>
      sql`throttle_log.expires_at < ${records}
        and not exists (select 1 from throttle_hits h where h.key = throttle_log.key)`,
  },
  // DPoP jtis: expires_at is when no clock could accept the proof again (dpop.ts).
  {
    table: "dpop_proofs",
    purgeable: ({ records }) => sql`dpop_proofs.expires_at < ${records}`,
  },
];
