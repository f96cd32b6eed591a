-- Step-up and sender-constrained sessions (CONTRACT §10).
-- When and how a session last proved its password: sign-in sets both, reauthenticate renews them.
-- Sessions already open count from their start, with their password only; an impersonated
-- session proved nothing of the member's, so its amr is empty.
ALTER TABLE "sessions" ADD COLUMN "auth_time" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "amr" text[];
--> statement-breakpoint
UPDATE "sessions" SET "auth_time" = "created_at",
  "amr" = CASE WHEN "grant_jti" IS NULL THEN '{pwd}'::text[] ELSE '{}'::text[] END;
--> statement-breakpoint
ALTER TABLE "sessions" ALTER COLUMN "auth_time" SET DEFAULT now();
--> statement-breakpoint
ALTER TABLE "sessions" ALTER COLUMN "auth_time" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "sessions" ALTER COLUMN "amr" SET DEFAULT '{}'::text[];
--> statement-breakpoint
ALTER TABLE "sessions" ALTER COLUMN "amr" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_amr_known" CHECK ("amr" <@ '{pwd,otp}'::text[]);
--> statement-breakpoint
-- RFC 7638 thumbprint of the key a DPoP-bound session's tokens are bound to (cnf.jkt), or null.
ALTER TABLE "sessions" ADD COLUMN "dpop_jkt" text;
--> statement-breakpoint
-- One-time-code app (RFC 6238) of a user: the secret encrypted (AES-256-GCM, the key is the
-- service's, never in the database), pending until a first code confirms it. `last_step` is the
-- newest time step whose code was accepted: a code is accepted only for a later step, so each
-- step's code counts at most once, whichever process checks it.
CREATE TABLE "otp_credentials" (
  "user_id" integer PRIMARY KEY NOT NULL,
  "secret" text NOT NULL,
  "confirmed_at" timestamp with time zone,
  "last_step" bigint,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "otp_credentials" ADD CONSTRAINT "otp_credentials_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- DPoP proofs seen (RFC 9449 §11.1), by key thumbprint and jti, until no clock could still accept
-- them: a proof is taken by inserting its row, so of any number of processes exactly one does.
CREATE TABLE "dpop_proofs" (
  "jkt" text NOT NULL,
  "jti" text NOT NULL,
  "expires_at" timestamp with time zone NOT NULL,
  CONSTRAINT "dpop_proofs_jkt_jti_pk" PRIMARY KEY("jkt","jti")
);
--> statement-breakpoint
CREATE INDEX "dpop_proofs_expires_idx" ON "dpop_proofs" USING btree ("expires_at");
--> statement-breakpoint
-- Whether a session may be issued an impersonation token now (CONTRACT §10), or why not: its
-- password proven within the last `max_age_s` seconds and, where its user has a one-time-code
-- app enrolled, with a code. Null: it may; 'step_up_required': it must step up first. An unknown
-- session must step up too. The issue asks it in the statement that finds its target, and the
-- removal of a one-time-code app in the statement that removes it.
CREATE FUNCTION "step_up_refusal"("session_id" uuid, "max_age_s" integer) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ select case
    when s.id is null then 'step_up_required'
    when s.auth_time <= now() - make_interval(secs => "max_age_s") then 'step_up_required'
    when not ('otp' = any (s.amr)) and exists (
      select 1 from otp_credentials o where o.user_id = s.user_id and o.confirmed_at is not null
    ) then 'step_up_required'
  end
  from (select 1) as one left join sessions s on s.id = "session_id" $$;
