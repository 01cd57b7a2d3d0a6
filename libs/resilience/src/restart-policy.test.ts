import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, createRestartPolicy } from './restart-policy';

const noJitter = () => 0.5; // 2 × 0.5 − 1 = 0: the jitter term vanishes

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

describe('createRestartPolicy', () => {
  it("'never' never restarts", () => {
    const p = createRestartPolicy({ policy: 'never' });
    expect(p.decide('failure')).toEqual({ restart: false, reason: 'policy_never' });
    expect(p.decide('exit')).toEqual({ restart: false, reason: 'policy_never' });
    expect(p.restarts).toBe(0);
  });

  it("'on_failure' restarts after a failure only", () => {
    const p = createRestartPolicy({ policy: 'on_failure', random: noJitter });
    expect(p.decide('exit')).toEqual({ restart: false, reason: 'clean_exit' });
    expect(p.decide('failure')).toEqual({ restart: true, attempt: 1, delayMs: 1000 });
  });

  it("'always' restarts after a failure and after an exit", () => {
    const p = createRestartPolicy({ policy: 'always', random: noJitter });
    expect(p.decide('exit')).toMatchObject({ restart: true, attempt: 1 });
    expect(p.decide('failure')).toMatchObject({ restart: true, attempt: 2 });
    expect(p.restarts).toBe(2);
  });

  it('backs off exponentially up to maxDelayMs', () => {
    const p = createRestartPolicy({ policy: 'always', maxRestarts: 10, random: noJitter });
    const delays = Array.from({ length: 8 }, () => {
      const d = p.decide('failure');
      return d.restart ? d.delayMs : -1;
    });
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('gives up after maxRestarts within windowMs, and forgets restarts older than the window', () => {
    const p = createRestartPolicy({ policy: 'on_failure', maxRestarts: 3, windowMs: 10_000, random: noJitter });
    for (let i = 1; i <= 3; i++) {
      expect(p.decide('failure')).toMatchObject({ restart: true, attempt: i });
      vi.advanceTimersByTime(1_000);
    }
    expect(p.decide('failure')).toEqual({ restart: false, reason: 'max_restarts' });
    // The first restart (t = 0) leaves the window at t = 10 000.
    vi.setSystemTime(10_000);
    expect(p.decide('failure')).toEqual({ restart: true, attempt: 3, delayMs: 4000 });
    vi.setSystemTime(100_000);
    expect(p.decide('failure')).toEqual({ restart: true, attempt: 1, delayMs: 1000 });
    expect(p.restarts).toBe(5);
  });

  it('reset forgets everything', () => {
    const p = createRestartPolicy({ policy: 'always', maxRestarts: 1, random: noJitter });
    p.decide('failure');
    expect(p.decide('failure')).toMatchObject({ restart: false });
    p.reset();
    expect(p.restarts).toBe(0);
    expect(p.decide('failure')).toEqual({ restart: true, attempt: 1, delayMs: 1000 });
  });

  it('maxRestarts 0 gives up at once', () => {
    const p = createRestartPolicy({ policy: 'always', maxRestarts: 0 });
    expect(p.decide('failure')).toEqual({ restart: false, reason: 'max_restarts' });
  });

  it('uses the injected clock', () => {
    let t = 0;
    const p = createRestartPolicy({ policy: 'always', maxRestarts: 1, windowMs: 100, now: () => t, random: noJitter });
    p.decide('failure');
    expect(p.decide('failure').restart).toBe(false);
    t = 100;
    expect(p.decide('failure').restart).toBe(true);
  });

  it.each([
    { policy: 'sometimes' as 'always' },
    { policy: 'always' as const, maxRestarts: -1 },
    { policy: 'always' as const, windowMs: 0 },
    { policy: 'always' as const, jitter: 1.5 },
    { policy: 'always' as const, backoffFactor: 0.5 },
    { policy: 'always' as const, delayMs: -5 },
  ])('rejects invalid options %j', (opts) => {
    expect(() => createRestartPolicy(opts)).toThrow(expect.objectContaining({ code: 'resilience.invalid_options', kind: 'user' }));
  });
});

describe('backoffDelay', () => {
  it('applies ±jitter around the capped delay', () => {
    const opts = { delayMs: 1000, backoffFactor: 3, maxDelayMs: 5000, jitter: 0.2 };
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(800);
    expect(backoffDelay(1, { ...opts, random: () => 0.999999 })).toBe(1200);
    expect(backoffDelay(2, { ...opts, random: () => 0.25 })).toBe(2700);
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(4000); // capped at 5000, −20 %
    expect(backoffDelay(3, { ...opts, random: () => 0.75 })).toBe(5500); // +10 % of the cap
  });

  it('stays finite for huge attempts and zero base delays', () => {
    expect(backoffDelay(5000, { jitter: 0 })).toBe(30_000);
    expect(backoffDelay(5000, { delayMs: 0, jitter: 0 })).toBe(0);
    expect(backoffDelay(1, { jitter: 0 })).toBe(1000);
  });

  it('stays within bounds for any random value', () => {
    for (let attempt = 1; attempt < 12; attempt++) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.9999]) {
        const d = backoffDelay(attempt, { random: () => r });
        const base = Math.min(30_000, 1000 * 2 ** (attempt - 1));
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2));
      }
    }
  });

  it('rejects attempts below 1', () => {
    expect(() => backoffDelay(0)).toThrow(expect.objectContaining({ code: 'resilience.invalid_argument' }));
    expect(() => backoffDelay(1.5)).toThrow(expect.objectContaining({ code: 'resilience.invalid_argument' }));
  });
});
