CREATE TABLE "impersonation_actions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "impersonation_actions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"session_id" uuid NOT NULL,
	"location_id" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"procedure" text NOT NULL,
	"kind" text NOT NULL,
	"outcome" text NOT NULL,
	CONSTRAINT "impersonation_actions_kind" CHECK ("impersonation_actions"."kind" in ('query', 'mutation')),
	CONSTRAINT "impersonation_actions_outcome" CHECK ("impersonation_actions"."outcome" in ('success', 'refused', 'error'))
);
--> statement-breakpoint
ALTER TABLE "impersonation_actions" ADD CONSTRAINT "impersonation_actions_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "impersonation_actions" ADD CONSTRAINT "impersonation_actions_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "impersonation_actions_session_idx" ON "impersonation_actions" USING btree ("session_id","at","id");
