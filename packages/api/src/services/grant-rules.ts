// The one definition of who may impersonate whom, of "this impersonation grant may still be
// used" and of staff rank, in SQL. All are database functions (migrations 0001_grant_rules and
// 0005_impersonation_rule): the issue asks `impersonation_refusal` in the statement that finds
// its target, the directory in the statement that lists coworkers, and the exchange (and every
// request of an impersonated session) asks `grant_still_valid`, which asks it too, atomically
// while consuming the grant, so a change to any of its facts takes effect at once.
import { type StaffRole } from "@cowork/auth";
import { type SQL, sql } from "drizzle-orm";

/** Staff rank as a number, for comparisons in SQL (operator 1, admin 2, none 0). */
export const rankOf = (column: string) => sql.raw(`staff_rank(${column})`);

/** The highest staff rank, in any location, of the user whose id is in `userIdColumn` (0: none). */
export const highestRankOf = (userIdColumn: string) =>
  sql`coalesce((select max(${rankOf("r.role")}) from staff_roles r where r.user_id = ${sql.raw(userIdColumn)}), 0)::int`;

/** Why an impersonation is refused by the rule, as `impersonation_refusal` answers it. */
export type RuleRefusal = "self" | "rank" | "staff_target";

/**
 * Why the actor may not impersonate the target (`self`, `rank`, `staff_target`), or null when
 * they may. By the staff route the actor must outrank the target (`staffRole`: the actor's role
 * in the active location, none outranks nobody); by the team route the target must be staff
 * nowhere (the actor's role plays no part).
 */
export const impersonationRefusal = (
  kind: "staff" | "team",
  actor: { userId: number; staffRole: StaffRole | null },
  target: { userId: SQL; rank: SQL },
): SQL => {
  const actorRank = kind === "staff" ? sql`staff_rank(${actor.staffRole}::staff_role)` : sql`null`;
  return sql`impersonation_refusal(${kind}::impersonation_kind, ${actor.userId}::int, ${actorRank}, ${target.userId}, ${target.rank})`;
};

/**
 * Whether the grant row aliased `g` may still be used (false for anything unknown): its rules, the
 * member's consent it was exchanged under when the location's policy asked for one
 * (`consent_still_open`: true for a grant that needed none), and the location's policy letting
 * impersonation happen (`location_allows_impersonation`); both functions of migration 0006.
 */
export const grantStillValid = sql`(grant_still_valid(g.kind, g.actor_user_id, g.actor_session_id,
  g.target_user_id, g.coworker_id, g.location_id, g.team_id) and consent_still_open(g.consent_grant_id)
  and location_allows_impersonation(g.location_id))`;
