import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateStore, openStore } from './store.js';
import { openTestStore } from './testing.js';

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
      expect((res as { rows: { n: number }[] }).rows[0].n).toBe(6);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await t.cleanup();
    }
  });
});
