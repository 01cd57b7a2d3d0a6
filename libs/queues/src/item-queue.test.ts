import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueueError, isQueueError } from './errors';
import { ItemQueue, type QueueType } from './item-queue';

/** Settles pending promise callbacks. */
const flush = () => new Promise<void>((r) => setTimeout(r, 0));

function takeAll<T>(q: ItemQueue<T>): T[] {
  const out: T[] = [];
  for (let v = q.tryTake(); v !== undefined; v = q.tryTake()) out.push(v);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<QueueError> {
  try {
    await p;
  } catch (e) {
    return e as QueueError;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('ItemQueue defaults and validation', () => {
  it('defaults to fifo, 10 000 entries, block', () => {
    const q = new ItemQueue<number>();
    expect(q.type).toBe('fifo');
    expect(q.capacity).toBe(10_000);
    expect(q.overflow).toBe('block');
    expect(q.depth).toBe(0);
    expect(q.closed).toBe(false);
    expect(q.hasRoom()).toBe(true);
  });

  it.each([
    [{ size: 0 }, 'size'],
    [{ size: 1.5 }, 'size'],
    [{ type: 'random' as QueueType }, 'type'],
    [{ overflow: 'drop_oldest' as const }, 'onDrop'],
  ])('rejects invalid options %j', (opts, field) => {
    try {
      new ItemQueue<number>(opts);
      expect.unreachable();
    } catch (e) {
      expect(isQueueError(e, 'queue.invalid_options')).toBe(true);
      expect((e as QueueError).kind).toBe('user');
      expect((e as QueueError).details['field']).toBe(field);
    }
  });

  it('validates priorities only on priority queues', async () => {
    const pq = new ItemQueue<string>({ type: 'priority' });
    for (const bad of [-1, 10, 2.5, Number.NaN]) {
      expect(() => pq.tryPut('x', bad)).toThrow(expect.objectContaining({ code: 'queue.invalid_priority', kind: 'user' }));
      expect((await rejection(pq.put('x', bad))).code).toBe('queue.invalid_priority');
    }
    expect(pq.depth).toBe(0);
    const fifo = new ItemQueue<string>();
    expect(fifo.tryPut('x', 42)).toBe(true);
  });
});

describe('ItemQueue ordering', () => {
  it('fifo: first in, first out', () => {
    const q = new ItemQueue<number>({ type: 'fifo' });
    for (let i = 0; i < 100; i++) q.tryPut(i);
    expect(takeAll(q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('lifo: last in, first out', () => {
    const q = new ItemQueue<number>({ type: 'lifo' });
    for (let i = 0; i < 100; i++) q.tryPut(i);
    expect(takeAll(q)).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
  });

  it('unordered: every entry comes out exactly once', () => {
    const q = new ItemQueue<number>({ type: 'unordered' });
    for (let i = 0; i < 100; i++) q.tryPut(i);
    expect(takeAll(q).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('priority: 9 first, 0 last, FIFO within a level, 5 by default', () => {
    const q = new ItemQueue<string>({ type: 'priority' });
    q.tryPut('p0-a', 0);
    q.tryPut('p9-a', 9);
    q.tryPut('default-a');
    q.tryPut('p3-a', 3);
    q.tryPut('p9-b', 9);
    q.tryPut('p6-a', 6);
    q.tryPut('p0-b', 0);
    q.tryPut('default-b', 5);
    q.tryPut('p4-a', 4);
    expect(takeAll(q)).toEqual(['p9-a', 'p9-b', 'p6-a', 'default-a', 'default-b', 'p4-a', 'p3-a', 'p0-a', 'p0-b']);
  });

  it('priority: a higher entry arriving later still jumps ahead', async () => {
    const q = new ItemQueue<string>({ type: 'priority' });
    await q.put('low', 1);
    await q.put('mid', 5);
    expect(await q.take()).toBe('mid');
    await q.put('high', 8);
    expect(await q.take()).toBe('high');
    expect(await q.take()).toBe('low');
  });

  it('drain returns entries in take order for every type', () => {
    const expected: Record<QueueType, number[]> = {
      fifo: [0, 1, 2, 3, 4],
      unordered: [0, 1, 2, 3, 4],
      lifo: [4, 3, 2, 1, 0],
      priority: [1, 3, 0, 2, 4], // priorities 0,9,0,9,0
    };
    for (const type of ['fifo', 'lifo', 'priority', 'unordered'] as const) {
      const q = new ItemQueue<number>({ type });
      for (let i = 0; i < 5; i++) q.tryPut(i, i % 2 ? 9 : 0);
      const drained = q.drain();
      if (type === 'unordered') expect([...drained].sort()).toEqual(expected.unordered);
      else expect(drained).toEqual(expected[type]);
      expect(q.depth).toBe(0);
      expect(q.metrics().drained).toBe(5);
    }
  });
});

describe('ItemQueue take/put handshake', () => {
  it('hands a put straight to the longest-waiting taker', async () => {
    const q = new ItemQueue<string>();
    const first = q.take();
    const second = q.take();
    expect(q.metrics().waitingConsumers).toBe(2);
    await q.put('a');
    await q.put('b');
    expect(await first).toBe('a');
    expect(await second).toBe('b');
    expect(q.depth).toBe(0);
    expect(q.metrics()).toMatchObject({ enqueued: 2, dequeued: 2, waitingConsumers: 0 });
  });
});

describe('ItemQueue overflow: block', () => {
  it('blocks producers in a burst and admits them in arrival order', async () => {
    const q = new ItemQueue<number>({ size: 2, overflow: 'block' });
    const resolved: number[] = [];
    const puts = Array.from({ length: 6 }, (_, i) => q.put(i).then(() => resolved.push(i)));
    await flush();
    expect(resolved).toEqual([0, 1]);
    expect(q.depth).toBe(2);
    expect(q.hasRoom()).toBe(false);
    expect(q.tryPut(99)).toBe(false); // would block: tryPut never waits, never overtakes
    expect(q.metrics().blockedProducers).toBe(4);

    const taken: number[] = [];
    taken.push(await q.take());
    await flush();
    expect(resolved).toEqual([0, 1, 2]);
    expect(q.depth).toBe(2);
    while (taken.length < 6) taken.push(await q.take());
    await Promise.all(puts);
    expect(resolved).toEqual([0, 1, 2, 3, 4, 5]);
    expect(taken).toEqual([0, 1, 2, 3, 4, 5]);
    expect(q.metrics()).toMatchObject({ enqueued: 6, dequeued: 6, rejected: 0, dropped: 0, blockedProducers: 0 });
  });

  it('tryPut returns false while producers are blocked even if a take frees room', async () => {
    const q = new ItemQueue<string>({ size: 1 });
    await q.put('a');
    const blocked = q.put('b');
    expect(q.tryTake()).toBe('a'); // frees room, but 'b' is admitted first
    expect(q.tryPut('c')).toBe(false);
    await blocked;
    expect(q.tryTake()).toBe('b');
  });

  it('onSpace resolves only when there is room for a new producer', async () => {
    const q = new ItemQueue<string>({ size: 1 });
    await expect(q.onSpace()).resolves.toBeUndefined();
    await q.put('a');
    const blocked = q.put('b');
    let spaced = false;
    const space = q.onSpace().then(() => (spaced = true));
    q.tryTake(); // 'b' takes the freed slot
    await blocked;
    await flush();
    expect(spaced).toBe(false);
    q.tryTake();
    await space;
    expect(spaced).toBe(true);
    expect(q.hasRoom()).toBe(true);
  });

  it('an aborted blocked put does not enqueue its entry', async () => {
    const q = new ItemQueue<string>({ size: 1 });
    await q.put('a');
    const ac = new AbortController();
    const blocked = q.put('b', undefined, ac.signal);
    const after = q.put('c');
    ac.abort(new Error('shutdown'));
    const err = await rejection(blocked);
    expect(err.code).toBe('queue.aborted');
    expect((err.cause as Error).message).toBe('shutdown');
    expect(q.metrics().blockedProducers).toBe(1);
    expect(q.tryTake()).toBe('a');
    await after;
    expect(takeAll(q)).toEqual(['c']);
  });

  it('drain hands over blocked producers too and resolves their puts', async () => {
    const q = new ItemQueue<number>({ type: 'priority', size: 2 });
    await q.put(1, 1);
    await q.put(2, 2);
    const p3 = q.put(3, 9);
    const p4 = q.put(4, 0);
    expect(q.drain()).toEqual([3, 2, 1, 4]);
    await Promise.all([p3, p4]);
    expect(q.metrics()).toMatchObject({ depth: 0, enqueued: 4, drained: 4, blockedProducers: 0 });
  });
});

describe('ItemQueue overflow: drop_oldest', () => {
  it.each(['fifo', 'lifo', 'unordered'] as const)('%s: hands every evicted entry to onDrop under a burst', (type) => {
    const dropped: number[] = [];
    const q = new ItemQueue<number>({ type, size: 10, overflow: 'drop_oldest', onDrop: (item, reason) => {
      expect(reason).toBe('overflow');
      dropped.push(item);
    } });
    for (let i = 0; i < 1000; i++) expect(q.tryPut(i)).toBe(true);
    const taken = takeAll(q);
    expect(dropped).toEqual(Array.from({ length: 990 }, (_, i) => i)); // the oldest, in order
    expect([...taken].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 990 + i));
    expect(taken.length + dropped.length).toBe(1000);
    expect(q.metrics()).toMatchObject({ enqueued: 1000, dequeued: 10, dropped: 990, rejected: 0 });
  });

  it('priority: evicts the oldest of the lowest level; drops a newcomer that ranks below everything', async () => {
    const dropped: string[] = [];
    const q = new ItemQueue<string>({ type: 'priority', size: 3, overflow: 'drop_oldest', onDrop: (item) => dropped.push(item) });
    await q.put('a5', 5);
    await q.put('b2', 2);
    await q.put('c2', 2);
    await q.put('d7', 7); // evicts b2 (oldest of lowest level 2)
    await q.put('e0', 0); // everything queued outranks it: e0 itself is dropped
    await q.put('f2', 2); // evicts c2 (level 2 is still the lowest)
    expect(dropped).toEqual(['b2', 'e0', 'c2']);
    expect(takeAll(q)).toEqual(['d7', 'a5', 'f2']);
    const m = q.metrics();
    expect(m.enqueued).toBe(m.dequeued + m.dropped + m.depth);
    expect(m).toMatchObject({ enqueued: 6, dropped: 3, dequeued: 3 });
  });

  it('keeps the queue consistent when onDrop throws, and surfaces the error asynchronously', () => {
    const reported: (() => void)[] = [];
    vi.stubGlobal('queueMicrotask', (cb: () => void) => reported.push(cb));
    const q = new ItemQueue<number>({ size: 1, overflow: 'drop_oldest', onDrop: () => {
      throw new Error('bug in onDrop');
    } });
    q.tryPut(1);
    expect(q.tryPut(2)).toBe(true);
    expect(q.tryTake()).toBe(2);
    expect(reported).toHaveLength(1);
    expect(() => reported[0]()).toThrow('bug in onDrop');
  });
});

describe('ItemQueue overflow: reject_new', () => {
  it('rejects a burst with typed errors and counts them', async () => {
    const q = new ItemQueue<number>({ size: 3, overflow: 'reject_new' });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => q.put(i)));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(7);
    for (const r of rejected) {
      expect(isQueueError(r.reason, 'queue.full')).toBe(true);
      expect(r.reason).toBeInstanceOf(QueueError);
      expect((r.reason as QueueError).toJSON()).toEqual({
        name: 'QueueError',
        code: 'queue.full',
        kind: 'operational',
        message: 'queue is full (3 entries)',
        details: { capacity: 3, depth: 3 },
      });
    }
    expect(q.tryPut(10)).toBe(false);
    expect(takeAll(q)).toEqual([0, 1, 2]);
    expect(q.metrics()).toMatchObject({ enqueued: 3, dequeued: 3, rejected: 8, dropped: 0 });
  });

  it('onSpace waits for a take on a full reject_new queue', async () => {
    const q = new ItemQueue<number>({ size: 1, overflow: 'reject_new' });
    q.tryPut(1);
    const space = q.onSpace();
    q.tryTake();
    await expect(space).resolves.toBeUndefined();
  });
});

describe('ItemQueue close', () => {
  it('wakes takers, blocked producers and onSpace waiters with queue.closed', async () => {
    const empty = new ItemQueue<number>();
    const takers = [empty.take(), empty.take()];
    empty.close();
    for (const t of takers) expect((await rejection(t)).code).toBe('queue.closed');

    const full = new ItemQueue<number>({ size: 1 });
    await full.put(1);
    const blocked = full.put(2);
    const space = full.onSpace();
    full.close();
    full.close(); // idempotent
    expect((await rejection(blocked)).code).toBe('queue.closed');
    expect((await rejection(space)).code).toBe('queue.closed');
    expect(full.closed).toBe(true);
    expect(full.hasRoom()).toBe(false);
  });

  it('keeps queued entries takeable, then rejects take; put and tryPut fail', async () => {
    const q = new ItemQueue<string>();
    await q.put('a');
    await q.put('b');
    q.close();
    expect(await q.take()).toBe('a');
    expect(q.tryTake()).toBe('b');
    expect(q.tryTake()).toBeUndefined();
    const takeErr = await rejection(q.take());
    expect(takeErr.toJSON()).toMatchObject({ code: 'queue.closed', kind: 'operational' });
    expect((await rejection(q.put('c'))).code).toBe('queue.closed');
    expect(() => q.tryPut('c')).toThrow(expect.objectContaining({ code: 'queue.closed' }));
    expect((await rejection(q.onSpace())).code).toBe('queue.closed');
  });
});

describe('ItemQueue abort', () => {
  it('rejects an aborted take with queue.aborted and takes nothing', async () => {
    const q = new ItemQueue<string>();
    const ac = new AbortController();
    const aborted = q.take(ac.signal);
    const next = q.take();
    ac.abort('stop');
    const err = await rejection(aborted);
    expect(err.code).toBe('queue.aborted');
    expect(err.cause).toBe('stop');
    await q.put('x');
    expect(await next).toBe('x');
    expect(q.metrics().waitingConsumers).toBe(0);
  });

  it('rejects at once on an already aborted signal, unless an entry is available', async () => {
    const q = new ItemQueue<string>();
    const signal = AbortSignal.abort();
    expect((await rejection(q.take(signal))).code).toBe('queue.aborted');
    await q.put('ready');
    expect(await q.take(signal)).toBe('ready');
  });

  it('removes its abort listener once served', async () => {
    const q = new ItemQueue<string>();
    const ac = new AbortController();
    const remove = vi.spyOn(ac.signal, 'removeEventListener');
    const t = q.take(ac.signal);
    await q.put('x');
    expect(await t).toBe('x');
    expect(remove).toHaveBeenCalledTimes(1);
    ac.abort(); // no effect now
    expect(q.depth).toBe(0);
  });
});

describe('ItemQueue metrics', () => {
  it('counts and measures wait times with the injected clock', () => {
    let t = 0;
    const q = new ItemQueue<number>({ size: 100, now: () => t });
    for (let i = 0; i < 100; i++) q.tryPut(i);
    // All put at t = 0; entry i is taken at t = 10 + 2i, so it waited 10 + 2i ms.
    for (let i = 0; i < 100; i++) {
      t = 10 + 2 * i;
      q.tryTake();
    }
    const m = q.metrics();
    expect(m).toMatchObject({ type: 'fifo', capacity: 100, depth: 0, enqueued: 100, dequeued: 100, dropped: 0, rejected: 0, drained: 0 });
    expect(m.waitMsP50).toBe(10 + 2 * 49);
    expect(m.waitMsP99).toBe(10 + 2 * 98);
  });

  it('reports throughput over the recent window', () => {
    let t = 0;
    const q = new ItemQueue<number>({ now: () => t });
    for (let sec = 0; sec < 5; sec++) {
      for (let i = 0; i < 200; i++) {
        t = sec * 1000 + i;
        q.tryPut(i);
        q.tryTake();
      }
    }
    t = 5000;
    expect(q.metrics().throughputPerSec).toBeCloseTo(200, 0);
    t = 60_000;
    expect(q.metrics().throughputPerSec).toBe(0);
  });

  it('defaults the clock to performance.now', () => {
    const spy = vi.spyOn(performance, 'now');
    const q = new ItemQueue<number>();
    q.tryPut(1);
    q.tryTake();
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
  });
});
