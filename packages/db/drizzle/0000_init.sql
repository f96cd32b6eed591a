CREATE TYPE "public"."staff_role" AS ENUM('admin', 'operator');--> statement-breakpoint
CREATE TYPE "public"."impersonation_kind" AS ENUM('staff', 'team');--> statement-breakpoint
CREATE TABLE "coworkers" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"full_name" text NOT NULL,
	CONSTRAINT "coworkers_user_location_key" UNIQUE("user_id","location_id"),
	CONSTRAINT "coworkers_id_location_key" UNIQUE("id","location_id")
);
--> statement-breakpoint
CREATE TABLE "locations" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff_roles" (
	"user_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"role" "staff_role" NOT NULL,
	CONSTRAINT "staff_roles_user_id_location_id_pk" PRIMARY KEY("user_id","location_id")
);
--> statement-breakpoint
CREATE TABLE "team_members" (
	"team_id" integer NOT NULL,
	"coworker_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"team_admin" boolean DEFAULT false NOT NULL,
	CONSTRAINT "team_members_team_id_coworker_id_pk" PRIMARY KEY("team_id","coworker_id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"id" serial PRIMARY KEY NOT NULL,
	"location_id" integer NOT NULL,
	"name" text NOT NULL,
	CONSTRAINT "teams_id_location_key" UNIQUE("id","location_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" serial PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"full_name" text NOT NULL,
	"password_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"outcome" text NOT NULL,
	"actor_user_id" integer,
	"target_coworker_id" integer,
	"location_id" integer,
	"kind" "impersonation_kind",
	"reason" text,
	"ip" text,
	"detail" text,
	"jti" uuid,
	"session_id" uuid,
	"read_only" boolean,
	CONSTRAINT "audit_outcome" CHECK ("audit_events"."outcome" in ('success', 'refused'))
);
--> statement-breakpoint
CREATE TABLE "impersonation_grants" (
	"jti" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" "impersonation_kind" NOT NULL,
	"actor_user_id" integer NOT NULL,
	"actor_session_id" uuid NOT NULL,
	"target_user_id" integer NOT NULL,
	"coworker_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"team_id" integer,
	"reason" text,
	"read_only" boolean DEFAULT false NOT NULL,
	"return_path" text,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "grants_lifetime_max_300s" CHECK ("impersonation_grants"."expires_at" <= "impersonation_grants"."issued_at" + interval '300 seconds'),
	CONSTRAINT "grants_team_kind" CHECK (("impersonation_grants"."kind" = 'team') = ("impersonation_grants"."team_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" integer NOT NULL,
	"location_id" integer NOT NULL,
	"coworker_id" integer,
	"grant_jti" uuid,
	"actor_user_id" integer,
	"actor_session_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text,
	CONSTRAINT "sessions_grant_jti_unique" UNIQUE("grant_jti"),
	CONSTRAINT "sessions_impersonation_complete" CHECK (("sessions"."actor_user_id" is null) = ("sessions"."actor_session_id" is null) and ("sessions"."actor_user_id" is null) = ("sessions"."grant_jti" is null))
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"private_jwk" jsonb NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "throttle_counters" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "throttle_counters_key_window_start_pk" PRIMARY KEY("key","window_start")
);
--> statement-breakpoint
ALTER TABLE "coworkers" ADD CONSTRAINT "coworkers_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "coworkers" ADD CONSTRAINT "coworkers_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_roles" ADD CONSTRAINT "staff_roles_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff_roles" ADD CONSTRAINT "staff_roles_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_team_location_fk" FOREIGN KEY ("team_id","location_id") REFERENCES "public"."teams"("id","location_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_coworker_location_fk" FOREIGN KEY ("coworker_id","location_id") REFERENCES "public"."coworkers"("id","location_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "teams" ADD CONSTRAINT "teams_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_target_coworker_id_coworkers_id_fk" FOREIGN KEY ("target_coworker_id") REFERENCES "public"."coworkers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_actor_session_id_sessions_id_fk" FOREIGN KEY ("actor_session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_target_user_id_users_id_fk" FOREIGN KEY ("target_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_coworker_id_coworkers_id_fk" FOREIGN KEY ("coworker_id") REFERENCES "public"."coworkers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_grants" ADD CONSTRAINT "impersonation_grants_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_coworker_id_coworkers_id_fk" FOREIGN KEY ("coworker_id") REFERENCES "public"."coworkers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "coworkers_location_name_idx" ON "coworkers" USING btree ("location_id","full_name");--> statement-breakpoint
CREATE INDEX "staff_roles_location_idx" ON "staff_roles" USING btree ("location_id");--> statement-breakpoint
CREATE INDEX "team_members_coworker_idx" ON "team_members" USING btree ("coworker_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_key" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "audit_location_id_idx" ON "audit_events" USING btree ("location_id","id");--> statement-breakpoint
CREATE INDEX "audit_actor_idx" ON "audit_events" USING btree ("actor_user_id","id");--> statement-breakpoint
CREATE INDEX "audit_target_idx" ON "audit_events" USING btree ("target_coworker_id","id");--> statement-breakpoint
CREATE INDEX "audit_jti_idx" ON "audit_events" USING btree ("jti");--> statement-breakpoint
CREATE INDEX "grants_actor_idx" ON "impersonation_grants" USING btree ("actor_user_id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "sessions_actor_session_idx" ON "sessions" USING btree ("actor_session_id");--> statement-breakpoint
CREATE INDEX "throttle_window_idx" ON "throttle_counters" USING btree ("window_start");