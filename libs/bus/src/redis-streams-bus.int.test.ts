import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageEnvelope } from '@hie/envelope';
import type { BusReceiver, ReplyFn } from './bus';
import { hashKey, traceparentOf } from './partition';
import { RedisStreamsBus, type RedisStreamsBusOptions, type StreamBranches } from './redis-streams-bus';
import { startRedis, type TestRedis } from './testing/redis-server';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

let admin: Redis;
const prefixes: string[] = [];
const buses: RedisStreamsBus[] = [];

function newPrefix(): string {
  const p = `test-${randomUUID()}:bus`;
  prefixes.push(p);
  return p;
}

function makeBus(opts: Partial<RedisStreamsBusOptions> & { prefix: string }, url = REDIS_URL): RedisStreamsBus {
  const bus = new RedisStreamsBus({ redis: url, nodeId: 'n1', blockMs: 100, ...opts });
  buses.push(bus);
  return bus;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function hl7(patient: string, seq: number): MessageEnvelope {
  const raw = `MSH|^~\\&|LAB|HOSP|HIE|HOSP|20260101120000||ADT^A01|C${patient}-${seq}|P|2.5.1\rPID|1||${patient}^^^HOSP^MR||DOE^JOHN\r`;
  return MessageEnvelope.createHl7(raw, { source: 'test', customProperties: { seq } });
}

/** A receiver that records what it gets and keeps each reply for the test to call. */
function holdingReceiver() {
  const got: { envelope: MessageEnvelope; reply?: ReplyFn }[] = [];
  const receiver: BusReceiver = {
    accept: async (envelope, reply) => {
      got.push({ envelope, reply });
    },
  };
  return { got, receiver };
}

/** A receiver that finishes every entry at once. */
function finishingReceiver() {
  const got: MessageEnvelope[] = [];
  const receiver: BusReceiver = {
    accept: async (envelope, reply) => {
      got.push(envelope);
      reply?.({});
    },
  };
  return { got, receiver };
}

async function pendingCount(key: string): Promise<number> {
  const summary = (await admin.call('XPENDING', key, 'hie')) as [number, ...unknown[]];
  return Number(summary[0]);
}

beforeAll(() => {
  admin = new Redis(REDIS_URL);
});

afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  for (const p of prefixes) {
    const keys = await admin.keys(`${p}:*`);
    if (keys.length) await admin.del(...keys);
  }
  await admin.quit();
});

