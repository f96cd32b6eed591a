// The one definition of "this impersonation grant may still be used", as SQL over a grant row
// aliased `g`. The exchange checks it atomically while consuming the grant, and every request of
// an impersonated session checks it again, so a change to any of its facts takes effect at once.
import { sql } from "drizzle-orm";

/** Staff rank as a number, for comparisons in SQL (operator 1, admin 2). */
export const rankOf = (column: string) =>
  sql.raw(`(case ${column} when 'admin' then 2 when 'operator' then 1 else 0 end)`);

export const grantStillValid = sql`(
  g.actor_user_id <> g.target_user_id
  -- the actor's own session is alive
  and exists (select 1 from sessions a where a.id = g.actor_session_id and a.user_id = g.actor_user_id
              and a.revoked_at is null and a.expires_at > now())
  -- the target profile is still the target's, in the grant's location
  and exists (select 1 from coworkers tc where tc.id = g.coworker_id and tc.user_id = g.target_user_id
              and tc.location_id = g.location_id)
  and case g.kind
    -- staff: the actor still holds a role in the location that outranks the target's highest role anywhere
    when 'staff' then exists (
      select 1 from staff_roles ar where ar.user_id = g.actor_user_id and ar.location_id = g.location_id
        and ${rankOf("ar.role")} > coalesce((select max(${rankOf("tr.role")}) from staff_roles tr where tr.user_id = g.target_user_id), 0))
    -- team: the target is staff nowhere, and the actor still administers the team, which still holds the target
    else not exists (select 1 from staff_roles tr where tr.user_id = g.target_user_id)
      and exists (
        select 1 from team_members am
          join coworkers ac on ac.id = am.coworker_id and ac.user_id = g.actor_user_id
          join team_members tm on tm.team_id = am.team_id and tm.coworker_id = g.coworker_id
        where am.team_id = g.team_id and am.team_admin)
  end
)`;
