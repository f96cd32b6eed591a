-- The audit log as a Merkle log per location (CONTRACT §9). The sealer, never the statement that
-- writes an event, numbers each location's events (seq 1, 2, 3 …) and hashes them, so no event
-- write waits for a per-location counter. Until its first checkpoint an event has no seq.
ALTER TABLE "audit_events" ADD COLUMN "seq" bigint;--> statement-breakpoint
-- The event's leaf hash, beside it for the list and the export; the tree keeps its own copy by
-- position (audit_nodes, level 0), which is what proofs and the verifier read.
ALTER TABLE "audit_events" ADD COLUMN "leaf_hash" text;--> statement-breakpoint
-- The names the event's audit item showed when it was sealed: a later rename must not change
-- what was signed.
ALTER TABLE "audit_events" ADD COLUMN "actor_name" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "target_name" text;--> statement-breakpoint
-- At most one event per number and location, whatever a sealer does.
CREATE UNIQUE INDEX "audit_location_seq_idx" ON "audit_events" USING btree ("location_id","seq");--> statement-breakpoint
-- What the sealer looks for: the events of a location that no checkpoint covers yet.
CREATE INDEX "audit_unsealed_idx" ON "audit_events" USING btree ("location_id","id") WHERE "seq" IS NULL;--> statement-breakpoint
-- Every perfect subtree of each location's tree (RFC 9162 §2.1.1): level 0 holds the leaf hashes
-- (idx = seq - 1), level k the node over leaves [idx·2^k, (idx+1)·2^k). Any root or inclusion
-- proof is a handful of these rows. Hashes are unpadded base64url.
CREATE TABLE "audit_nodes" (
	"location_id" integer NOT NULL,
	"level" smallint NOT NULL,
	"idx" bigint NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_nodes_pkey" PRIMARY KEY("location_id","level","idx")
);--> statement-breakpoint
-- The signed checkpoints: the tree of `size` leaves has root `root`, as the compact JWS says.
CREATE TABLE "audit_checkpoints" (
	"location_id" integer NOT NULL,
	"size" bigint NOT NULL,
	"root" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"jws" text NOT NULL,
	CONSTRAINT "audit_checkpoints_pkey" PRIMARY KEY("location_id","size"),
	CONSTRAINT "audit_checkpoints_size" CHECK ("audit_checkpoints"."size" > 0)
);--> statement-breakpoint
ALTER TABLE "audit_nodes" ADD CONSTRAINT "audit_nodes_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD CONSTRAINT "audit_checkpoints_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;
