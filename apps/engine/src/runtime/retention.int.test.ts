import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '@hie/store';
import pg from 'pg';
import { until } from '../testing/helpers';
import { startRetention } from './retention';

describe('retention', () => {
  const raw = new TextEncoder().encode('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X|P|2.5\r');
  let db: TestStore;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_retention' });
  });
  afterAll(async () => db.cleanup());

  it('purges messages older than the production’s retention days, leaves newer ones and other productions', async () => {
    const w = db.store.messages.writer();
    const day = 86_400_000;
    const put = (id: string, production: string, ageDays: number) =>
      w.received({ id, production, projectId: production, workspaceId: 'ws', item: 'In', receivedAt: Date.now() - ageDays * day, contentType: 'application/hl7-v2+er7', header: {}, raw });
    await Promise.all([put('old-a', 'a', 10), put('new-a', 'a', 1), put('old-b', 'b', 10), put('forever', 'c', 400)]);
    await w.flush();
    const stop = startRetention({
      messages: db.store.messages,
      log: pino({ level: 'silent' }),
      targets: () => [
        { projectId: 'a', production: 'a', retentionDays: 7 },
        { projectId: 'b', production: 'b', retentionDays: 30 },
        { projectId: 'c', production: 'c', retentionDays: 0 },
      ],
      firstAfterMs: 0,
    });
    let ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const pages = await Promise.all(['a', 'b', 'c'].map((p) => db.store.messages.search(p, { limit: 50 })));
      ids = pages.flatMap((p) => p.items.map((m) => m.id)).sort();
      if (!ids.includes('old-a')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    stop();
    expect(ids).toEqual(['forever', 'new-a', 'old-b']);
    await w.close();
  });

  it('drops the day partitions only its projects hold, older than their longest retention', async () => {
    const w = db.store.messages.writer();
    const dayMs = 86_400_000;
    const dayOf = (ageDays: number) => new Date(Date.now() - ageDays * dayMs).toISOString().slice(0, 10);
    const [alone, shared] = [dayOf(50), dayOf(49)];
    // Days back in time get their partitions the way maintenance makes them (it makes days ahead).
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    await client.query('SELECT hie_ensure_day_partitions($1::date, $2::date)', [alone, shared]);
    await client.end();
    const put = (id: string, projectId: string, day: string) =>
      w.received({ id, production: projectId, projectId, workspaceId: 'ws', item: 'In', receivedAt: Date.parse(`${day}T12:00:00Z`), contentType: 'application/hl7-v2+er7', header: {}, raw });
    await Promise.all([put('d-1', 'd', alone), put('d-2', 'd', shared), put('e-1', 'e', shared)]);
    await w.close();
    const partitioned = async (day: string) => (await db.store.messages.partitionDays()).includes(day);
    expect(await partitioned(alone)).toBe(true);
    const stop = startRetention({
      messages: db.store.messages,
      log: pino({ level: 'silent' }),
      targets: () => [
        { projectId: 'd', production: 'd', retentionDays: 7 },
        { projectId: 'e', production: 'e', retentionDays: 0 },
      ],
      firstAfterMs: 0,
    });
    await until(async () => !(await partitioned(alone)) && (await db.store.messages.get('d', 'd-2')) === undefined);
    stop();
    expect(await partitioned(shared)).toBe(true); // e keeps its messages for ever
    expect(await db.store.messages.get('e', 'e-1')).toBeDefined();
  });
});
