/**
 * Engine nodes on the Redis Streams bus (real Redis at REDIS_URL, keys under `test-<uuid>:`):
 * the node makes one bus per project, the engine configures each item on it, a dead letter is
 * recorded as failed, and a removed item stops taking the cluster's work before it drains.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '@hie/bus';
import { InProcessCoordinator } from '@hie/cluster';
import { MessageEnvelope } from '@hie/envelope';
import { EngineNode } from '../node';
import { testPolicy, until } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';
import { redisStreamsBusFor } from './cluster-bus';
import { MemoryTracker, type MessageEvent } from './tracker';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const log = pino({ level: 'silent' });
let admin: Redis;
let prefix: string;
let coordinator: InProcessCoordinator;
let node: EngineNode | undefined;

/** Records every event the engine reports, beside the in-memory bookkeeping. */
class RecordingTracker extends MemoryTracker {
  readonly events: { item: string; event: MessageEvent; messageId: string; detail?: Record<string, unknown> }[] = [];
  flushes = 0;
  override event(envelope: MessageEnvelope, item: string, event: MessageEvent, detail?: Record<string, unknown>): void {
    this.events.push({ item, event, messageId: envelope.header.messageId, detail });
    super.event(envelope, item, event, detail);
  }
  override async flush(): Promise<void> {
    this.flushes++;
  }
}
let tracker: RecordingTracker;

function startNode(opts: { claimIdleMs?: number; maxDeliveries?: number } = {}): EngineNode {
  tracker = new RecordingTracker();
  node = new EngineNode({
    coordinator,
    log,
    nodeId: 'n1',
    plugins: testItemTypes,
    policy: testPolicy(),
    reportEveryMs: 200,
    trackerFor: () => tracker,
    busFor: redisStreamsBusFor({ redis: REDIS_URL, clusterPrefix: prefix, blockMs: 100, ...opts }),
  });
  node.start();
  return node;
}

async function deploy(version: number, items: object[], connections: [string, string][]): Promise<void> {
  await coordinator.setDesired({
    projectId: 'p1',
    workspaceId: 'w',
    production: 'feed',
    version,
    state: 'running',
    spec: { name: 'feed', items, connections: connections.map(([from, to]) => ({ from, to })) },
    updatedAt: Date.now(),
  });
}

const adt = (patient: string, seq: number) =>
  MessageEnvelope.createHl7(`MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A08|${patient}-${seq}|P|2.5\rPID|1||${patient}^^^MRN||DOE^JOHN\r`, {
    source: 'In',
    customProperties: { seq },
  });

async function group(key: string): Promise<{ pending: number; lag: number }> {
  const groups = (await admin.call('XINFO', 'GROUPS', key)) as unknown[][];
  const info = new Map<string, unknown>();
  for (let i = 0; i < groups[0].length; i += 2) info.set(String(groups[0][i]), groups[0][i + 1]);
  return { pending: Number(info.get('pending')), lag: Number(info.get('lag')) };
}

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  await node?.stop();
  node = undefined;
  await coordinator.close();
  sinks.clear();
  manualServices.clear();
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length) await admin.del(...keys);
});

afterAll(async () => {
  await admin.quit();
});

