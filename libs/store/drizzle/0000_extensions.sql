-- Trigram matching for message text search (GIN index on the body in the next migration).
-- PostgreSQL: pg_trgm is a trusted extension (PG 13+), so a database owner may create it.
-- PGlite: openStore() loads the module from @electric-sql/pglite/contrib/pg_trgm.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
