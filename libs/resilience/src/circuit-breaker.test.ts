import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import { type ResilienceError, isResilienceError } from './errors';

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(new Error('downstream down'));

async function failTimes(b: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await b.execute(boom).catch(() => undefined);
}

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
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('CircuitBreaker', () => {
  it('has the documented defaults', () => {
    const b = new CircuitBreaker();
    expect([b.failureThreshold, b.resetTimeoutMs, b.halfOpenTrials]).toEqual([5, 30_000, 1]);
    expect(b.snapshot()).toEqual({ state: 'closed', failures: 0, openedAt: null, nextTrialAt: null, trialsInFlight: 0 });
  });

  it('opens after failureThreshold consecutive failures; a success resets the count', async () => {
    const b = new CircuitBreaker({ failureThreshold: 3 });
    await failTimes(b, 2);
    await b.execute(ok);
    await failTimes(b, 2);
    expect(b.state).toBe('closed');
    expect(b.snapshot().failures).toBe(2);
    await failTimes(b, 1);
    expect(b.state).toBe('open');
    expect(b.snapshot()).toMatchObject({ state: 'open', failures: 3, openedAt: 1_000_000, nextTrialAt: 1_030_000 });
  });

  it('refuses calls while open with a typed, serialisable error and does not call fn', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 10_000 });
    await failTimes(b, 1);
    vi.advanceTimersByTime(4_000);
    const fn = vi.fn(ok);
    const err = await rejection(b.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(isResilienceError(err, 'resilience.circuit_open')).toBe(true);
    expect(err.kind).toBe('operational');
    expect(err.details).toMatchObject({ state: 'open', retryAfterMs: 6_000 });
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ name: 'ResilienceError', code: 'resilience.circuit_open', kind: 'operational' });
    expect(b.canPass()).toBe(false);
  });

  it('moves to half_open on its own after resetTimeoutMs, then closes on a successful trial', async () => {
    const b = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 5_000 });
    const events: [CircuitState, CircuitState][] = [];
    b.onStateChange((to, from) => events.push([to, from]));
    await failTimes(b, 2);
    vi.advanceTimersByTime(4_999);
    expect(events).toEqual([['open', 'closed']]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual([
      ['open', 'closed'],
      ['half_open', 'open'],
    ]);
    expect(await b.execute(ok)).toBe('ok');
    expect(events.at(-1)).toEqual(['closed', 'half_open']);
    expect(b.snapshot()).toEqual({ state: 'closed', failures: 0, openedAt: null, nextTrialAt: null, trialsInFlight: 0 });
  });

  it('admits halfOpenTrials concurrent trials; all must succeed to close', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000, halfOpenTrials: 2 });
    await failTimes(b, 1);
    vi.advanceTimersByTime(1_000);
    expect(b.state).toBe('half_open');
    const releases: (() => void)[] = [];
    const slow = () => new Promise<string>((r) => releases.push(() => r('done')));
    const t1 = b.execute(slow);
    const t2 = b.execute(slow);
    const third = await rejection(b.execute(ok));
    expect(third.code).toBe('resilience.circuit_open');
    expect(third.details['state']).toBe('half_open');
    expect(b.snapshot().trialsInFlight).toBe(2);
    releases[0]();
    await t1;
    expect(b.state).toBe('half_open');
    expect(b.snapshot().trialsInFlight).toBe(1);
    releases[1]();
    await t2;
    expect(b.state).toBe('closed');
  });

  it('re-opens on any failed trial', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000, halfOpenTrials: 2 });
    await failTimes(b, 1);
    vi.advanceTimersByTime(1_000);
    await b.execute(ok);
    await failTimes(b, 1);
    expect(b.snapshot()).toMatchObject({ state: 'open', openedAt: 1_001_000, nextTrialAt: 1_002_000 });
  });

  it('ignores results of calls admitted before a state change', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000 });
    let release!: () => void;
    const slowSuccess = b.execute(() => new Promise<void>((r) => (release = r)));
    await failTimes(b, 1); // opens while slowSuccess is in flight
    vi.advanceTimersByTime(1_000);
    expect(b.state).toBe('half_open');
    release();
    await slowSuccess;
    expect(b.state).toBe('half_open'); // the stale success did not close it
  });

  it('counts only errors that isFailure says are failures', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, isFailure: (e) => !(e instanceof TypeError) });
    await expect(b.execute(() => Promise.reject(new TypeError('bad message')))).rejects.toThrow('bad message');
    expect(b.state).toBe('closed');
    await failTimes(b, 1);
    expect(b.state).toBe('open');
  });

  it('supports the manual canPass / recordSuccess / recordFailure protocol', () => {
    const b = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 100 });
    expect(b.canPass()).toBe(true);
    b.recordFailure();
    b.recordFailure();
    expect(b.canPass()).toBe(false);
    b.recordSuccess(); // late result while open: ignored
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(100);
    expect(b.canPass()).toBe(true); // reserves the single trial
    expect(b.canPass()).toBe(false);
    b.recordSuccess();
    expect(b.state).toBe('closed');
  });

  it('whenClosed resolves at once when closed, otherwise when a trial may pass', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 2_000 });
    await expect(b.whenClosed()).resolves.toBeUndefined();
    await failTimes(b, 1);
    let woke = false;
    const waiting = b.whenClosed().then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(b.state).toBe('half_open');
    // Trial slot taken: the next waiter waits for the outcome.
    expect(b.canPass()).toBe(true);
    const afterTrial = b.whenClosed();
    b.recordSuccess();
    await expect(afterTrial).resolves.toBeUndefined();
  });

  it('whenClosed is abortable', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1 });
    await failTimes(b, 1);
    const ac = new AbortController();
    const p = b.whenClosed(ac.signal);
    ac.abort('shutdown');
    const err = await rejection(p);
    expect(err.code).toBe('resilience.aborted');
    expect(err.cause).toBe('shutdown');
    expect((await rejection(b.whenClosed(AbortSignal.abort()))).code).toBe('resilience.aborted');
  });

  it('unsubscribes listeners, and a throwing listener neither breaks the breaker nor others', async () => {
    const reported: (() => void)[] = [];
    vi.stubGlobal('queueMicrotask', (cb: () => void) => reported.push(cb));
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 10 });
    const seen: CircuitState[] = [];
    b.onStateChange(() => {
      throw new Error('bad listener');
    });
    const off = b.onStateChange((to) => seen.push(to));
    await failTimes(b, 1);
    expect(b.state).toBe('open');
    expect(seen).toEqual(['open']);
    expect(reported).toHaveLength(1);
    expect(() => reported[0]()).toThrow('bad listener');
    off();
    vi.advanceTimersByTime(10);
    expect(b.state).toBe('half_open');
    expect(seen).toEqual(['open']);
  });

  it('stops its timer once it leaves open', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000 });
    await failTimes(b, 1);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows an injected clock that lags behind the timers', async () => {
    let t = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1_000, now: () => t });
    await failTimes(b, 1);
    vi.advanceTimersByTime(1_000); // timer fires, but the injected clock still says 0
    expect(b.state).toBe('open');
    t = 1_000;
    expect(b.state).toBe('half_open'); // read lazily from the clock
  });

  it.each([{ failureThreshold: 0 }, { halfOpenTrials: 1.5 }, { resetTimeoutMs: -1 }])('rejects invalid options %j', (opts) => {
    expect(() => new CircuitBreaker(opts)).toThrow(expect.objectContaining({ code: 'resilience.invalid_options', kind: 'user' }));
  });
});
