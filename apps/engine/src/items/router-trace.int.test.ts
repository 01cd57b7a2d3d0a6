import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageEnvelope } from '@hie/envelope';
import { openTestStore, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { StoreTracker } from '../runtime/store-tracker';
import { itemEvent } from '../testing/trace';
import { testPolicy } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

const log = pino({ level: 'silent' });

describe('hl7.router in the trace', () => {
  let db: TestStore;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_router' });
  });
  afterAll(async () => db.cleanup());
  afterEach(() => {
    sinks.clear();
    manualServices.clear();
  });

  it.each(['async', 'multiprocess'] as const)('records which rule matched on the router’s delivered and discarded events, and when none did (%s)', async (mode) => {
    const owner = { projectId: `p-router-${mode}`, workspaceId: 'w-router', production: 'router-trace' };
    const tracker = StoreTracker.forProduction(db.store.messages, owner, 'full', log);
    const { engine } = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), tracker });
    await engine.apply({
      name: owner.production,
      items: [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'Route',
          type: 'hl7.router',
          execution: { mode, workers: 1 },
          settings: {
            mode: 'first_match',
            otherwise: 'send_all',
            rules: [
              { name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['ADT'] } },
              { name: 'drop orders', when: { path: 'MSH-9.1', op: '=', value: 'ORM' }, then: { action: 'discard', reason: 'not wanted' } },
            ],
          },
        },
        { name: 'ADT', type: 'test.collect' },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'ADT' },
      ],
    });
    try {
      const m = (type: string, id: string) => `MSH|^~\\&|A|B|C|D|20240101||${type}|${id}|P|2.5\r`;
      const ids: Record<string, string> = {};
      for (const [type, id] of [['ADT^A01', 'R1'], ['ORM^O01', 'R2'], ['ORU^R01', 'R3']]) {
        ids[id] = (await manualServices.get('In')!.submit(MessageEnvelope.createHl7(m(type, id), { source: 'In' }))).messageId;
      }
      await engine.idle();
      expect(sink('ADT').map((e) => e.header.controlId).sort()).toEqual(['R1', 'R3']);
      await tracker.flush();
      const routerEvent = (id: string) => itemEvent(db.store.messages, owner.projectId, id, 'Route');
      expect(await routerEvent(ids.R1)).toMatchObject({ event: 'delivered', detail: { rule: 'adt' } });
      expect(await routerEvent(ids.R2)).toMatchObject({ event: 'discarded', detail: { rule: 'drop orders', reason: 'drop orders: not wanted' } });
      expect(await routerEvent(ids.R3)).toMatchObject({ event: 'delivered', detail: { otherwise: 'send_all' } });
    } finally {
      await engine.stop();
      await tracker.close();
    }
  });
});
