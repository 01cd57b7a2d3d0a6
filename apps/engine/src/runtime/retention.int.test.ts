import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '@hie/store';
import { startRetention } from './retention';

describe('retention', () => {
  let db: TestStore;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_retention' });
  });
  afterAll(async () => db.cleanup());

  it('purges messages older than the production’s retention days, leaves newer ones and other productions', async () => {
    const w = db.store.messages.writer();
    const raw = new TextEncoder().encode('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X|P|2.5\r');
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
});
