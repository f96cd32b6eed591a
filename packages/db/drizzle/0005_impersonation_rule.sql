-- Who may impersonate whom, written once. The issue (both routes), the directory (whether the
-- caller may impersonate a listed coworker) and grant_still_valid (the exchange, every request of
-- an impersonated session, the metrics) all ask this function, so the rule cannot drift apart.
-- It answers why not, or null when the actor may impersonate the target:
--   'self'          the actor is the target (or either is unknown);
--   'staff_target'  a team grant whose target holds a staff role anywhere (rank above 0);
--   'rank'          a staff grant whose actor does not outrank the target's highest rank
--                   anywhere (an unknown rank never outranks).
-- Plain SQL, IMMUTABLE: the planner inlines it into the statement that asks.
CREATE FUNCTION "impersonation_refusal"(
  "kind" "impersonation_kind",
  "actor_user_id" integer,
  "actor_rank" integer,
  "target_user_id" integer,
  "target_rank" integer
) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ select case
    when ("actor_user_id" <> "target_user_id") is not true then 'self'
    when "kind" = 'team' then case when ("target_rank" = 0) is not true then 'staff_target' end
    when ("target_rank" < "actor_rank") is not true then 'rank'
  end $$;
--> statement-breakpoint
-- grant_still_valid (migration 0001) with its rank and self rules taken from
-- impersonation_refusal; what it answers does not change. The actor's rank is their highest in
-- the grant's location (none: null, which outranks nobody), the target's their highest anywhere
-- (0: none). A grant that is not a staff grant is held to the team rules, as before.
CREATE OR REPLACE FUNCTION "grant_still_valid"(
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
declare
  target_rank integer;
begin
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
  target_rank := coalesce((select max(staff_rank(tr.role)) from staff_roles tr
                           where tr.user_id = g_target_user_id), 0);
  if g_kind = 'staff' then
    return impersonation_refusal('staff', g_actor_user_id,
      (select max(staff_rank(ar.role)) from staff_roles ar
       where ar.user_id = g_actor_user_id and ar.location_id = g_location_id),
      g_target_user_id, target_rank) is null;
  end if;
  return impersonation_refusal('team', g_actor_user_id, null, g_target_user_id, target_rank) is null
    and exists (
      select 1 from team_members am
        join coworkers ac on ac.id = am.coworker_id and ac.user_id = g_actor_user_id
        join team_members tm on tm.team_id = am.team_id and tm.coworker_id = g_coworker_id
      where am.team_id = g_team_id and am.team_admin);
end
$$;
