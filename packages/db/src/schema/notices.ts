// Notices to members (CONTRACT §8) and the mail outbox that carries them by mail (migration 0007).
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { coworkers, users } from "./directory";

/** What a member is told in the portal: one notice each time their account is entered. */
export const notices = pgTable(
  "notices",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    /** The member (the account that was entered); their own sessions list and mark it. */
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The profile that was entered. */
    coworkerId: integer("coworker_id")
      .notNull()
      .references(() => coworkers.id, { onDelete: "cascade" }),
    /** The impersonated session it tells of: one notice per entry. */
    sessionId: uuid("session_id").unique(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    text: text("text").notNull(),
    readAt: timestamp("read_at", { withTimezone: true }),
  },
  (t) => [index("notices_user_idx").on(t.userId, t.id)],
);

/**
 * Mail waiting to be sent, written in the transaction of what it tells of. A worker claims a due
 * row for a lease: `claim_id` names the claim, and `next_attempt_at` is the lease's end while it
 * is set, so a row whose worker died mid-send is due again when the lease runs out. Sent rows
 * keep `sent_at`; after a day of failures, `given_up_at`.
 */
export const mailOutbox = pgTable(
  "mail_outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    noticeId: integer("notice_id").references(() => notices.id, { onDelete: "set null" }),
    toAddress: text("to_address").notNull(),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    /** Every name and reason in it is escaped (html_escape, migration 0007). */
    htmlBody: text("html_body").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** Attempts started (claims taken), finished or not. */
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    claimId: uuid("claim_id"),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    givenUpAt: timestamp("given_up_at", { withTimezone: true }),
    lastError: text("last_error"),
  },
  (t) => [
    index("mail_outbox_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.sentAt} is null and ${t.givenUpAt} is null`),
    // Mails done with (sent, or given up), for the retention job (migration 0012).
    index("mail_outbox_done_idx")
      .on(sql`(coalesce(${t.sentAt}, ${t.givenUpAt}))`)
      .where(sql`${t.sentAt} is not null or ${t.givenUpAt} is not null`),
  ],
);

/** One row per finished attempt to send an outbox mail, by whom, when, and what came of it. */
export const mailAttempts = pgTable(
  "mail_attempts",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    mailId: bigint("mail_id", { mode: "number" })
      .notNull()
      .references(() => mailOutbox.id, { onDelete: "cascade" }),
    claimId: uuid("claim_id").notNull(),
    worker: text("worker").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true }).notNull().defaultNow(),
    outcome: text("outcome").notNull(),
    /** The server's answer when sent; the error when not. */
    detail: text("detail"),
  },
  (t) => [
    index("mail_attempts_mail_idx").on(t.mailId, t.id),
    check("mail_attempts_outcome", sql`${t.outcome} in ('sent', 'failed')`),
  ],
);
