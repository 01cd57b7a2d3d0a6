-- The hosts an environment secret may be sent to (exact names, *.domain wildcards, optional :port).
-- Existing secrets get none: they are refused at deploy until an admin sets their hosts.
ALTER TABLE "environment_variables" ADD COLUMN "hosts" text[] DEFAULT '{}'::text[] NOT NULL;
