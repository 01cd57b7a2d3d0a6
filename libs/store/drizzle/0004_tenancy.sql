-- Tenancy: every message, event, status and text row belongs to a project and its workspace
-- (hand-edited: columns are added nullable, backfilled, then made NOT NULL).
ALTER TABLE "messages" ADD COLUMN "project_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "workspace_id" text;--> statement-breakpoint
ALTER TABLE "message_status" ADD COLUMN "project_id" text;--> statement-breakpoint
ALTER TABLE "message_status" ADD COLUMN "workspace_id" text;--> statement-breakpoint
ALTER TABLE "message_events" ADD COLUMN "project_id" text;--> statement-breakpoint
ALTER TABLE "message_events" ADD COLUMN "workspace_id" text;--> statement-breakpoint
ALTER TABLE "message_text" ADD COLUMN "project_id" text;--> statement-breakpoint
ALTER TABLE "message_text" ADD COLUMN "workspace_id" text;--> statement-breakpoint
-- Backfill from the deployments that wrote them: a production name maps to the project whose
-- deployed version carries that name (the most recently deployed one, should two ever have).
-- Rows no deployment claims were written by `hie run`, whose scope is `local:<production>`.
CREATE TEMP TABLE hie_scope_map AS
  SELECT DISTINCT ON (cv.spec->>'name') cv.spec->>'name' AS production, p.id AS project_id, p.workspace_id
  FROM deployments d
  JOIN config_versions cv ON cv.project_id = d.project_id AND cv.version = d.version
  JOIN projects p ON p.id = d.project_id
  ORDER BY cv.spec->>'name', d.updated_at DESC;--> statement-breakpoint
UPDATE "messages" t SET project_id = coalesce(m.project_id, 'local:' || t.production), workspace_id = coalesce(m.workspace_id, 'local')
  FROM "messages" t2 LEFT JOIN hie_scope_map m ON m.production = t2.production WHERE t2.id = t.id;--> statement-breakpoint
UPDATE "message_status" t SET project_id = m.project_id, workspace_id = m.workspace_id
  FROM "messages" m WHERE m.id = t.message_id;--> statement-breakpoint
UPDATE "message_events" t SET project_id = m.project_id, workspace_id = m.workspace_id
  FROM "messages" m WHERE m.id = t.message_id;--> statement-breakpoint
UPDATE "message_text" t SET project_id = m.project_id, workspace_id = m.workspace_id
  FROM "messages" m WHERE m.id = t.message_id;--> statement-breakpoint
-- Orphans (an event for a message that was never stored) get the hie run scope of their production.
UPDATE "message_status" SET project_id = 'local:' || production, workspace_id = 'local' WHERE project_id IS NULL;--> statement-breakpoint
UPDATE "message_events" SET project_id = 'local:' || production, workspace_id = 'local' WHERE project_id IS NULL;--> statement-breakpoint
UPDATE "message_text" SET project_id = 'local:' || production, workspace_id = 'local' WHERE project_id IS NULL;--> statement-breakpoint
DROP TABLE hie_scope_map;--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "workspace_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "message_status" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "message_status" ALTER COLUMN "workspace_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "message_events" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "message_events" ALTER COLUMN "workspace_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "message_text" ALTER COLUMN "project_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "message_text" ALTER COLUMN "workspace_id" SET NOT NULL;--> statement-breakpoint
DROP INDEX "message_status_production_idx";--> statement-breakpoint
DROP INDEX "messages_production_received_idx";--> statement-breakpoint
DROP INDEX "message_status_unfinished_idx";--> statement-breakpoint
CREATE INDEX "message_status_project_idx" ON "message_status" USING btree ("project_id","status","received_at","message_id");--> statement-breakpoint
CREATE INDEX "messages_project_received_idx" ON "messages" USING btree ("project_id","received_at","id");--> statement-breakpoint
CREATE INDEX "message_status_unfinished_idx" ON "message_status" USING btree ("project_id","received_at","message_id") WHERE "message_status"."finished_at" is null;--> statement-breakpoint
-- Who may read bodies: analysts and admins, or a viewer with this flag.
ALTER TABLE "memberships" ADD COLUMN "phi_reader" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Soft delete: a deleted project keeps its config history; its name may be reused.
ALTER TABLE "projects" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
DROP INDEX "projects_workspace_name_unique";--> statement-breakpoint
CREATE UNIQUE INDEX "projects_workspace_name_unique" ON "projects" USING btree ("workspace_id","name") WHERE "projects"."deleted_at" is null;--> statement-breakpoint
-- Audit: entity names beside ids, and an append-only hash chain.
ALTER TABLE "audit_log" ADD COLUMN "entity_name" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "hash" text;--> statement-breakpoint
-- One row's link: sha256 over the previous hash and every column, in a form that does not depend
-- on session settings (time as epoch microseconds, jsonb in its canonical text form).
CREATE OR REPLACE FUNCTION hie_audit_hash(prev text, r audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws('|',
    quote_nullable(prev), r.id::text, ((extract(epoch from r.at) * 1000000)::bigint)::text,
    quote_nullable(r.actor_id), quote_nullable(r.actor_name), quote_literal(r.action), quote_literal(r.entity_type),
    quote_nullable(r.entity_id), quote_nullable(r.entity_name), quote_nullable(r.workspace_id),
    quote_nullable(r.before::text), quote_nullable(r.after::text), quote_nullable(r.source_address)), 'UTF8')), 'hex')
$$;--> statement-breakpoint
-- Existing rows join the chain in id order.
DO $$
DECLARE prev text := NULL; r audit_log;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    prev := hie_audit_hash(prev, r);
    UPDATE audit_log SET hash = prev WHERE id = r.id;
  END LOOP;
END $$;--> statement-breakpoint
-- New rows: serialised by a transaction-scoped advisory lock, the id is taken under the lock so
-- that id order is chain order, then linked to the newest row.
CREATE OR REPLACE FUNCTION hie_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE prev text;
BEGIN
  PERFORM pg_advisory_xact_lock(72620019);
  NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
  SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
  NEW.hash := hie_audit_hash(prev, NEW);
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION hie_audit_chain();--> statement-breakpoint
-- Append-only: SQLSTATE HIE01 maps to StoreError 'store.immutable'.
CREATE OR REPLACE FUNCTION hie_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'HIE01';
END;
$$;--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION hie_audit_append_only();--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION hie_audit_append_only();