describe('EngineNode on the Redis Streams bus', () => {
  it('runs a production through partitioned streams: each patient in order, every entry acknowledged after the tracker flushed', async () => {
    prefix = `test-${randomUUID()}`;
    coordinator = new InProcessCoordinator();
    startNode();
    await deploy(1, [{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect', execution: { workers: 4 } }], [['In', 'Out']]);
    await until(() => manualServices.has('In'));
    const patients = ['A1', 'B2', 'C3', 'D4'];
    for (let seq = 0; seq < 10; seq++) for (const p of patients) await manualServices.get('In')!.submit(adt(p, seq));
    await until(() => sink('Out').length === 40);
    for (const p of patients) {
      const seqs = sink('Out')
        .filter((e) => e.header.controlId?.startsWith(`${p}-`))
        .map((e) => e.header.customProperties['seq']);
      expect(seqs, p).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    // Out is a fifo item: its messages went through the partitions of their patients
    const keys = (await admin.keys(`${prefix}:bus:p1:Out:*`)).sort();
    const expected = [...new Set(patients.map((p) => `${prefix}:bus:p1:Out:${hashKey(p) % 16}`))].sort();
    expect(keys).toEqual(expect.arrayContaining(expected));
    for (const key of expected) await until(async () => (await group(key)).pending === 0);
    expect(tracker.flushes).toBeGreaterThan(0);
  });

  it("partitions a fifo item by its queue.partitionKey, not PID-3.1, when the production sets one", async () => {
    prefix = `test-${randomUUID()}`;
    coordinator = new InProcessCoordinator();
    startNode();
    // Every message has the same sending facility (MSH-4 = FAC): keyed by it, all share one partition.
    await deploy(1, [{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect', queue: { partitionKey: 'MSH-4' } }], [['In', 'Out']]);
    await until(() => manualServices.has('In'));
    const patients = ['A1', 'B2', 'C3', 'D4'];
    // By PID-3.1 these patients would spread over several partitions.
    expect(new Set(patients.map((p) => hashKey(p) % 16)).size).toBeGreaterThan(1);
    for (const p of patients) await manualServices.get('In')!.submit(adt(p, 0));
    await until(() => sink('Out').length === patients.length);
    // Which partitions' streams ever took an entry (acknowledged entries may be trimmed: count what was added).
    const used: string[] = [];
    for (const key of await admin.keys(`${prefix}:bus:p1:Out:*`)) {
      const info = (await admin.call('XINFO', 'STREAM', key)) as unknown[];
      if (Number(info[info.indexOf('entries-added') + 1]) > 0) used.push(key);
    }
    expect(used).toEqual([`${prefix}:bus:p1:Out:${hashKey('FAC') % 16}`]);
  });

  it('records an entry given up after maxDeliveries as failed (bus.dead_letter) at its item', async () => {
    prefix = `test-${randomUUID()}`;
    coordinator = new InProcessCoordinator();
    startNode({ claimIdleMs: 200, maxDeliveries: 2 });
    await deploy(1, [{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect', queue: { type: 'unordered' } }], [['In', 'Out']]);
    await until(() => manualServices.has('In'));
    const key = `${prefix}:bus:p1:Out:0`;
    await until(async () => (await admin.exists(key)) === 1); // the node created its group
    // An entry another consumer took twice and then died holding.
    const env = adt('Z9', 1);
    // Added and read by "ghost" in one transaction, so the node's blocked read cannot take it first.
    const res = await admin.multi().xadd(key, '*', 'e', Buffer.from(env.toBytes())).call('XREADGROUP', 'GROUP', 'hie', 'ghost', 'COUNT', 1, 'STREAMS', key, '>').exec();
    const id = String(res![0][1]); // delivery 1
    await admin.call('XCLAIM', key, 'hie', 'ghost', 0, id); // delivery 2
    await until(() => tracker.events.some((e) => e.event === 'failed' && e.messageId === env.header.messageId));
    const failed = tracker.events.find((e) => e.event === 'failed' && e.messageId === env.header.messageId)!;
    expect(failed.item).toBe('Out');
    expect(failed.detail).toMatchObject({ code: 'bus.dead_letter', deliveries: 2 });
    expect(sink('Out')).toHaveLength(0);
    expect(await admin.xlen(`${prefix}:bus:p1:Out:dead`)).toBe(1);
  });

  it('a removed item stops taking the stream before it drains: what it did not take stays for the cluster', async () => {
    prefix = `test-${randomUUID()}`;
    coordinator = new InProcessCoordinator();
    startNode();
    const items = [
      { name: 'In', type: 'test.manual_in' },
      { name: 'Out', type: 'test.collect', settings: { delayMs: 100 }, queue: { type: 'unordered', size: 2 } },
    ];
    await deploy(1, items, [['In', 'Out']]);
    await until(() => manualServices.has('In'));
    // The cluster's backlog for Out (sent by other nodes): more than this node's queue takes at once.
    const key = `${prefix}:bus:p1:Out:0`;
    for (let i = 0; i < 20; i++) await admin.xadd(key, '*', 'e', Buffer.from(adt(`P${i}`, i).toBytes()));
    await until(() => sink('Out').length >= 1);
    await deploy(2, [items[0]], []);
    await until(() => (node!.engine('p1')?.status().items.length ?? 0) === 1, 10_000);
    const left = await group(key);
    // At most the queue (2) plus the one in hand were taken; the rest waits in the stream, unread.
    expect(sink('Out').length).toBeLessThan(20);
    expect(left.lag).toBe(20 - sink('Out').length);
    expect(left.pending).toBe(0); // what it took, it finished and acknowledged
  });
});