describe('RedisStreamsBus', () => {
  it('hands an envelope over byte for byte and acknowledges it only once the receiver replied', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    const { got, receiver } = holdingReceiver();
    bus.configureItem('router', { ordered: false });
    bus.register('router', receiver);
    const env = hl7('P1', 1);
    await bus.deliver('router', env);
    await until(() => got.length === 1);
    expect(got[0].envelope.toBytes()).toEqual(env.toBytes());
    expect(got[0].envelope).not.toBe(env);
    const key = bus.streamKey('router', 0);
    // queued on the node, not finished: still pending in the group
    await new Promise((r) => setTimeout(r, 100));
    expect(await pendingCount(key)).toBe(1);
    got[0].reply!({});
    await until(async () => (await pendingCount(key)) === 0);
  });

  it('awaits beforeAck (the store commit) before acknowledging', async () => {
    const prefix = newPrefix();
    let release!: () => void;
    const committed = new Promise<void>((r) => (release = r));
    let commits = 0;
    const bus = makeBus({
      prefix,
      beforeAck: async () => {
        commits++;
        await committed;
      },
    });
    const { got, receiver } = finishingReceiver();
    bus.register('out', receiver);
    await bus.deliver('out', hl7('P1', 1));
    await until(() => got.length === 1 && commits === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await pendingCount(bus.streamKey('out', 0))).toBe(1);
    release();
    await until(async () => (await pendingCount(bus.streamKey('out', 0))) === 0);
  });

  it('carries a W3C traceparent beside the envelope when it has one', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    bus.configureItem('out', { ordered: false });
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const env = MessageEnvelope.create({ raw: 'x', source: 't', customProperties: { traceparent: tp } });
    await bus.deliver('out', env);
    await bus.deliver('out', MessageEnvelope.create({ raw: 'y', source: 't' }));
    const entries = (await admin.xrange(bus.streamKey('out', 0), '-', '+')) as [string, string[]][];
    expect(entries).toHaveLength(2);
    expect(entries[0][1]).toContain('tp');
    expect(entries[0][1][entries[0][1].indexOf('tp') + 1]).toBe(tp);
    expect(entries[1][1]).not.toContain('tp');
  });

  it('hands the stream entry’s traceparent to the consuming node’s receiver (the trace continues there)', async () => {
    const prefix = newPrefix();
    const a = makeBus({ prefix, nodeId: 'a' });
    const b = makeBus({ prefix, nodeId: 'b' });
    for (const bus of [a, b]) bus.configureItem('out', { ordered: false });
    const r = finishingReceiver();
    b.register('out', r.receiver);
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await a.deliver('out', MessageEnvelope.create({ raw: 'x', source: 't', customProperties: { traceparent: tp } }));
    // An entry added by another producer: the `tp` field alone names the context.
    const bare = MessageEnvelope.create({ raw: 'y', source: 't' });
    const tp2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await admin.xadd(a.streamKey('out', 0), '*', 'e', Buffer.from(bare.toBytes()), 'tp', tp2);
    await until(() => r.got.length === 2);
    expect(r.got.map((e) => traceparentOf(e)).sort()).toEqual([tp2, tp].sort());
  });

  it('partitions an ordered item by PID-3.1: each node reads only its partitions, each patient in order', async () => {
    const prefix = newPrefix();
    const partitions = 4;
    const a = makeBus({ prefix, nodeId: 'a', partitions });
    const b = makeBus({ prefix, nodeId: 'b', partitions });
    const ra = finishingReceiver();
    const rb = finishingReceiver();
    for (const bus of [a, b]) bus.configureItem('fifo', { ordered: true });
    a.setOwnedPartitions('fifo', [0, 1]);
    b.setOwnedPartitions('fifo', [2, 3]);
    a.register('fifo', ra.receiver);
    b.register('fifo', rb.receiver);
    const patients = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8'];
    const perPatient = 25;
    for (let seq = 0; seq < perPatient; seq++) {
      for (const p of patients) await (seq % 2 ? a : b).deliver('fifo', hl7(p, seq));
    }
    await until(() => ra.got.length + rb.got.length === patients.length * perPatient);
    const patientOf = (e: MessageEnvelope) => e.text().match(/PID\|1\|\|([^^]+)/)![1];
    for (const [node, got, mine] of [
      ['a', ra.got, [0, 1]],
      ['b', rb.got, [2, 3]],
    ] as const) {
      for (const e of got) expect(mine, node).toContain(hashKey(patientOf(e)) % partitions);
      for (const p of patients) {
        const seqs = got.filter((e) => patientOf(e) === p).map((e) => e.header.customProperties['seq']);
        expect(seqs).toEqual([...seqs].sort((x, y) => Number(x) - Number(y)));
      }
    }
    // both nodes had work: the 8 patients do not all hash to one half
    expect(ra.got.length).toBeGreaterThan(0);
    expect(rb.got.length).toBeGreaterThan(0);
  });

  it('claims entries left pending by a dead consumer after claimIdleMs (XAUTOCLAIM)', async () => {
    const prefix = newPrefix();
    const dead = makeBus({ prefix, nodeId: 'dead', claimIdleMs: 300 });
    const held = holdingReceiver();
    dead.register('proc', held.receiver);
    for (let i = 0; i < 3; i++) await dead.deliver('proc', hl7('P1', i));
    await until(() => held.got.length === 3);
    await dead.close(); // dies holding three unacknowledged entries
    const live = makeBus({ prefix, nodeId: 'live', claimIdleMs: 300 });
    const done = finishingReceiver();
    live.register('proc', done.receiver);
    await until(() => done.got.length === 3);
    expect(done.got.map((e) => e.header.customProperties['seq'])).toEqual([0, 1, 2]);
    await until(async () => (await pendingCount(live.streamKey('proc', 0))) === 0);
  });

  it('does not let a live consumer lose a long-running entry to another node', async () => {
    const prefix = newPrefix();
    const slow = makeBus({ prefix, nodeId: 'slow', claimIdleMs: 300 });
    const held = holdingReceiver();
    slow.register('proc', held.receiver);
    await slow.deliver('proc', hl7('P1', 1));
    await until(() => held.got.length === 1);
    const other = makeBus({ prefix, nodeId: 'other', claimIdleMs: 300 });
    const done = finishingReceiver();
    other.register('proc', done.receiver);
    await new Promise((r) => setTimeout(r, 1200)); // four claim periods
    expect(done.got).toHaveLength(0);
    held.got[0].reply!({});
    await until(async () => (await pendingCount(slow.streamKey('proc', 0))) === 0);
  });

  it('takes back its own leftovers at once when a node restarts under the same id', async () => {
    const prefix = newPrefix();
    const first = makeBus({ prefix, nodeId: 'n1', claimIdleMs: 60_000 });
    const held = holdingReceiver();
    first.register('proc', held.receiver);
    await first.deliver('proc', hl7('P1', 1));
    await until(() => held.got.length === 1);
    await first.close();
    const again = makeBus({ prefix, nodeId: 'n1', claimIdleMs: 60_000 });
    const done = finishingReceiver();
    again.register('proc', done.receiver);
    await until(() => done.got.length === 1, 5000);
  });

  it('a new owner of an ordered partition takes over a dead owner\'s pending entries first, in order', async () => {
    const prefix = newPrefix();
    const old = makeBus({ prefix, nodeId: 'old', partitions: 2, claimIdleMs: 300 });
    old.configureItem('fifo', { ordered: true });
    const held = holdingReceiver();
    old.register('fifo', held.receiver);
    for (let i = 0; i < 3; i++) await old.deliver('fifo', hl7('P1', i));
    await until(() => held.got.length === 3);
    await old.close(); // dies holding them
    const next = makeBus({ prefix, nodeId: 'new', partitions: 2, claimIdleMs: 300 });
    next.configureItem('fifo', { ordered: true });
    for (let i = 3; i < 6; i++) await next.deliver('fifo', hl7('P1', i));
    const done = finishingReceiver();
    next.register('fifo', done.receiver);
    await until(() => done.got.length === 6, 5000);
    expect(done.got.map((e) => e.header.customProperties['seq'])).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a handover from a live owner: the new owner starts once the old one finished what it had read', async () => {
    const prefix = newPrefix();
    const old = makeBus({ prefix, nodeId: 'old', partitions: 1, claimIdleMs: 600 });
    old.configureItem('fifo', { ordered: true });
    const held = holdingReceiver();
    old.register('fifo', held.receiver);
    for (let i = 0; i < 3; i++) await old.deliver('fifo', hl7('P1', i));
    await until(() => held.got.length === 3);
    old.setOwnedPartitions('fifo', []); // the leader moved the partition
    const next = makeBus({ prefix, nodeId: 'new', partitions: 1, claimIdleMs: 600 });
    next.configureItem('fifo', { ordered: true });
    next.setOwnedPartitions('fifo', [0]);
    const done = finishingReceiver();
    next.register('fifo', done.receiver);
    for (let i = 3; i < 6; i++) await next.deliver('fifo', hl7('P1', i));
    await new Promise((r) => setTimeout(r, 1500)); // over twice claimIdleMs: the old owner is alive
    expect(done.got).toHaveLength(0);
    // The old owner finishes what it read (a read already blocking when it gave the partition up
    // may bring one more); only then does the new owner go on, so the order holds across both.
    let replied = 0;
    await until(() => {
      while (replied < held.got.length) held.got[replied++].reply!({});
      return held.got.length + done.got.length === 6;
    }, 5000);
    const seqs = [...held.got.map((h) => h.envelope), ...done.got].map((e) => e.header.customProperties['seq']);
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5]);
    expect(done.got.length).toBeGreaterThan(0);
  });

  it('moves an entry to the dead-letter stream after maxDeliveries and tells onDeadLetter', async () => {
    const prefix = newPrefix();
    const dead: { item: string; id: string; deliveries: number }[] = [];
    let accepts = 0;
    const bus = makeBus({
      prefix,
      claimIdleMs: 100,
      maxDeliveries: 3,
      onDeadLetter: (item, envelope, deliveries) => dead.push({ item, id: envelope.header.messageId, deliveries }),
    });
    bus.register('out', {
      accept: async () => {
        accepts++;
        throw new Error('queue refuses');
      },
    });
    const env = hl7('P1', 1);
    await bus.deliver('out', env);
    await until(() => dead.length === 1);
    expect(dead[0]).toEqual({ item: 'out', id: env.header.messageId, deliveries: 3 });
    expect(accepts).toBe(3);
    const letters = (await admin.xrangeBuffer(bus.deadLetterKey('out'), '-', '+')) as [Buffer, Buffer[]][];
    expect(letters).toHaveLength(1);
    const fields = letters[0][1].map((f) => f);
    const e = fields[fields.findIndex((f) => f.toString() === 'e') + 1];
    expect(MessageEnvelope.fromBytes(new Uint8Array(e)).header.messageId).toBe(env.header.messageId);
    expect(await pendingCount(bus.streamKey('out', 0))).toBe(0);
  });

  it('dead-letters an entry that is not an envelope instead of stalling the stream', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    const done = finishingReceiver();
    bus.configureItem('out', { ordered: false });
    await admin.xadd(bus.streamKey('out', 0), '*', 'e', 'garbage');
    await bus.deliver('out', hl7('P1', 1));
    bus.register('out', done.receiver);
    await until(() => done.got.length === 1);
    await until(async () => (await admin.xlen(bus.deadLetterKey('out'))) === 1);
    const [[, fields]] = (await admin.xrange(bus.deadLetterKey('out'), '-', '+')) as [string, string[]][];
    expect(fields[fields.indexOf('error') + 1]).toMatch(/not an envelope/);
  });

  it('trims acknowledged entries only, never one still pending', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix, window: 1000 });
    const held = holdingReceiver();
    bus.register('out', held.receiver);
    const n = 600;
    for (let i = 0; i < n; i++) await bus.deliver('out', hl7('P1', i));
    await until(() => held.got.length === n);
    const key = bus.streamKey('out', 0);
    // acknowledge the first 500 and keep the last 100 (plus one early straggler) pending
    for (let i = 0; i < 500; i++) if (i !== 250) held.got[i].reply!({});
    await until(async () => (await pendingCount(key)) === 101);
    await bus.trim(key);
    const ids = ((await admin.xrange(key, '-', '+')) as [string, string[]][]).map(([id]) => id);
    const pending = ((await admin.call('XPENDING', key, 'hie', '-', '+', 1000)) as [string][]).map(([id]) => id);
    expect(pending).toHaveLength(101);
    for (const id of pending) expect(ids).toContain(id); // nothing unacknowledged trimmed
    expect(ids.length).toBeLessThan(n - 200); // approximate: whole nodes before the straggler
    held.got[250].reply!({});
    for (let i = 500; i < n; i++) held.got[i].reply!({});
    await until(async () => (await pendingCount(key)) === 0);
    await bus.trim(key);
    expect(await admin.xlen(key)).toBeLessThan(n - 400);
  });

  it('block overflow: a sender waits while the stream holds maxQueue entries', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    bus.configureItem('out', { ordered: false, maxQueue: 5, overflow: 'block' });
    for (let i = 0; i < 5; i++) await bus.deliver('out', hl7('P1', i));
    let sixth = false;
    const p = bus.deliver('out', hl7('P1', 5)).then(() => (sixth = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(sixth).toBe(false);
    expect(await admin.xlen(bus.streamKey('out', 0))).toBe(5);
    const done = finishingReceiver();
    bus.register('out', done.receiver);
    await p;
    await until(() => done.got.length === 6);
  });

  it('reject overflow: a sender is refused with bus.full while the stream holds maxQueue entries', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    bus.configureItem('out', { ordered: false, maxQueue: 3, overflow: 'reject' });
    for (let i = 0; i < 3; i++) await bus.deliver('out', hl7('P1', i));
    await expect(bus.deliver('out', hl7('P1', 3))).rejects.toMatchObject({ code: 'bus.full' });
  });

  it('refuses a hand-off to an item no node configured or registered', async () => {
    const bus = makeBus({ prefix: newPrefix() });
    await expect(bus.deliver('nowhere', hl7('P1', 1))).rejects.toMatchObject({ code: 'bus.no_receiver' });
  });

  it('sync hand-off to an item on another node: the response comes back on the reply stream', async () => {
    const prefix = newPrefix();
    const caller = makeBus({ prefix, nodeId: 'caller' });
    const target = makeBus({ prefix, nodeId: 'target' });
    caller.configureItem('echo', { ordered: false });
    target.configureItem('echo', { ordered: false });
    target.register('echo', {
      accept: async (envelope, reply) => {
        const seq = envelope.header.customProperties['seq'];
        if (seq === 2) reply?.({ error: Object.assign(new Error('downstream down'), { code: 'engine.timeout', kind: 'operational' }) });
        else reply?.({ response: envelope.withBody(`ACK ${String(seq)}`) });
      },
    });
    let queued = 0;
    const response = await caller.deliver('echo', hl7('P1', 1), { expectResponse: true, timeoutMs: 5000, onQueued: () => queued++ });
    expect(response?.text()).toBe('ACK 1');
    expect(queued).toBe(1);
    await expect(caller.deliver('echo', hl7('P1', 2), { expectResponse: true, timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'engine.timeout',
      kind: 'operational',
      message: 'downstream down',
    });
    await until(async () => (await pendingCount(caller.streamKey('echo', 0))) === 0);
  });

  it('sync hand-off times out with bus.timeout when no node answers', async () => {
    const prefix = newPrefix();
    const caller = makeBus({ prefix, nodeId: 'caller' });
    caller.configureItem('echo', { ordered: false });
    await expect(caller.deliver('echo', hl7('P1', 1), { expectResponse: true, timeoutMs: 200 })).rejects.toMatchObject({ code: 'bus.timeout' });
  });

  it('sync hand-off to an item on this node stays in-process (the very object, no stream entry)', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    const seen: MessageEnvelope[] = [];
    bus.register('echo', {
      accept: async (envelope, reply) => {
        seen.push(envelope);
        reply?.({ response: envelope });
      },
    });
    const env = hl7('P1', 1);
    expect(await bus.deliver('echo', env, { expectResponse: true })).toBe(env);
    expect(seen).toEqual([env]);
    expect(seen[0]).toBe(env); // not a copy decoded from a stream entry
  });

  it('leaves an entry pending when the item stopped before processing it (queue.closed)', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix, claimIdleMs: 60_000 });
    const held = holdingReceiver();
    bus.register('out', held.receiver);
    await bus.deliver('out', hl7('P1', 1));
    await until(() => held.got.length === 1);
    held.got[0].reply!({ error: Object.assign(new Error('closed'), { code: 'queue.closed' }) });
    await new Promise((r) => setTimeout(r, 200));
    expect(await pendingCount(bus.streamKey('out', 0))).toBe(1);
  });

  it('stopReading: takes nothing more, still acknowledges what it took; another node gets the rest', async () => {
    const prefix = newPrefix();
    const a = makeBus({ prefix, nodeId: 'a' });
    const held = holdingReceiver();
    a.register('out', held.receiver);
    for (let i = 0; i < 2; i++) await a.deliver('out', hl7('P1', i));
    await until(() => held.got.length === 2);
    a.stopReading('out');
    for (let i = 2; i < 5; i++) await a.deliver('out', hl7('P1', i));
    await new Promise((r) => setTimeout(r, 300));
    expect(held.got).toHaveLength(2);
    for (const h of held.got) h.reply!({});
    const key = a.streamKey('out', 0);
    await until(async () => (await pendingCount(key)) === 0);
    const b = makeBus({ prefix, nodeId: 'b' });
    const done = finishingReceiver();
    b.register('out', done.receiver);
    await until(() => done.got.length === 3);
    expect(done.got.map((e) => e.header.customProperties['seq'])).toEqual([2, 3, 4]);
  });

  it('holds no more entries than the item\'s maxQueue (its own queue never has to refuse one)', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix });
    const other = makeBus({ prefix, nodeId: 'other' });
    other.configureItem('out', { ordered: false }); // a sender on another node, unbounded
    bus.configureItem('out', { ordered: false, maxQueue: 3 });
    for (let i = 0; i < 10; i++) await other.deliver('out', hl7('P1', i));
    const held = holdingReceiver();
    bus.register('out', held.receiver);
    await until(() => held.got.length === 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(held.got).toHaveLength(3);
    held.got[0].reply!({});
    await until(() => held.got.length === 4);
  });

  it('rejects bad options with bus.invalid', () => {
    expect(() => makeBus({ prefix: newPrefix(), partitions: 0 })).toThrow(expect.objectContaining({ code: 'bus.invalid' }));
    const bus = makeBus({ prefix: newPrefix(), partitions: 4 });
    expect(() => bus.setOwnedPartitions('x', [4])).toThrow(expect.objectContaining({ code: 'bus.invalid' }));
    expect(() => bus.configureItem('x', { ordered: false, maxQueue: 0 })).toThrow(expect.objectContaining({ code: 'bus.invalid' }));
  });
});

