import { describe, expect, it } from 'vitest';
import { ItemQueue } from './item-queue';
import { WAIT_BUCKETS_MS, WaitHistogram } from './wait-histogram';

describe('queue wait histogram', () => {
  it('counts every wait cumulatively into fixed buckets, with sum and count', () => {
    let t = 0;
    const q = new ItemQueue<string>({ now: () => t });
    q.tryPut('a');
    q.tryPut('b');
    q.tryPut('c');
    t = 30;
    q.tryTake(); // waited 30 ms
    t = 2000;
    q.tryTake(); // 2000 ms
    t = 400_000;
    q.tryTake(); // beyond the last bucket: only in +Inf
    const h = q.metrics().waitHistogram;
    expect(h.bucketsMs).toEqual(WAIT_BUCKETS_MS);
    const le = (ms: number) => h.counts[WAIT_BUCKETS_MS.indexOf(ms)];
    expect([le(25), le(50), le(1000), le(2500), le(300_000)]).toEqual([0, 1, 1, 2, 2]);
    expect(h.count).toBe(3);
    expect(h.sumMs).toBe(30 + 2000 + 400_000);
  });

  it('counts a hand-off straight to a waiting consumer as a zero wait', async () => {
    const q = new ItemQueue<string>();
    const taken = q.take();
    q.tryPut('x');
    await taken;
    expect(q.metrics().waitHistogram.counts[0]).toBe(1);
  });

  it('keeps counting across queues that share one histogram (a queue rebuilt by a reload)', () => {
    let t = 0;
    const shared = new WaitHistogram();
    const first = new ItemQueue<string>({ now: () => t, waitHistogram: shared });
    first.tryPut('a');
    t = 7;
    first.tryTake();
    const second = new ItemQueue<string>({ now: () => t, waitHistogram: shared });
    second.tryPut('b');
    t = 9;
    second.tryTake();
    expect(second.metrics().waitHistogram).toMatchObject({ count: 2, sumMs: 9 });
    expect(new ItemQueue<string>().metrics().waitHistogram.count).toBe(0);
  });
});
