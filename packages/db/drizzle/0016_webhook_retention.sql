-- The webhook outbox under retention (services/retention/steps.ts): a delivered or given-up
-- message and its attempts go after RETENTION_DAYS, by this index's window. The other three
-- serve the deletes that reach the outbox from elsewhere: a purged message's attempts, and the
-- cascade when a session is purged or an audit event pruned (each delete looks its messages up
-- by the row's id, which no unique key of the outbox leads with).
CREATE INDEX "webhook_outbox_done_idx" ON "webhook_outbox" USING btree ((coalesce("delivered_at", "given_up_at"))) WHERE "delivered_at" IS NOT NULL OR "given_up_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_outbox_event_idx" ON "webhook_outbox" USING btree ("event_id") WHERE "event_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_outbox_session_idx" ON "webhook_outbox" USING btree ("session_id") WHERE "session_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_attempts_outbox_idx" ON "webhook_attempts" USING btree ("outbox_id");
