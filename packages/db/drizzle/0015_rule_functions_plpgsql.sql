-- The rule functions that read a table, as PL/pgSQL rather than SQL. A SQL function whose body
-- reads a table cannot be inlined into the statement that calls it, and is then parsed and
-- planned again for every statement that calls it; PL/pgSQL keeps the plans of its queries for
-- the life of the connection. The issue, the exchange and every request of an impersonated
-- session ask these. What each answers does not change (migrations 0006 and 0009).
CREATE OR REPLACE FUNCTION "consent_still_open"("open_grant_id" bigint) RETURNS boolean
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  AS $$
begin
  return $1 is null or exists (
    select 1 from support_access_grants cg
    where cg.id = $1 and cg.revoked_at is null and cg.expires_at > now());
end $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "location_allows_impersonation"("policy_location_id" integer) RETURNS boolean
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  AS $$
begin
  return coalesce((select p.impersonation from location_policies p where p.location_id = $1), true);
end $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "step_up_refusal"("session_id" uuid, "max_age_s" integer) RETURNS text
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  AS $$
declare
  s record;
begin
  select ss.user_id, ss.auth_time, ss.amr into s from sessions ss where ss.id = $1;
  if not found then
    return 'step_up_required';
  end if;
  if s.auth_time <= now() - make_interval(secs => $2) then
    return 'step_up_required';
  end if;
  if not ('otp' = any (s.amr)) and exists (
    select 1 from otp_credentials o where o.user_id = s.user_id and o.confirmed_at is not null
  ) then
    return 'step_up_required';
  end if;
  return null;
end $$;
