// Step-up and sender-constrained sessions (CONTRACT §10): one-time-code apps and the DPoP proofs
// already seen. Migration 0009_step_up_dpop.
import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./directory";

/**
 * A user's one-time-code app (RFC 6238). `secret` is encrypted with the service's key
 * (AES-256-GCM); pending until `confirmedAt`. `lastStep`: the newest time step whose code was
 * accepted, so each step's code counts at most once across every process.
 */
export const otpCredentials = pgTable("otp_credentials", {
  userId: integer("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  secret: text("secret").notNull(),
  confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
  lastStep: bigint("last_step", { mode: "number" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** DPoP proofs seen, by key thumbprint and jti, kept until no clock could accept them again. */
export const dpopProofs = pgTable(
  "dpop_proofs",
  {
    jkt: text("jkt").notNull(),
    jti: text("jti").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.jkt, t.jti] }),
    index("dpop_proofs_expires_idx").on(t.expiresAt),
  ],
);