describe('RedisStreamsBus across a Redis restart', () => {
  let server: TestRedis;

  beforeAll(async () => {
    server = await startRedis();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('reconnects after `redis-cli shutdown` and a fresh start: nothing acknowledged is lost', async () => {
    const prefix = newPrefix();
    const producer = makeBus({ prefix, nodeId: 'p' }, server.url);
    const consumer = makeBus({ prefix, nodeId: 'c', claimIdleMs: 1000 }, server.url);
    producer.configureItem('out', { ordered: false });
    const seen = new Set<string>();
    let hold = true;
    const held: ReplyFn[] = [];
    consumer.register('out', {
      accept: async (envelope, reply) => {
        seen.add(envelope.header.messageId);
        if (hold) held.push(reply!);
        else reply?.({});
      },
    });
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      const env = hl7(`P${i % 5}`, i);
      await producer.deliver('out', env);
      sent.push(env.header.messageId);
    }
    await until(() => seen.size === 50);
    for (const r of held.splice(0, 20)) r({}); // 20 finished, 30 still in flight
    await until(async () => {
      const probe = new Redis(server.url);
      const n = Number(((await probe.call('XPENDING', producer.streamKey('out', 0), 'hie')) as [number])[0]);
      await probe.quit();
      return n === 30;
    });
    hold = false;
    await server.shutdown();
    // while Redis is down a hand-off fails loudly (the sender NACKs), it is never "accepted"
    await expect(producer.deliver('out', hl7('X', 0))).rejects.toBeDefined();
    await server.start();
    // the in-flight ones finish after the restart; their acks reach the restarted server
    for (const r of held.splice(0)) r({});
    for (let i = 50; i < 80; i++) {
      const env = hl7(`P${i % 5}`, i);
      await until(async () => {
        try {
          await producer.deliver('out', env);
          return true;
        } catch {
          return false;
        }
      });
      sent.push(env.header.messageId);
    }
    await until(() => sent.every((id) => seen.has(id)), 20_000);
    const probe = new Redis(server.url);
    try {
      await until(async () => Number(((await probe.call('XPENDING', producer.streamKey('out', 0), 'hie')) as [number])[0]) === 0, 20_000);
    } finally {
      await probe.quit();
    }
  });
});

describe('RedisStreamsBus branch counting', () => {
  /** Hooks that record what the bus tells them; `credits` is what each hand-off adds. */
  function recordingBranches(credits: number) {
    const calls: string[] = [];
    const branches: StreamBranches = {
      sending: (e) => (calls.push(`sending ${e.header.controlId}`), credits),
      sent: (e, n, ok) => void calls.push(`sent ${e.header.controlId} ${n} ${ok}`),
      arrived: (e) => void calls.push(`arrived ${e.header.controlId}`),
      finished: (e, item) => void calls.push(`finished ${e.header.controlId} ${item}`),
      returned: (e) => void calls.push(`returned ${e.header.controlId}`),
    };
    return { calls, branches };
  }

  it('adds the credits with the XADD (expiring key), and tells when an entry arrives and finishes', async () => {
    const prefix = newPrefix();
    const { calls, branches } = recordingBranches(2);
    const bus = makeBus({ prefix, branches, branchTtlMs: 60_000 });
    bus.configureItem('Out', { ordered: false });
    const env = hl7('P1', 1);
    await bus.deliver('Out', env);
    const key = bus.branchKey(env.header.sessionId ?? env.header.messageId);
    expect(await admin.hget(key, 'n')).toBe('2');
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const { got, receiver } = holdingReceiver();
    bus.register('Out', receiver);
    await until(() => got.length === 1);
    expect(calls).toEqual(['sending CP1-1', 'sent CP1-1 2 true', 'arrived CP1-1']);
    got[0]!.reply!({});
    expect(calls.at(-1)).toBe('finished CP1-1 Out');
    await until(async () => (await pendingCount(bus.streamKey('Out', 0))) === 0);
  });

  it('releaseBranches: counts down, keeps the first failed item, deletes the key at 0; a missing key is reported', async () => {
    const prefix = newPrefix();
    const bus = makeBus({ prefix, branches: recordingBranches(3).branches });
    bus.configureItem('Out', { ordered: false });
    const env = hl7('P2', 1);
    await bus.deliver('Out', env);
    const root = env.header.sessionId ?? env.header.messageId;
    expect(await bus.releaseBranches(root, 1, 'OutB')).toEqual({ complete: false });
    expect(await bus.releaseBranches(root, 1, 'OutC')).toEqual({ complete: false });
    expect(await bus.releaseBranches(root, 1)).toEqual({ complete: true, failedAt: 'OutB' });
    expect(await admin.exists(bus.branchKey(root))).toBe(0);
    expect(await bus.releaseBranches(root, 1)).toEqual({ complete: false, missing: true });
  });
});
