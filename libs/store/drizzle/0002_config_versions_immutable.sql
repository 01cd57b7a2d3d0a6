-- Config versions are immutable: refuse any UPDATE (deleting a project still cascades).
-- SQLSTATE HIE01 is mapped to StoreError 'store.immutable'.
CREATE OR REPLACE FUNCTION hie_config_versions_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'config version % of project % is immutable', OLD.version, OLD.project_id
    USING ERRCODE = 'HIE01';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER config_versions_immutable
  BEFORE UPDATE ON config_versions
  FOR EACH ROW EXECUTE FUNCTION hie_config_versions_immutable();
