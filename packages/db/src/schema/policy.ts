// Each location's impersonation policy and members' consent to be impersonated (CONTRACT §8).
import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, pgTable, timestamp } from "drizzle-orm/pg-core";
import { coworkers, locations, users } from "./directory";
import { grantKindEnum } from "./kinds";

/**
 * One row per location, created with it (trigger `locations_policy_default`, migration 0006), so
 * that an exchange can lock the row it checks; the columns' defaults are the contract's.
 */
export const locationPolicies = pgTable(
  "location_policies",
  {
    locationId: integer("location_id")
      .primaryKey()
      .references(() => locations.id, { onDelete: "cascade" }),
    impersonation: boolean("impersonation").notNull().default(true),
    staffConsentRequired: boolean("staff_consent_required").notNull().default(false),
    teamConsentRequired: boolean("team_consent_required").notNull().default(false),
    justificationRequired: boolean("justification_required").notNull().default(false),
    notifyMember: boolean("notify_member").notNull().default(true),
    maxSessionMinutes: integer("max_session_minutes").notNull().default(60),
    allowFullMode: boolean("allow_full_mode").notNull().default(true),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("location_policies_max_session_minutes", sql`${t.maxSessionMinutes} between 5 and 60`),
  ],
);

/** A member's consent to be impersonated by staff or by team admins, until expiry or revocation. */
export const supportAccessGrants = pgTable(
  "support_access_grants",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    coworkerId: integer("coworker_id")
      .notNull()
      .references(() => coworkers.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    grantedTo: grantKindEnum("granted_to").notNull(),
    readOnly: boolean("read_only").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    index("support_access_grants_coworker_idx").on(t.coworkerId, t.grantedTo),
    index("support_access_grants_expires_idx").on(t.expiresAt),
    check(
      "support_access_grants_hours",
      sql`${t.expiresAt} > ${t.createdAt} and ${t.expiresAt} <= ${t.createdAt} + interval '168 hours'`,
    ),
  ],
);
