-- Day partitions (hand-written: drizzle-kit cannot express partitioning). The per-message tables
-- become range-partitioned by UTC day so that retention drops a day's tables instead of deleting
-- its rows: messages, message_status and message_text by received_at (the message's day),
-- message_events by at (an event's own day). Each has a DEFAULT partition, so a row whose day has
-- no partition yet is stored there, never refused; hie_ensure_day_partitions creates the days
-- ahead (the store calls it on open and on each retention run) and moves any rows the DEFAULT
-- partition holds for a day into that day's new partition. Keys must hold the partition key:
-- the primary keys become (id, received_at) / (message_id, received_at) / (id, at).
-- Existing rows are copied into the new tables, then the old tables are dropped.

-- The partition of one UTC day [day, day + 1) of each table, made once; rows of that day already in
-- the DEFAULT partition move into it. Serialised by an advisory lock (engines share a database).
CREATE OR REPLACE FUNCTION hie_ensure_day_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t record;
  part text;
  lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  PERFORM pg_advisory_xact_lock(72620020);
  FOR t IN SELECT * FROM (VALUES ('messages', 'received_at'), ('message_status', 'received_at'),
                                 ('message_text', 'received_at'), ('message_events', 'at')) v(tbl, col) LOOP
    part := t.tbl || '_p' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
    -- Locked first: ATTACH checks that the DEFAULT partition holds no row of the day, so none
    -- may arrive between the move and the check (rows arrive there only for days not made ahead).
    EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', t.tbl || '_default');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, t.tbl);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
                   t.tbl || '_default', t.col, t.col, part) USING lo, hi;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', t.tbl, part, lo, hi);
  END LOOP;
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION hie_ensure_day_partitions(first_day date, last_day date) RETURNS void
LANGUAGE sql AS $$
  SELECT hie_ensure_day_partition(d::date) FROM generate_series(first_day, last_day, interval '1 day') d;
$$;--> statement-breakpoint
ALTER TABLE "messages" RENAME TO "messages_0004";--> statement-breakpoint
ALTER TABLE "message_status" RENAME TO "message_status_0004";--> statement-breakpoint
ALTER TABLE "message_text" RENAME TO "message_text_0004";--> statement-breakpoint
ALTER TABLE "message_events" RENAME TO "message_events_0004";--> statement-breakpoint
CREATE TABLE "messages" (LIKE "messages_0004" INCLUDING DEFAULTS) PARTITION BY RANGE ("received_at");--> statement-breakpoint
CREATE TABLE "message_status" (LIKE "message_status_0004" INCLUDING DEFAULTS) PARTITION BY RANGE ("received_at");--> statement-breakpoint
CREATE TABLE "message_text" (LIKE "message_text_0004" INCLUDING DEFAULTS, "received_at" timestamp with time zone NOT NULL) PARTITION BY RANGE ("received_at");--> statement-breakpoint
CREATE TABLE "message_events" (LIKE "message_events_0004" INCLUDING DEFAULTS) PARTITION BY RANGE ("at");--> statement-breakpoint
CREATE TABLE "messages_default" PARTITION OF "messages" DEFAULT;--> statement-breakpoint
CREATE TABLE "message_status_default" PARTITION OF "message_status" DEFAULT;--> statement-breakpoint
CREATE TABLE "message_text_default" PARTITION OF "message_text" DEFAULT;--> statement-breakpoint
CREATE TABLE "message_events_default" PARTITION OF "message_events" DEFAULT;--> statement-breakpoint
-- The days the existing rows need (within ten years back; anything stranger stays in DEFAULT),
-- and yesterday to three days ahead.
SELECT hie_ensure_day_partition(day) FROM (
  SELECT (received_at AT TIME ZONE 'UTC')::date AS day FROM "messages_0004"
  UNION SELECT (at AT TIME ZONE 'UTC')::date FROM "message_events_0004"
  UNION SELECT d::date FROM generate_series((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 3, interval '1 day') d
) days
WHERE day BETWEEN (now() AT TIME ZONE 'UTC')::date - 3660 AND (now() AT TIME ZONE 'UTC')::date + 3;--> statement-breakpoint
INSERT INTO "messages" SELECT * FROM "messages_0004";--> statement-breakpoint
-- A status row is found by (id, received_at): it must carry its message's received_at exactly.
UPDATE "message_status_0004" s SET received_at = m.received_at FROM "messages_0004" m
  WHERE m.id = s.message_id AND s.received_at IS DISTINCT FROM m.received_at;--> statement-breakpoint
INSERT INTO "message_status" SELECT * FROM "message_status_0004";--> statement-breakpoint
INSERT INTO "message_events" SELECT * FROM "message_events_0004";--> statement-breakpoint
-- A text row takes its message's received_at (the time of the migration for an orphan).
INSERT INTO "message_text" (message_id, project_id, workspace_id, production, body, received_at)
  SELECT t.message_id, t.project_id, t.workspace_id, t.production, t.body, coalesce(m.received_at, now())
  FROM "message_text_0004" t LEFT JOIN "messages_0004" m ON m.id = t.message_id;--> statement-breakpoint
-- The event ids' sequence outlives the old table.
ALTER SEQUENCE "message_events_id_seq" OWNED BY "message_events"."id";--> statement-breakpoint
DROP TABLE "messages_0004";--> statement-breakpoint
DROP TABLE "message_status_0004";--> statement-breakpoint
DROP TABLE "message_text_0004";--> statement-breakpoint
DROP TABLE "message_events_0004";--> statement-breakpoint
-- Keys and indexes on the parents, after the copy (each partition gets its own, built in bulk).
ALTER TABLE "messages" ADD CONSTRAINT "messages_pkey" PRIMARY KEY("id","received_at");--> statement-breakpoint
ALTER TABLE "message_status" ADD CONSTRAINT "message_status_pkey" PRIMARY KEY("message_id","received_at");--> statement-breakpoint
ALTER TABLE "message_text" ADD CONSTRAINT "message_text_pkey" PRIMARY KEY("message_id","received_at");--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_pkey" PRIMARY KEY("id","at");--> statement-breakpoint
CREATE INDEX "messages_project_received_idx" ON "messages" USING btree ("project_id","received_at","id");--> statement-breakpoint
CREATE INDEX "messages_received_idx" ON "messages" USING btree ("received_at","id");--> statement-breakpoint
CREATE INDEX "messages_control_id_idx" ON "messages" USING btree ("control_id");--> statement-breakpoint
CREATE INDEX "messages_patient_id_idx" ON "messages" USING btree ("patient_id","received_at","id");--> statement-breakpoint
CREATE INDEX "messages_message_type_idx" ON "messages" USING btree ("message_type","received_at","id");--> statement-breakpoint
CREATE INDEX "messages_parent_idx" ON "messages" USING btree ("parent_id") WHERE "messages"."parent_id" is not null;--> statement-breakpoint
CREATE INDEX "message_status_project_idx" ON "message_status" USING btree ("project_id","status","received_at","message_id");--> statement-breakpoint
CREATE INDEX "message_status_status_idx" ON "message_status" USING btree ("status","received_at","message_id");--> statement-breakpoint
CREATE INDEX "message_status_unfinished_idx" ON "message_status" USING btree ("project_id","received_at","message_id") WHERE "message_status"."finished_at" is null;--> statement-breakpoint
CREATE INDEX "message_text_body_trgm_idx" ON "message_text" USING gin ("body" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "message_events_message_idx" ON "message_events" USING btree ("message_id","at","id");
