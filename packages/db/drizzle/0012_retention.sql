-- Retention (RETENTION_DAYS, AUDIT_RETENTION_DAYS; @cowork/api services/retention): what the
-- purge job needs so that each of its batches is an index scan, and nothing it deletes takes with
-- it a row that must stay.
--
-- A grant keeps the actor's session id and the consent grant it stood on as records, not as live
-- links: the staff member's own sessions and members' consent grants are purged on their own
-- schedule, while the grant stays as long as the member's access history needs it. Neither link
-- was ever needed for safety: grant_still_valid asks for the actor's session to exist and be
-- live, consent_still_open for the consent grant to exist and be open, so a purged row makes a
-- grant unusable, never usable. Dropped also because a delete from sessions or
-- support_access_grants checked every grant for each deleted row (no index on either column).
ALTER TABLE "impersonation_grants" DROP CONSTRAINT "impersonation_grants_actor_session_id_sessions_id_fk";--> statement-breakpoint
ALTER TABLE "impersonation_grants" DROP CONSTRAINT "impersonation_grants_consent_grant_id_support_access_grants_id_fk";--> statement-breakpoint
-- Members' and staff's own sessions, by expiry: the purge walks only this index. Impersonated
-- sessions (the member's access history) are in an index of their own, walked only when
-- AUDIT_RETENTION_DAYS is set: kept rows never slow a purge down.
CREATE INDEX "sessions_own_expires_idx" ON "sessions" USING btree ("expires_at") WHERE "grant_jti" IS NULL;--> statement-breakpoint
CREATE INDEX "sessions_impersonated_expires_idx" ON "sessions" USING btree ("expires_at") WHERE "grant_jti" IS NOT NULL;--> statement-breakpoint
-- Grants never exchanged (a consumed one goes with its session).
CREATE INDEX "grants_unused_expires_idx" ON "impersonation_grants" USING btree ("expires_at") WHERE "consumed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "support_access_grants_expires_idx" ON "support_access_grants" USING btree ("expires_at");--> statement-breakpoint
-- Mails done with: sent, or given up after a day of failures.
CREATE INDEX "mail_outbox_done_idx" ON "mail_outbox" USING btree ((coalesce("sent_at", "given_up_at"))) WHERE "sent_at" IS NOT NULL OR "given_up_at" IS NOT NULL;--> statement-breakpoint
-- How far each location's audit events have been pruned (AUDIT_RETENTION_DAYS): events of seq 1
-- to through_seq are gone, their leaf hashes stay in audit_nodes, so the log still verifies and
-- proves; any other missing event is a deletion the verifier reports.
CREATE TABLE "audit_pruned" (
	"location_id" integer PRIMARY KEY NOT NULL,
	"through_seq" bigint NOT NULL,
	"pruned_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_pruned_through_seq" CHECK ("audit_pruned"."through_seq" > 0)
);
--> statement-breakpoint
ALTER TABLE "audit_pruned" ADD CONSTRAINT "audit_pruned_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;
