// The one definition of "this impersonation grant may still be used" and of staff rank, in SQL.
// Both are database functions (migration 0001_grant_rules): the exchange checks the grant
// atomically while consuming it, and every request of an impersonated session checks it again,
// so a change to any of its facts takes effect at once.
import { sql } from "drizzle-orm";

/** Staff rank as a number, for comparisons in SQL (operator 1, admin 2, none 0). */
export const rankOf = (column: string) => sql.raw(`staff_rank(${column})`);

/** Whether the grant row aliased `g` may still be used (false for anything unknown). */
export const grantStillValid = sql`grant_still_valid(g.kind, g.actor_user_id, g.actor_session_id,
  g.target_user_id, g.coworker_id, g.location_id, g.team_id)`;
