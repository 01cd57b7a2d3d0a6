/**
 * Migration 0004 on a database that already holds messages keyed by production name: every row
 * gets the project (and workspace) of the deployment that wrote it; rows no deployment claims
 * are `hie run`'s (`local:<production>`). Existing audit entries join the hash chain.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from './store.js';
import { firstMigrations } from './test-migrations.js';
import { openTestStore, type TestStore } from './testing.js';

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore('postgres', { prefix: 'hie_test_mig', migrate: false });
});
afterAll(async () => t?.cleanup());

describe('migration 0004 (tenancy)', () => {
  it('backfills project and workspace ids from the deployments, and chains the existing audit rows', async () => {
    const pool = new pg.Pool({ connectionString: t.databaseUrl });
    try {
      await migrate(drizzle({ client: pool }), { migrationsFolder: firstMigrations(4) });
      const q = (text: string, values: unknown[] = []) => pool.query(text, values);
      await q(`INSERT INTO workspaces (id, name) VALUES ('w1', 'Trust A'), ('w2', 'Trust B')`);
      await q(`INSERT INTO projects (id, workspace_id, name, current_version) VALUES ('p1', 'w1', 'adt', 2), ('p2', 'w2', 'labs', 1)`);
      await q(
        `INSERT INTO config_versions (id, project_id, version, spec) VALUES
         ('v1', 'p1', 1, '{"name":"old-name"}'), ('v2', 'p1', 2, '{"name":"adt-feed"}'), ('v3', 'p2', 1, '{"name":"lab-feed"}')`,
      );
      await q(`INSERT INTO deployments (project_id, version, desired_state) VALUES ('p1', 2, 'running'), ('p2', 1, 'stopped')`);
      const put = async (id: string, production: string) => {
        await q(
          `INSERT INTO messages (id, production, item, received_at, content_type, header, raw, size)
           VALUES ($1, $2, 'In', now(), 'text/plain', '{}', 'x'::bytea, 1)`,
          [id, production],
        );
        await q(`INSERT INTO message_status (message_id, production, received_at, status) VALUES ($1, $2, now(), 'received')`, [id, production]);
        await q(`INSERT INTO message_events (message_id, production, item, event) VALUES ($1, $2, 'In', 'received')`, [id, production]);
        await q(`INSERT INTO message_text (message_id, production, body) VALUES ($1, $2, 'x')`, [id, production]);
      };
      await put('m-adt', 'adt-feed');
      await put('m-lab', 'lab-feed');
      await put('m-run', 'from-hie-run');
      await q(`INSERT INTO audit_log (action, entity_type) VALUES ('project.create', 'project'), ('config.save', 'project')`);

      const store = await openStore({ databaseUrl: t.databaseUrl });
      try {
        for (const table of ['messages', 'message_status', 'message_events', 'message_text']) {
          const key = table === 'messages' ? 'id' : 'message_id';
          const rows = (await q(`SELECT ${key} AS id, project_id, workspace_id FROM ${table} ORDER BY 1`)).rows;
          expect(rows, table).toEqual([
            { id: 'm-adt', project_id: 'p1', workspace_id: 'w1' },
            { id: 'm-lab', project_id: 'p2', workspace_id: 'w2' },
            { id: 'm-run', project_id: 'local:from-hie-run', workspace_id: 'local' },
          ]);
        }
        expect((await store.messages.get('p1', 'm-adt'))?.production).toBe('adt-feed');
        expect(await store.messages.get('p2', 'm-adt')).toBeUndefined();
        const audit = (await q(`SELECT hash FROM audit_log ORDER BY id`)).rows as { hash: string | null }[];
        expect(audit).toHaveLength(2);
        for (const a of audit) expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
        // Append-only from now on.
        await expect(q(`UPDATE audit_log SET action = 'x'`)).rejects.toMatchObject({ code: 'HIE01' });
        await expect(q(`DELETE FROM audit_log`)).rejects.toMatchObject({ code: 'HIE01' });
      } finally {
        await store.close();
      }
    } finally {
      await pool.end();
    }
  });
});
