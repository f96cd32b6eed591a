-- A member's sessions newest first (the access history: `where user_id = $1 order by created_at
-- desc limit 200`): read from the index in order and cut at the limit, so only those sessions'
-- grants are looked up by key, however many impersonations a member has had. Replaces the index
-- on user_id alone, which this one's first column serves as well.
CREATE INDEX "sessions_user_created_idx" ON "sessions" USING btree ("user_id","created_at" DESC);--> statement-breakpoint
DROP INDEX "sessions_user_idx";
