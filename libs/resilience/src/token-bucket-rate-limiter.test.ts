import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ResilienceError } from './errors';
import { TokenBucketRateLimiter } from './token-bucket-rate-limiter';

async function rejection(p: Promise<unknown>): Promise<ResilienceError> {
  try {
    await p;
  } catch (e) {
    return e as ResilienceError;
  }
  throw new Error('expected a rejection');
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

describe('TokenBucketRateLimiter', () => {
  it('starts full: burst is available at once, then nothing', () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 10, burst: 3 });
    expect([l.tryAcquire(), l.tryAcquire(), l.tryAcquire(), l.tryAcquire()]).toEqual([true, true, true, false]);
  });

  it('defaults burst to the rate (at least 1)', () => {
    expect(new TokenBucketRateLimiter({ ratePerSecond: 20 }).burst).toBe(20);
    expect(new TokenBucketRateLimiter({ ratePerSecond: 0.5 }).burst).toBe(1);
  });

  it('refills at ratePerSecond, capped at burst', () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 10, burst: 5 });
    for (let i = 0; i < 5; i++) l.tryAcquire();
    vi.advanceTimersByTime(250);
    expect(l.available).toBeCloseTo(2.5);
    vi.advanceTimersByTime(10_000);
    expect(l.available).toBe(5);
  });

  it('sustains the rate under a burst of waiters', async () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 10, burst: 1 });
    let granted = 0;
    const settled = Array.from({ length: 50 }, () => l.acquire().then(() => granted++, () => undefined));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(granted).toBe(11);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(granted).toBe(31);
    expect(l.pending).toBe(19);
    l.close();
    await Promise.all(settled);
  });

  it('serves waiters in order: neither a later acquire nor tryAcquire overtakes', async () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 1, burst: 5 });
    for (let i = 0; i < 5; i++) l.tryAcquire();
    const order: string[] = [];
    const big = l.acquire(4).then(() => order.push('big'));
    const small = l.acquire(1).then(() => order.push('small'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(l.tryAcquire()).toBe(false); // 1 token is there, but 'big' is waiting
    await vi.advanceTimersByTimeAsync(3_000);
    await big;
    expect(order).toEqual(['big']);
    await vi.advanceTimersByTimeAsync(1_000);
    await small;
    expect(order).toEqual(['big', 'small']);
  });

  it('uses a single timer for the head waiter, not one per waiter nor polling', () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 1, burst: 1 });
    l.tryAcquire();
    for (let i = 0; i < 20; i++) l.acquire().catch(() => undefined);
    expect(vi.getTimerCount()).toBe(1);
    l.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an aborted waiter leaves the line and the next one moves up', async () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) l.tryAcquire();
    vi.advanceTimersByTime(1_000); // 1 token in the bucket
    const ac = new AbortController();
    const head = l.acquire(3, ac.signal);
    let nextGranted = false;
    const next = l.acquire(1).then(() => (nextGranted = true));
    expect(l.pending).toBe(2);
    ac.abort('gone');
    const err = await rejection(head);
    expect(err.code).toBe('resilience.aborted');
    expect(err.cause).toBe('gone');
    await next;
    expect(nextGranted).toBe(true);
    expect(l.pending).toBe(0);
    expect((await rejection(l.acquire(1, AbortSignal.abort()))).code).toBe('resilience.aborted');
  });

  it('close rejects waiters and refuses further acquires', async () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 1, burst: 1 });
    l.tryAcquire();
    const waiters = [l.acquire(), l.acquire()];
    l.close();
    l.close();
    for (const w of waiters) {
      const err = await rejection(w);
      expect(err.toJSON()).toMatchObject({ code: 'resilience.rate_limit_closed', kind: 'operational' });
    }
    expect((await rejection(l.acquire())).code).toBe('resilience.rate_limit_closed');
    vi.advanceTimersByTime(5_000);
    expect(l.tryAcquire()).toBe(false);
    expect(l.closed).toBe(true);
    expect(l.pending).toBe(0);
  });

  it('rejects token counts that can never be served', async () => {
    const l = new TokenBucketRateLimiter({ ratePerSecond: 10, burst: 2 });
    for (const bad of [0, -1, 3, Number.NaN]) {
      expect(() => l.tryAcquire(bad)).toThrow(expect.objectContaining({ code: 'resilience.invalid_argument', kind: 'user' }));
      expect((await rejection(l.acquire(bad))).code).toBe('resilience.invalid_argument');
    }
  });

  it.each([{ ratePerSecond: 0 }, { ratePerSecond: Number.POSITIVE_INFINITY }, { ratePerSecond: 1, burst: 0 }])(
    'rejects invalid options %j',
    (opts) => {
      expect(() => new TokenBucketRateLimiter(opts)).toThrow(expect.objectContaining({ code: 'resilience.invalid_options' }));
    },
  );
});
