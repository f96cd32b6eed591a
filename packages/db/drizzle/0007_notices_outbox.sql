-- Notices (CONTRACT §8): what a member is told in the portal each time their account is entered,
-- and the mail that says the same, written in the exchange's own statement. The mail goes
-- through an outbox so that the exchange never waits for a mail server: workers of any number
-- of processes claim due rows (FOR UPDATE SKIP LOCKED) for a lease, send, and record each attempt.
-- While a worker holds a row (claim_id set), next_attempt_at is the end of its lease: a row whose
-- worker died mid-send is due again when the lease runs out, with no sweeper.
CREATE TABLE "notices" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "notices_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"coworker_id" integer NOT NULL,
	"session_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"text" text NOT NULL,
	"read_at" timestamp with time zone,
	CONSTRAINT "notices_session_id_unique" UNIQUE("session_id")
);
--> statement-breakpoint
CREATE TABLE "mail_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "mail_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"notice_id" integer,
	"to_address" text NOT NULL,
	"subject" text NOT NULL,
	"text_body" text NOT NULL,
	"html_body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claim_id" uuid,
	"sent_at" timestamp with time zone,
	"given_up_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "mail_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "mail_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"mail_id" bigint NOT NULL,
	"claim_id" uuid NOT NULL,
	"worker" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL,
	"outcome" text NOT NULL,
	"detail" text,
	CONSTRAINT "mail_attempts_outcome" CHECK ("outcome" in ('sent', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "notices" ADD CONSTRAINT "notices_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notices" ADD CONSTRAINT "notices_coworker_id_coworkers_id_fk" FOREIGN KEY ("coworker_id") REFERENCES "public"."coworkers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mail_outbox" ADD CONSTRAINT "mail_outbox_notice_id_notices_id_fk" FOREIGN KEY ("notice_id") REFERENCES "public"."notices"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mail_attempts" ADD CONSTRAINT "mail_attempts_mail_id_mail_outbox_id_fk" FOREIGN KEY ("mail_id") REFERENCES "public"."mail_outbox"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notices_user_idx" ON "notices" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "mail_outbox_due_idx" ON "mail_outbox" USING btree ("next_attempt_at") WHERE "mail_outbox"."sent_at" is null and "mail_outbox"."given_up_at" is null;--> statement-breakpoint
CREATE INDEX "mail_attempts_mail_idx" ON "mail_attempts" USING btree ("mail_id","id");--> statement-breakpoint
-- Text made safe to place in HTML, as element content or a quoted attribute value: every name
-- and reason in a notice mail passes through it (the mail is composed in the exchange's own
-- statement, services/notices/impersonation-notice.ts).
CREATE FUNCTION "html_escape"("value" text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ select replace(replace(replace(replace(replace("value",
    '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;') $$;
--> statement-breakpoint
-- An instant as a member reads it: the location's local time, the zone named. A location whose
-- zone PostgreSQL does not know (the fixture format does not check it) gets UTC, named so, rather
-- than failing the exchange that writes the notice.
CREATE FUNCTION "local_time_text"("at" timestamp with time zone, "zone" text) RETURNS text
  LANGUAGE plpgsql STABLE
  AS $$
begin
  return to_char("at" at time zone "zone", 'YYYY-MM-DD HH24:MI') || ' (' || "zone" || ')';
exception when invalid_parameter_value then
  return to_char("at" at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' (UTC)';
end $$;
