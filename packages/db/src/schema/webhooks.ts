// Webhooks (CONTRACT §9) and what is to be delivered to them (migration 0011). The outbox is
// written by triggers in the transaction of what it tells of (an audit event's insert, an
// impersonated session's revocation) and by the delivery workers' sweep for sessions that end
// without a write; the workers of @cowork/api services/webhooks deliver it.
import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { locations } from "./directory";
import { auditEvents, sessions } from "./sessions";

export const webhooks = pgTable(
  "webhooks",
  {
    id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** Audit types, or `{*}`; a caep webhook always has `{*}`. */
    events: text("events").array().notNull(),
    format: text("format", { enum: ["standard-webhooks", "caep"] }).notNull(),
    /** The HMAC key, sealed under the service's key (bound to the webhook's id). */
    secret: text("secret").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * One worker at a time delivers a webhook's messages, so first attempts follow seq: it holds
     * the webhook for a lease (`lease_id`, until `lease_until`).
     */
    leaseId: uuid("lease_id"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
  },
  (t) => [
    index("webhooks_location_idx").on(t.locationId),
    check("webhooks_format", sql`${t.format} in ('standard-webhooks', 'caep')`),
    check("webhooks_caep_all_events", sql`${t.format} <> 'caep' or ${t.events} = '{*}'::text[]`),
  ],
);

/** A message to deliver: an audit event (standard-webhooks) or a session's end (caep). */
export const webhookOutbox = pgTable(
  "webhook_outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    webhookId: integer("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: bigint("event_id", { mode: "number" }).references(() => auditEvents.id, {
      onDelete: "cascade",
    }),
    sessionId: uuid("session_id").references(() => sessions.id, { onDelete: "cascade" }),
    /** The webhook-id (and a SET's jti): the same on every attempt. */
    messageId: uuid("message_id").notNull().defaultRandom(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    givenUpAt: timestamp("given_up_at", { withTimezone: true }),
    lastError: text("last_error"),
  },
  (t) => [
    check(
      "webhook_outbox_event_or_session",
      sql`(${t.eventId} is null) <> (${t.sessionId} is null)`,
    ),
    unique("webhook_outbox_event_unique").on(t.webhookId, t.eventId),
    unique("webhook_outbox_session_unique").on(t.webhookId, t.sessionId),
    index("webhook_outbox_due_idx")
      .on(t.webhookId, t.nextAttemptAt)
      .where(sql`${t.deliveredAt} is null and ${t.givenUpAt} is null`),
    // Retention's window (migration 0016), and the lookups of a purged session's or a pruned
    // event's messages.
    index("webhook_outbox_done_idx")
      .on(sql`(coalesce(${t.deliveredAt}, ${t.givenUpAt}))`)
      .where(sql`${t.deliveredAt} is not null or ${t.givenUpAt} is not null`),
    index("webhook_outbox_event_idx").on(t.eventId).where(sql`${t.eventId} is not null`),
    index("webhook_outbox_session_idx").on(t.sessionId).where(sql`${t.sessionId} is not null`),
  ],
);

/** One row per attempt: the receiver's HTTP status, or why there was none. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    outboxId: bigint("outbox_id", { mode: "number" })
      .notNull()
      .references(() => webhookOutbox.id, { onDelete: "cascade" }),
    webhookId: integer("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull(),
    worker: text("worker").notNull(),
    status: integer("status"),
    error: text("error"),
  },
  (t) => [
    index("webhook_attempts_webhook_idx").on(t.webhookId, t.id),
    index("webhook_attempts_outbox_idx").on(t.outboxId),
  ],
);
