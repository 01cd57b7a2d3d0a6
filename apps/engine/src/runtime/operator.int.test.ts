/**
 * What an operator relies on (issue 10, points 2 and 13): per-item queue wait histograms,
 * counters that count messages once and survive a hot reload that replaces hosts and rebuilds
 * queues, and resends that never go to an inbound service.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { openTestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { testPolicy } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';
import type { ProductionEngine } from './production-engine';
import { recoverUnfinished } from './recovery';

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
});

const hl7 = (id: string) => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;
const submit = (item: string, id: string) => manualServices.get(item)!.submit(MessageEnvelope.createHl7(hl7(id), { source: item }));

/** In → Mid → Out; `v` changes In's and Out's settings (and Out's queue) so a reload replaces them. */
const spec = (v: number) => ({
  name: 'figures',
  items: [
    { name: 'In', type: 'test.manual_in', restart: { maxRestarts: 10 + v } },
    { name: 'Mid', type: 'test.thread_stamp' },
    { name: 'Out', type: 'test.collect', settings: { delayMs: v }, queue: { size: 1000 + v } },
  ],
  connections: [
    { from: 'In', to: 'Mid' },
    { from: 'Mid', to: 'Out' },
  ],
});

describe('what an operator relies on', () => {
  it('count messages at the service once, and keep counting across a hot reload that replaces hosts and queues', async () => {
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    const e = engine;
    await e.apply(spec(1));
    for (let i = 0; i < 40; i++) await submit('In', `A${i}`);
    await e.idle();
    const item = (name: string) => e.status().items.find((i) => i.name === name)!;
    const received = () => e.status().items.filter((i) => i.kind === 'service').reduce((a, i) => a + i.processed, 0);
    // 40 messages crossed 3 items: 120 hops, but 40 messages received.
    expect(received()).toBe(40);
    expect(e.status().items.reduce((a, i) => a + i.processed, 0)).toBe(120);

    const report = await e.apply(spec(2));
    expect(report.replaced.sort()).toEqual(['In', 'Out']);
    expect(received()).toBe(40);
    expect(item('Out').processed).toBe(40);
    expect(item('Out').queueWait?.count).toBe(40);

    for (let i = 0; i < 10; i++) await submit('In', `B${i}`);
    await e.idle();
    expect(received()).toBe(50);
    expect(item('Out').processed).toBe(50);
    expect(item('Out').queueWait?.count).toBe(50);
    expect(sink('Out')).toHaveLength(50);
  });

  it('report each item’s queue waits as cumulative histogram counts and recent percentiles', async () => {
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    const e = engine;
    await e.apply(spec(20));
    // Out takes 20 ms a message: the ones behind the first wait in its queue.
    await Promise.all(Array.from({ length: 8 }, (_, i) => submit('In', `W${i}`)));
    await e.idle();
    const w = e.status().items.find((i) => i.name === 'Out')!.queueWait!;
    expect(w.count).toBe(8);
    expect(w.counts).toHaveLength(w.bucketsMs.length);
    // Cumulative and bounded by the total.
    for (let i = 1; i < w.counts.length; i++) expect(w.counts[i]).toBeGreaterThanOrEqual(w.counts[i - 1]);
    expect(w.counts.at(-1)).toBeLessThanOrEqual(w.count);
    // The last message waited behind seven others of 20 ms each.
    expect(w.sumMs).toBeGreaterThanOrEqual(7 * 20);
    expect(w.p99Ms).toBeGreaterThanOrEqual(w.p50Ms);
    expect(w.p99Ms).toBeGreaterThan(0);
  });

  it('refuses to inject a resent message into an inbound service, where it would wait forever', async () => {
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    const e = engine;
    await e.apply(spec(0));
    const env = () => MessageEnvelope.createHl7(hl7('R1'), { source: 'resend' });
    await expect(e.inject('In', env())).rejects.toMatchObject({ code: 'engine.bad_target', kind: 'user' });
    expect(e.status().items.find((i) => i.name === 'In')?.queueDepth).toBe(0);
    await e.inject('Out', env());
    await e.idle();
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['R1']);
  });

  it('a resend stored while no engine ran resumes at the item it was sent to, after a restart', async () => {
    const t = await openTestStore('postgres', { prefix: 'hie_test_operator' });
    try {
      const projectId = 'p-resume';
      const writer = t.store.messages.writer();
      const id = '8d0c1f5e-3f55-4d8e-9f0e-0b8a4d1f7a11';
      await writer.received({ id, projectId, workspaceId: 'w', production: 'figures', item: 'In', receivedAt: Date.now(), contentType: 'application/hl7-v2+er7', header: {}, raw: new TextEncoder().encode(hl7('RS1')) });
      await writer.event({ messageId: id, projectId, workspaceId: 'w', production: 'figures', item: 'Out', event: 'failed' });
      await writer.event({ messageId: id, projectId, workspaceId: 'w', production: 'figures', item: 'Out', event: 'completed' });
      await writer.close();
      // The operator resends it to Out while the production is down: the copy waits in the store.
      const copy = await t.store.messages.resend(projectId, id, { toItem: 'Out', actor: 'alice' });

      engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
      await engine.apply(spec(0));
      expect(await recoverUnfinished(t.store.messages, engine, projectId, log)).toBe(1);
      await engine.idle();
      expect(sink('Out').map((m) => m.header.messageId)).toEqual([copy.newId]);
    } finally {
      await engine?.stop();
      await t.cleanup();
    }
  });
});
