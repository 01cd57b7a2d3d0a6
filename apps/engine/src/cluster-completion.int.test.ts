/**
 * Completion across cluster nodes (real etcd, Redis, PostgreSQL and sockets): a message whose
 * branches run on two engine nodes is `completed` exactly once, after every branch on every node
 * finished, failed when one branch failed, and no node keeps it open afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCoordinator, startEtcd, type TestEtcd } from '@hie/cluster';
import { parseMessage } from '@hie/hl7';
import { openTestStore, type TestStore } from '@hie/store';
import { redisStreamsBusFor } from './runtime/cluster-bus';
import { singletonTypes, startStoreNode, type StoreNode } from './store-node';
import { freePort, testPolicy, until, waitForPort } from './testing/helpers';
import { connectMllp } from './testing/mllp-client';
import { MllpDownstream } from './testing/mllp-downstream';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const log = pino({ level: 'silent' });
let etcd: TestEtcd;
let db: TestStore;
let admin: Redis;

beforeAll(async () => {
  etcd = await startEtcd();
  db = await openTestStore('postgres', { prefix: 'hie_test_c11done' });
  admin = new Redis(REDIS_URL);
}, 60_000);
afterAll(async () => {
  await admin?.quit();
  await db?.cleanup();
  await etcd?.stop();
});

const msg = (id: string) => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A08|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;

/** One client connection: sends each message and waits for its ACK; returns the ids ACKed AA. */
async function send(port: number, ids: string[]): Promise<string[]> {
  const client = await connectMllp(port);
  const acked: string[] = [];
  for (const id of ids) {
    const ack = await client.send(msg(id));
    if (ack && parseMessage(ack).get('MSA-1') === 'AA') acked.push(id);
  }
  client.close();
  return acked;
}

/** A sink that records when each control id reached it. */
function timedSink(port: number, answer: (controlId: string) => 'AA' | 'AR' = () => 'AA'): { sink: MllpDownstream; at: Map<string, number> } {
  const at = new Map<string, number>();
  const sink = new MllpDownstream(port, (m) => {
    const id = m.get('MSH-10') ?? '';
    at.set(id, Date.now());
    return answer(id);
  });
  return { sink, at };
}

describe('message completion across engine nodes', () => {
  it('MLLP in → router → two MLLP outs on two nodes: completed once, after both sinks; a failed branch ends the message failed; no node keeps it open', async () => {
    const prefix = `test-${randomUUID()}`;
    const [listen, portA, portB] = [await freePort(), await freePort(), await freePort()];
    const a = timedSink(portA);
    // Sink B rejects the messages whose control id ends in F: that branch fails.
    const b = timedSink(portB, (id) => (id.endsWith('F') ? 'AR' : 'AA'));
    await a.sink.up();
    await b.sink.up();
    const nodes: { node: StoreNode; coordinator: EtcdCoordinator }[] = [];
    for (const nodeId of ['n1', 'n2']) {
      const coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix, node: { nodeId, isSingleton: singletonTypes(), ttlSec: 2 } });
      await coordinator.start();
      const busFor = redisStreamsBusFor({ redis: REDIS_URL, clusterPrefix: prefix, blockMs: 100 });
      nodes.push({ coordinator, node: startStoreNode({ coordinator, store: db.store, log, nodeId, policy: testPolicy(), busFor }) });
    }
    const control = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix });
    await control.start();
    const projectId = 'p1';
    try {
      await control.setDesired({
        projectId,
        workspaceId: 'w',
        production: 'fanout',
        version: 1,
        state: 'running',
        spec: {
          name: 'fanout',
          items: [
            { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: listen, ackMode: 'after_store' } },
            { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' } },
            { name: 'OutA', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: portA } },
            { name: 'OutB', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: portB, replyCodes: { AR: 'fail' } }, messaging: { retries: 0 } },
          ],
          connections: [
            { from: 'In', to: 'Route' },
            { from: 'Route', to: 'OutA' },
            { from: 'Route', to: 'OutB' },
          ],
        },
        updatedAt: Date.now(),
      });
      await waitForPort(listen, 20_000);
      // Both nodes run the scalable items (each reads the streams of Route, OutA and OutB).
      await until(() => nodes.every((n) => n.node.trackers.some((t) => t.projectId === projectId)), 20_000);
      const ids = Array.from({ length: 40 }, (_, i) => `M${i}${i % 5 === 4 ? 'F' : ''}`);
      const acked = await send(listen, ids);
      expect(acked).toEqual(ids);
      await until(() => ids.every((id) => a.at.has(id) && b.at.has(id)), 20_000);

      // Every message ends, on whichever node finished its last branch.
      const messages = db.store.messages;
      const idOf = new Map<string, string>();
      await until(async () => {
        const found = await messages.search(projectId, { limit: 100 });
        for (const m of found.items) if (m.controlId) idOf.set(m.controlId, m.id);
        if (idOf.size < ids.length) return false;
        const traces = await Promise.all(ids.map((id) => messages.trace(projectId, idOf.get(id)!)));
        return traces.every((t) => t.some((e) => e.event === 'completed'));
      }, 20_000);
      for (const n of nodes) for (const t of n.node.trackers) await t.tracker.flush();
      await new Promise((r) => setTimeout(r, 500)); // a second, late `completed` would show now

      for (const id of ids) {
        const trace = await messages.trace(projectId, idOf.get(id)!);
        const completed = trace.filter((e) => e.event === 'completed');
        expect(completed, `${id}: completed once`).toHaveLength(1);
        // After both sinks got it (and both outs recorded their outcome).
        const doneAt = new Date(completed[0]!.at).getTime();
        expect(doneAt, `${id}: completed after both sinks`).toBeGreaterThanOrEqual(Math.max(a.at.get(id)!, b.at.get(id)!));
        // The hand-off to the stream is recorded as such (a takeover does not replay it).
        expect(trace.some((e) => e.item === 'Route' && e.detail?.['stream'] === true && e.detail['from'] === 'In'), `${id}: stream hand-off recorded`).toBe(true);
        for (const out of ['OutA', 'OutB']) expect(trace.some((e) => e.item === out && (e.event === 'delivered' || e.event === 'failed')), `${id} at ${out}`).toBe(true);
        const detail = await messages.get(projectId, idOf.get(id)!);
        if (id.endsWith('F')) {
          expect(detail?.status, `${id} failed at OutB`).toBe('failed');
          expect(completed[0]!.item).toBe('OutB');
        } else expect(detail?.status, id).not.toBe('failed');
      }
      // No node keeps a message open (the sender's hand-offs left its count), no counter left in Redis.
      for (const n of nodes) for (const t of n.node.trackers) expect(t.tracker.openMessages).toBe(0);
      expect(await admin.keys(`${prefix}:bus:${projectId}:open:*`)).toEqual([]);
      // The branches did cross nodes (otherwise the test proves nothing): both nodes delivered to a sink.
      const perNode = nodes.map((n) => (n.node.node.engine(projectId)?.status().items ?? []).filter((i) => i.name.startsWith('Out')).reduce((sum, i) => sum + i.processed, 0));
      console.log(`[c11-done] OutA+OutB outcomes per node: ${JSON.stringify(perNode)}`);
      expect(perNode.every((n) => n > 0)).toBe(true);
    } finally {
      for (const n of nodes) {
        await n.node.stop();
        await n.coordinator.close();
      }
      await control.close();
      await a.sink.down();
      await b.sink.down();
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length) await admin.del(...keys);
    }
  }, 90_000);
});
