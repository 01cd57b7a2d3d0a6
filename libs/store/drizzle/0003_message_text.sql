CREATE TABLE "message_text" (
	"message_id" text PRIMARY KEY NOT NULL,
	"production" text NOT NULL,
	"body" text NOT NULL
);
--> statement-breakpoint
DROP INDEX "messages_body_trgm_idx";--> statement-breakpoint
CREATE INDEX "message_text_body_trgm_idx" ON "message_text" USING gin ("body" gin_trgm_ops);--> statement-breakpoint
-- Backfill: bodies stored before this migration stay searchable (hand-written).
INSERT INTO "message_text" ("message_id", "production", "body")
SELECT "id", "production", encode("raw", 'escape') FROM "messages" WHERE "raw" IS NOT NULL
ON CONFLICT ("message_id") DO NOTHING;
