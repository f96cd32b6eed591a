-- Location policy, member consent and justification (CONTRACT §8).
-- One policy row per location, created with the location (trigger below), so that every exchange
-- can lock it (FOR SHARE) while it checks the policy: a change of the policy waits for the
-- exchanges under way and every later exchange sees the change, on every process.
CREATE TABLE "location_policies" (
	"location_id" integer PRIMARY KEY NOT NULL,
	"impersonation" boolean DEFAULT true NOT NULL,
	"staff_consent_required" boolean DEFAULT false NOT NULL,
	"team_consent_required" boolean DEFAULT false NOT NULL,
	"justification_required" boolean DEFAULT false NOT NULL,
	"notify_member" boolean DEFAULT true NOT NULL,
	"max_session_minutes" integer DEFAULT 60 NOT NULL,
	"allow_full_mode" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "location_policies_max_session_minutes" CHECK ("location_policies"."max_session_minutes" between 5 and 60)
);
--> statement-breakpoint
ALTER TABLE "location_policies" ADD CONSTRAINT "location_policies_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
INSERT INTO "location_policies" ("location_id") SELECT "id" FROM "locations";--> statement-breakpoint
CREATE FUNCTION "location_policy_default"() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
begin
  insert into location_policies (location_id) values (new.id) on conflict do nothing;
  return new;
end
$$;--> statement-breakpoint
CREATE TRIGGER "locations_policy_default" AFTER INSERT ON "locations"
  FOR EACH ROW EXECUTE FUNCTION "location_policy_default"();--> statement-breakpoint
-- A member's consent to be impersonated: by staff or by team admins of the member's location, in
-- full or read-only, until it expires or is revoked.
CREATE TABLE "support_access_grants" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "support_access_grants_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"coworker_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"granted_to" "impersonation_kind" NOT NULL,
	"read_only" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "support_access_grants_hours" CHECK ("support_access_grants"."expires_at" > "support_access_grants"."created_at" and "support_access_grants"."expires_at" <= "support_access_grants"."created_at" + interval '168 hours')
);
--> statement-breakpoint
ALTER TABLE "support_access_grants" ADD CONSTRAINT "support_access_grants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "support_access_grants" ADD CONSTRAINT "support_access_grants_coworker_id_coworkers_id_fk" FOREIGN KEY ("coworker_id") REFERENCES "public"."coworkers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "support_access_grants" ADD CONSTRAINT "support_access_grants_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "support_access_grants_coworker_idx" ON "support_access_grants" USING btree ("coworker_id","granted_to");--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD COLUMN "reason_category" text;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD COLUMN "ticket" text;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD COLUMN "consent_grant_id" bigint;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_consent_grant_id_support_access_grants_id_fk" FOREIGN KEY ("consent_grant_id") REFERENCES "public"."support_access_grants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "grants_reason_category" CHECK ("impersonation_grants"."reason_category" in ('member_request', 'billing', 'technical_issue', 'security_review', 'other'));--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "grants_ticket" CHECK ("impersonation_grants"."ticket" ~ '^[A-Za-z0-9._#/-]{1,64}$');--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "reason_category" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "ticket" text;--> statement-breakpoint
-- Whether the consent grant an impersonated session needed (none: null) is still open. Asked with
-- grant_still_valid wherever a grant's use is decided (grant-rules.ts), so revoking a consent
-- ends the sessions that stood on it on their next request, on every process.
CREATE FUNCTION "consent_still_open"("open_grant_id" bigint) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ select $1 is null or exists (
    select 1 from support_access_grants cg
    where cg.id = $1 and cg.revoked_at is null and cg.expires_at > now()) $$;
--> statement-breakpoint
-- Whether the location's policy lets impersonation happen (no row: the default, on). Asked with
-- grant_still_valid wherever a grant's use is decided, so a policy switched off stops every
-- impersonated session of the location on its next request, however the row was changed (the
-- service also ends them for good, in the change's own transaction).
-- ($1: a column of the same name would take precedence over the parameter's name.)
CREATE FUNCTION "location_allows_impersonation"("policy_location_id" integer) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ select coalesce((select p.impersonation from location_policies p
    where p.location_id = $1), true) $$;
