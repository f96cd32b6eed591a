// What impersonated sessions did: one row per procedure an impersonated session called (CONTRACT
// §9, "Actions while impersonating"), refused calls included. Written in batches by the API's
// action writer (@cowork/api services/actions), read per session by admins and by the member.
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { locations } from "./directory";
import { sessions } from "./sessions";

export const impersonationActions = pgTable(
  "impersonation_actions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** The impersonated session that made the call. */
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    locationId: integer("location_id")
      .notNull()
      .references(() => locations.id, { onDelete: "cascade" }),
    /** When the call arrived at the procedure (the process's clock, not the flush's). */
    at: timestamp("at", { withTimezone: true }).notNull(),
    /** The tRPC path, e.g. `auth.me`: REST routes call the same procedures. */
    procedure: text("procedure").notNull(),
    kind: text("kind", { enum: ["query", "mutation"] }).notNull(),
    outcome: text("outcome", { enum: ["success", "refused", "error"] }).notNull(),
  },
  (t) => [
    check("impersonation_actions_kind", sql`${t.kind} in ('query', 'mutation')`),
    check("impersonation_actions_outcome", sql`${t.outcome} in ('success', 'refused', 'error')`),
    index("impersonation_actions_session_idx").on(t.sessionId, t.at, t.id),
  ],
);
