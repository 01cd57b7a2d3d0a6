import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WRITER_PIPELINES, migrateStore, openStore, type OpenStoreOptions } from './store.js';
import { openTestStore } from './testing.js';

/** How many migrations the journal lists (each applied exactly once). */
const journalEntries = (): number => (JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }).entries.length;

const enc = new TextEncoder();

describe('openStore', () => {
  it('keeps PGlite data on disk across close and reopen, and recovers what was unfinished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hie-store-'));
    try {
      const first = await openStore({ dataDir: dir });
      expect(first.backend).toBe('pglite');
      const writer = first.messages.writer();
      const id = randomUUID();
      await writer.received({
        id,
        production: 'adt', projectId: 'p-adt', workspaceId: 'ws',
        item: 'mllp-in',
        receivedAt: new Date(),
        contentType: 'application/hl7-v2',
        header: { a: 1 },
        raw: enc.encode('MSH|^~\\&|A'),
      });
      await writer.event({ messageId: id, production: 'adt', projectId: 'p-adt', workspaceId: 'ws', item: 'router', event: 'processing' });
      const pending = writer.event({ messageId: id, production: 'adt', projectId: 'p-adt', workspaceId: 'ws', item: 'router', event: 'queued' });
      await first.close(); // flushes the writer first
      await pending;
      await expect(writer.event({ messageId: id, production: 'adt', projectId: 'p-adt', workspaceId: 'ws', item: 'x', event: 'queued' })).rejects.toMatchObject({ code: 'store.closed' });
      const second = await openStore({ dataDir: dir });
      await migrateStore(second);
      const open: string[] = [];
      for await (const m of second.messages.unfinished('p-adt')) open.push(`${m.id}:${m.lastEvent}@${m.lastItem}`);
      expect(open).toEqual([`${id}:queued@router`]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with store.unavailable when PostgreSQL cannot be reached', async () => {
    await expect(openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/nope' })).rejects.toMatchObject({
      name: 'StoreError',
      code: 'store.unavailable',
      kind: 'operational',
    });
  });

  it('serialises concurrent migrations of one PostgreSQL database', async () => {
    const t = await openTestStore('postgres', { migrate: false });
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl: t.databaseUrl })));
      const res: unknown = await stores[0].db.execute('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect((res as { rows: { n: number }[] }).rows[0].n).toBe(journalEntries());
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await t.cleanup();
    }
  });

  /**
   * How many of a writer's batches are in flight at once on PostgreSQL: with `messages` locked
   * against inserts, every batch the writer starts waits on the lock in its own backend, so the
   * number of waiting backends is the number of overlapping commits.
   */
  async function overlappingCommits(databaseUrl: string, opts: OpenStoreOptions): Promise<number> {
    const store = await openStore({ databaseUrl, migrate: false, ...opts });
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    const waiting = async (): Promise<number> => {
      const r = await locker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH m AS (%'`,
      );
      return r.rows[0].n;
    };
    try {
      // Open more pool connections than any writer may use, so only the writer's own limit caps the overlap.
      await Promise.all(Array.from({ length: 8 }, () => store.db.execute('SELECT pg_sleep(0.2)')));
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE');
      const writer = store.messages.writer({ maxBatch: 1, maxDelayMs: 0 });
      const production = `p-${randomUUID()}`;
      const written = Array.from({ length: 12 }, () =>
        writer.received({
          id: randomUUID(),
          production, projectId: production, workspaceId: 'ws',
          item: 'mllp-in',
          receivedAt: new Date(),
          contentType: 'application/hl7-v2',
          header: {},
          raw: enc.encode('MSH|^~\\&|A'),
        }),
      );
      // The batches queue on the lock; read their number once it has stopped changing (polls of 25 ms).
      let n = 0;
      let same = 0;
      for (let i = 0; i < 600 && (n === 0 || same < 12); i++) {
        await new Promise((r) => setTimeout(r, 25));
        const now = await waiting();
        same = now === n ? same + 1 : 0;
        n = now;
      }
      await locker.query('COMMIT');
      await Promise.all(written);
      return n;
    } finally {
      await locker.end();
      await store.close();
    }
  }

  it('overlaps writerPipelines commits of a message writer on PostgreSQL (default 4)', async () => {
    const t = await openTestStore('postgres');
    try {
      expect(await overlappingCommits(t.databaseUrl!, { writerPipelines: 3 })).toBe(3);
      expect(await overlappingCommits(t.databaseUrl!, {})).toBe(DEFAULT_WRITER_PIPELINES);
      expect(DEFAULT_WRITER_PIPELINES).toBe(4);
    } finally {
      await t.cleanup();
    }
  });
});
