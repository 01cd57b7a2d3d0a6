import pg from 'pg';
import { openTestStore, type TestStore } from '@hie/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hieExec } from './testing/helpers';

describe('hie audit verify', () => {
  let db: TestStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_audit' });
    env = { DATABASE_URL: db.databaseUrl! };
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('reports an intact chain (exit 0), then the first entry edited behind the trigger (exit 1)', async () => {
    const rows = [];
    for (let i = 0; i < 3; i++) rows.push(await db.store.audit.append({ actorName: 'alice', action: 'project.create', entityType: 'project', entityId: `p${i}` }));
    const ok = await hieExec(['audit', 'verify'], { env });
    expect(ok.output).toContain('audit log intact: 3 entries');
    expect(ok.code).toBe(0);

    // A superuser can switch the append-only trigger off; the chain still tells.
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    try {
      await client.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      await client.query("UPDATE audit_log SET actor_name = 'mallory' WHERE id = $1", [rows[1].id]);
      await client.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    } finally {
      await client.end();
    }
    const broken = await hieExec(['audit', 'verify'], { env });
    expect(broken.output).toContain(`audit log broken at entry ${rows[1].id}`);
    expect(broken.code).toBe(1);
  }, 60_000);

  it('"hie audit" without verify prints its help (exit 2); --help exits 0', async () => {
    const bare = await hieExec(['audit'], { env });
    expect(bare.code).toBe(2);
    expect(bare.output).toContain('hie audit verify');
    const help = await hieExec(['audit', '--help']);
    expect(help.code).toBe(0);
    expect(help.output).toContain('hie audit verify');
  }, 30_000);
});
