-- The rules an impersonation grant must still meet, as functions, so that every statement that
-- asks (the exchange, every request of an impersonated session, the metrics) asks the same
-- question. A function runs only the branch the grant needs (staff or team), where the same
-- rules written inline made PostgreSQL prepare every branch on every execution, even for
-- sessions without a grant (BENCHMARKS.md). Both are SECURITY INVOKER and read only.

-- Staff rank as a number (operator 1, admin 2, none 0). Plain SQL, so the planner inlines it.
CREATE FUNCTION "staff_rank"("role" "staff_role") RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ select case "role" when 'admin' then 2 when 'operator' then 1 else 0 end $$;
--> statement-breakpoint
-- Whether a grant may still be used: its actor is not its target, the actor's own session is
-- alive, the target profile is still the target's in the grant's location, and the actor still
-- has the right: for a staff grant, a role in that location that outranks the target's highest
-- role anywhere; for a team grant, the target is staff nowhere and the actor still administers
-- the team, which still holds the target. Anything unknown (a null) answers false.
CREATE FUNCTION "grant_still_valid"(
  "g_kind" "impersonation_kind",
  "g_actor_user_id" integer,
  "g_actor_session_id" uuid,
  "g_target_user_id" integer,
  "g_coworker_id" integer,
  "g_location_id" integer,
  "g_team_id" integer
) RETURNS boolean
  LANGUAGE plpgsql STABLE
  AS $$
begin
  if (g_actor_user_id <> g_target_user_id) is not true then
    return false;
  end if;
  if not exists (select 1 from sessions a
                 where a.id = g_actor_session_id and a.user_id = g_actor_user_id
                   and a.revoked_at is null and a.expires_at > now()) then
    return false;
  end if;
  if not exists (select 1 from coworkers tc
                 where tc.id = g_coworker_id and tc.user_id = g_target_user_id
                   and tc.location_id = g_location_id) then
    return false;
  end if;
  if g_kind = 'staff' then
    return exists (
      select 1 from staff_roles ar
      where ar.user_id = g_actor_user_id and ar.location_id = g_location_id
        and staff_rank(ar.role) > coalesce((select max(staff_rank(tr.role)) from staff_roles tr
                                            where tr.user_id = g_target_user_id), 0));
  end if;
  return not exists (select 1 from staff_roles tr where tr.user_id = g_target_user_id)
    and exists (
      select 1 from team_members am
        join coworkers ac on ac.id = am.coworker_id and ac.user_id = g_actor_user_id
        join team_members tm on tm.team_id = am.team_id and tm.coworker_id = g_coworker_id
      where am.team_id = g_team_id and am.team_admin);
end
$$;
