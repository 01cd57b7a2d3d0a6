/**
 * Migration 0005 on a database (PostgreSQL, and PGlite's data directory) that already holds
 * messages: every row of the four per-message tables moves into its day's partition (or the
 * DEFAULT one for a day out of range), text rows take their message's received time, and the
 * store goes on writing (the event id sequence continues, received() stays idempotent).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store, type StoreBackend } from './store.js';
import { firstMigrations } from './test-migrations.js';
import { openTestStore, type TestStore } from './testing.js';

type Query = (text: string, values?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

const DAY = 86_400_000;
const now = Date.now();
const day = (t: number) => new Date(t).toISOString().slice(0, 10).replaceAll('-', '');
/** Received times of the rows written under 0004: today, 20 days ago, and 1990 (out of range: DEFAULT). */
const times = { today: now, old: now - 20 * DAY, ancient: Date.parse('1990-06-01T10:00:00Z') };

async function seed(q: Query): Promise<void> {
  for (const [id, t] of Object.entries(times)) {
    const at = new Date(t).toISOString();
    await q(
      `INSERT INTO messages (id, project_id, workspace_id, production, item, received_at, content_type, header, raw, size, control_id)
       VALUES ($1, 'p1', 'w1', 'feed', 'In', $2, 'text/plain', '{}', 'hello'::bytea, 5, $3)`,
      [id, at, `CTL-${id}`],
    );
    await q(`INSERT INTO message_status (message_id, project_id, workspace_id, production, received_at, status) VALUES ($1, 'p1', 'w1', 'feed', $2, 'received')`, [id, at]);
    await q(`INSERT INTO message_events (message_id, project_id, workspace_id, production, item, event, at) VALUES ($1, 'p1', 'w1', 'feed', 'In', 'received', $2)`, [id, at]);
    await q(`INSERT INTO message_text (message_id, project_id, workspace_id, production, body) VALUES ($1, 'p1', 'w1', 'feed', 'hello')`, [id]);
  }
}

async function check(q: Query, store: Store): Promise<void> {
  const expected = { today: `_p${day(times.today)}`, old: `_p${day(times.old)}`, ancient: '_default' };
  for (const table of ['messages', 'message_status', 'message_text', 'message_events']) {
    const key = table === 'messages' ? 'id' : 'message_id';
    const rows = (await q(`SELECT ${key} AS id, tableoid::regclass::text AS part FROM ${table} ORDER BY 1`)).rows;
    expect(rows, table).toEqual(Object.keys(times).sort().map((id) => ({ id, part: table + expected[id as keyof typeof expected] })));
  }
  const text = (await q(`SELECT t.message_id FROM message_text t JOIN messages m ON m.id = t.message_id AND m.received_at = t.received_at`)).rows;
  expect(text).toHaveLength(3);
  const keys = (await q(`SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text IN ('messages', 'message_events') ORDER BY 1`)).rows;
  expect(keys).toEqual([
    { t: 'message_events', def: 'PRIMARY KEY (id, at)' },
    { t: 'messages', def: 'PRIMARY KEY (id, received_at)' },
  ]);
  const old = await store.messages.get('p1', 'old');
  expect(old?.events.map((e) => e.event)).toEqual(['received']);
  expect((await store.messages.search('p1', { controlId: 'CTL-ancient' })).items.map((m) => m.id)).toEqual(['ancient']);
  // Writing goes on: events get fresh ids from the old sequence, a repeated received() adds nothing.
  const w = store.messages.writer();
  await w.event({ messageId: 'today', projectId: 'p1', workspaceId: 'w1', production: 'feed', item: 'Out', event: 'delivered' });
  await w.received({ id: 'old', projectId: 'p1', workspaceId: 'w1', production: 'feed', item: 'In', receivedAt: times.old, contentType: 'text/plain', header: {}, raw: new Uint8Array([104]) });
  await w.close();
  expect((await store.messages.get('p1', 'today'))?.status).toBe('delivered');
  expect((await q(`SELECT count(*)::int AS n FROM messages WHERE id = 'old'`)).rows[0]['n']).toBe(1);
  const ids = (await q(`SELECT id FROM message_events ORDER BY id`)).rows.map((r) => Number(r['id']));
  expect(new Set(ids).size).toBe(4);
}

const opened: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of opened.reverse()) await close();
});

describe.each<StoreBackend>(['postgres', 'pglite'])('migration 0005 (day partitions) on %s', (backend) => {
  it('moves the existing rows of every per-message table into their day partitions', async () => {
    if (backend === 'postgres') {
      const t: TestStore = await openTestStore('postgres', { prefix: 'hie_test_mig', migrate: false });
      opened.push(() => t.cleanup());
      const pool = new pg.Pool({ connectionString: t.databaseUrl });
      opened.push(() => pool.end());
      await migrateNodePg(drizzleNodePg({ client: pool }), { migrationsFolder: firstMigrations(5) });
      const q: Query = (text, values) => pool.query(text, values);
      await seed(q);
      const store = await openStore({ databaseUrl: t.databaseUrl });
      try {
        await check(q, store);
      } finally {
        await store.close();
      }
      return;
    }
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hie-pglite-mig-'));
    opened.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const old = await PGlite.create({ dataDir, extensions: { pg_trgm } });
    await migratePglite(drizzlePglite({ client: old }), { migrationsFolder: firstMigrations(5) });
    await seed((text, values) => old.query(text, values));
    await old.close();
    const store = await openStore({ dataDir });
    try {
      // Through the store's own client: PGlite opens a data directory once. check() passes no values.
      const q: Query = async (text) => (await store.db.execute(sql.raw(text))) as unknown as { rows: Record<string, unknown>[] };
      await check(q, store);
    } finally {
      await store.close();
    }
  });
});
