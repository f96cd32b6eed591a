// Server-side sessions, impersonation grants and their audit trail.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { coworkers, locations, teams, users } from "./directory";
import { grantKindEnum } from "./kinds";

export { grantKindEnum };

export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    coworkerId: integer("coworker_id").references(() => coworkers.id, { onDelete: "cascade" }),
    /** Set only on impersonated sessions: the grant it was exchanged from. */
    grantJti: uuid("grant_jti").unique(),
    actorUserId: integer("actor_user_id").references(() => users.id, { onDelete: "cascade" }),
    actorSessionId: uuid("actor_session_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedReason: text("revoked_reason"),
    /** When the session last proved its password (sign-in, reauthenticate: CONTRACT §10). */
    authTime: timestamp("auth_time", { withTimezone: true }).notNull().defaultNow(),
    /** How (RFC 8176 values): `pwd`, and `otp` when a one-time code was checked too. */
    amr: text("amr")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** RFC 7638 thumbprint of the DPoP key its tokens are bound to (cnf.jkt), or null. */
    dpopJkt: text("dpop_jkt"),
    /**
     * When the end of this impersonated session, which came without a write (its hour ran out, its
     * grant stopped holding), was noticed and handed to the caep webhooks (migration 0011).
     */
    caepNotedAt: timestamp("caep_noted_at", { withTimezone: true }),
  },
  (t) => [
    // The access history reads a member's sessions newest first (migration 0013).
    index("sessions_user_created_idx").on(t.userId, t.createdAt.desc()),
    check("sessions_amr_known", sql`${t.amr} <@ '{pwd,otp}'::text[]`),
    index("sessions_actor_session_idx").on(t.actorSessionId),
    index("sessions_caep_pending_idx")
      .on(t.locationId)
      .where(
        sql`${t.grantJti} is not null and ${t.revokedAt} is null and ${t.caepNotedAt} is null`,
      ),
    // What the retention job walks (migration 0012): own sessions, and apart from them the
    // impersonated ones, which the member's access history keeps.
    index("sessions_own_expires_idx")
      .on(t.expiresAt)
      .where(sql`${t.grantJti} is null`),
    index("sessions_impersonated_expires_idx")
      .on(t.expiresAt)
      .where(sql`${t.grantJti} is not null`),
    check(
      "sessions_impersonation_complete",
      sql`(${t.actorUserId} is null) = (${t.actorSessionId} is null) and (${t.actorUserId} is null) = (${t.grantJti} is null)`,
    ),
  ],
);

