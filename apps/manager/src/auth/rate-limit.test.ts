import { describe, expect, it } from 'vitest';
import { LoginRateLimiter } from './rate-limit.js';

describe('LoginRateLimiter', () => {
  it('allows 5 failures per key in 15 minutes, then refuses until the oldest leaves the window', () => {
    let now = 1_000_000;
    const rl = new LoginRateLimiter({ now: () => now });
    const key = LoginRateLimiter.key('Alice', '10.0.0.1');
    for (let i = 0; i < 5; i++) {
      expect(rl.retryAfterMs(key)).toBe(0);
      rl.recordFailure(key);
      now += 60_000;
    }
    // Five failures at t0, t0+1m, …, t0+4m; now = t0+5m: blocked until t0+15m.
    expect(rl.retryAfterMs(key)).toBe(10 * 60_000);
    // Other keys are independent: another address, another user. Usernames are case-insensitive.
    expect(rl.retryAfterMs(LoginRateLimiter.key('alice', '10.0.0.2'))).toBe(0);
    expect(rl.retryAfterMs(LoginRateLimiter.key('bob', '10.0.0.1'))).toBe(0);
    expect(rl.retryAfterMs(LoginRateLimiter.key('ALICE', '10.0.0.1'))).toBeGreaterThan(0);
    now += 10 * 60_000;
    expect(rl.retryAfterMs(key)).toBe(0);
  });

  it('reset clears a key; memory is bounded', () => {
    const rl = new LoginRateLimiter({ maxFailures: 1, maxKeys: 2 });
    rl.recordFailure('a');
    expect(rl.retryAfterMs('a')).toBeGreaterThan(0);
    rl.reset('a');
    expect(rl.retryAfterMs('a')).toBe(0);
    rl.recordFailure('a');
    rl.recordFailure('b');
    rl.recordFailure('c');
    expect(rl.retryAfterMs('a')).toBe(0);
    expect(rl.retryAfterMs('c')).toBeGreaterThan(0);
  });
});
