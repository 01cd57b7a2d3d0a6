/**
 * Recovery on takeover (cluster): a node taking over a dead node's listener replays only what that
 * listener received and never handed to a stream (real PostgreSQL store).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { openTestStore, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { testPolicy } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';
import type { ProductionEngine } from './production-engine';
import { recoverUnfinished } from './recovery';

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;
let t: TestStore;

beforeAll(async () => {
  t = await openTestStore('postgres', { prefix: 'hie_test_recovery' });
}, 60_000);
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
});
afterAll(async () => {
  await t?.cleanup();
});

const hl7 = (id: string) => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;
const spec = {
  name: 'takeover',
  items: [
    { name: 'In', type: 'test.manual_in' },
    { name: 'Out', type: 'test.collect' },
    { name: 'Copy', type: 'test.collect' },
  ],
  connections: [
    { from: 'In', to: 'Out' },
    { from: 'In', to: 'Copy' },
  ],
};

/** Unfinished messages received at In, each with the hand-offs its trace recorded. */
async function stored(projectId: string, messages: Record<string, { to: string; stream?: boolean }[]>): Promise<void> {
  const writer = t.store.messages.writer();
  const scope = { projectId, workspaceId: 'w', production: 'takeover' };
  for (const [controlId, handOffs] of Object.entries(messages)) {
    const id = randomUUID();
    await writer.received({ id, ...scope, item: 'In', receivedAt: Date.now(), contentType: 'application/hl7-v2+er7', header: {}, controlId, raw: new TextEncoder().encode(hl7(controlId)) });
    for (const h of handOffs) await writer.event({ messageId: id, ...scope, item: h.to, event: 'queued', detail: { from: 'In', ...(h.stream ? { stream: true } : {}) } });
  }
  await writer.close();
}

describe('recovery of a listener taken over from a dead node', () => {
  it('re-queues only the messages whose hand-off to every target was never recorded in a stream', async () => {
    const projectId = `p-${randomUUID()}`;
    await stored(projectId, {
      STREAMED: [
        { to: 'Out', stream: true },
        { to: 'Copy', stream: true },
      ],
      HALF: [{ to: 'Out', stream: true }], // the node died between the two hand-offs: replay
      NONE: [], // received, never handed on
      LOCAL: [{ to: 'Out' }, { to: 'Copy' }], // queued in memory on the dead node (no stream)
    });
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    await engine.apply(spec);
    expect(await recoverUnfinished(t.store.messages, engine, projectId, log, { items: ['In'] })).toBe(3);
    await engine.idle();
    expect(sink('Out').map((m) => m.header.controlId).sort()).toEqual(['HALF', 'LOCAL', 'NONE']);
    expect(sink('Copy').map((m) => m.header.controlId).sort()).toEqual(['HALF', 'LOCAL', 'NONE']);
  });

  it('a restart (not a takeover) still replays every unfinished message', async () => {
    const projectId = `p-${randomUUID()}`;
    await stored(projectId, { STREAMED: [{ to: 'Out', stream: true }, { to: 'Copy', stream: true }], NONE: [] });
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    await engine.apply(spec);
    expect(await recoverUnfinished(t.store.messages, engine, projectId, log)).toBe(2);
  });
});