export const impersonationGrants = pgTable(
  "impersonation_grants",
  {
    jti: uuid("jti").primaryKey().defaultRandom(),
    kind: grantKindEnum("kind").notNull(),
    actorUserId: integer("actor_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /**
     * The actor's session, as a record (no foreign key: that session is purged on its own
     * schedule, migration 0012); grant_still_valid asks for it to exist and be live.
     */
    actorSessionId: uuid("actor_session_id").notNull(),
    targetUserId: integer("target_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    coworkerId: integer("coworker_id")
      .notNull()
      .references(() => coworkers.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    teamId: integer("team_id").references(() => teams.id, { onDelete: "cascade" }),
    reason: text("reason"),
    readOnly: boolean("read_only").notNull().default(false),
    /** Where the browser returns to when the impersonation stops (a same-site path). */
    returnPath: text("return_path"),
    issuedAt: timestamp("issued_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    consumedAt: timestamp("consumed_at", { withTimezone: true }),
    /** member_request, billing, technical_issue, security_review or other (CONTRACT §8). */
    reasonCategory: text("reason_category"),
    ticket: text("ticket"),
    /**
     * Set by the exchange when the policy required consent: the support access grant the session
     * stands on, as a record (no foreign key: consent grants are purged on their own schedule,
     * migration 0012); consent_still_open asks for it to exist and be open.
     */
    consentGrantId: bigint("consent_grant_id", { mode: "number" }),
  },
  (t) => [
    index("grants_actor_idx").on(t.actorUserId),
    // Grants never exchanged, for the retention job (a consumed one goes with its session).
    index("grants_unused_expires_idx")
      .on(t.expiresAt)
      .where(sql`${t.consumedAt} is null`),
    check(
      "grants_lifetime_max_300s",
      sql`${t.expiresAt} <= ${t.issuedAt} + interval '300 seconds'`,
    ),
    check("grants_team_kind", sql`(${t.kind} = 'team') = (${t.teamId} is not null)`),
    check(
      "grants_reason_category",
      sql`${t.reasonCategory} in ('member_request', 'billing', 'technical_issue', 'security_review', 'other')`,
    ),
    check("grants_ticket", sql`${t.ticket} ~ '^[A-Za-z0-9._#/-]{1,64}$'`),
  ],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    type: text("type").notNull(),
    outcome: text("outcome").notNull(),
    actorUserId: integer("actor_user_id").references(() => users.id, { onDelete: "set null" }),
    targetCoworkerId: integer("target_coworker_id").references(() => coworkers.id, {
      onDelete: "set null",
    }),
    locationId: integer("location_id").references(() => locations.id, { onDelete: "set null" }),
    kind: grantKindEnum("kind"),
    reason: text("reason"),
    ip: text("ip"),
    detail: text("detail"),
    jti: uuid("jti"),
    sessionId: uuid("session_id"),
    readOnly: boolean("read_only"),
    reasonCategory: text("reason_category"),
    ticket: text("ticket"),
    /** The event's place in its location's Merkle log (audit-log.ts); null until sealed. */
    seq: bigint("seq", { mode: "number" }),
    /** Its leaf hash (unpadded base64url), set with seq; the tree's copy is audit_nodes level 0. */
    leafHash: text("leaf_hash"),
    /** The actor's and target's names as the sealed audit item showed them (a rename changes nothing signed). */
    actorName: text("actor_name"),
    targetName: text("target_name"),
  },
  (t) => [
    check("audit_outcome", sql`${t.outcome} in ('success', 'refused')`),
    index("audit_location_id_idx").on(t.locationId, t.id),
    index("audit_actor_idx").on(t.actorUserId, t.id),
    index("audit_target_idx").on(t.targetCoworkerId, t.id),
    index("audit_jti_idx").on(t.jti),
    // "Was this session's expiry recorded?" is asked on every refused request of an expired
    // impersonated session; partial, so the inserts of every other event never touch it.
    index("audit_expired_session_idx")
      .on(t.sessionId)
      .where(sql`${t.type} = 'impersonation.expired'`),
    uniqueIndex("audit_location_seq_idx").on(t.locationId, t.seq),
    index("audit_unsealed_idx")
      .on(t.locationId, t.id)
      .where(sql`${t.seq} is null`),
  ],
);

/** Signing keys generated on first start when none are configured, shared by every process. */
export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  alg: text("alg").notNull(),
  privateJwk: jsonb("private_jwk").notNull(),
  publicJwk: jsonb("public_jwk").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Sliding logs for throttling, shared by every process through the database. Per key, the head
 * (`throttle_log`, the row every attempt of that key locks) and its hits (`throttle_hits`), one row
 * per attempt counted, numbered 1, 2, 3… in the order of their times (database clock). Only the
 * last `limit` hits are ever read, so older ones are deleted as new ones come. `expires_at` is when
 * the newest hit leaves its window: after it the key means nothing and both may be deleted. Read
 * and written only by `throttle_take` and `throttle_give_back` (migration 0004).
 */
export const throttleLog = pgTable(
  "throttle_log",
  {
    key: text("key").primaryKey(),
    /** The number the key's next hit gets. */
    nextSeq: bigint("next_seq", { mode: "number" }).notNull().default(1),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("throttle_log_expires_idx").on(t.expiresAt)],
);

export const throttleHits = pgTable(
  "throttle_hits",
  {
    key: text("key").notNull(),
    seq: bigint("seq", { mode: "number" }).notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    /**
     * Set while the attempt is still being decided (a sign-in whose password is being checked):
     * it holds its place, but does not count as a failure yet. Past this time it does.
     */
    pendingUntil: timestamp("pending_until", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.key, t.seq] })],
);
