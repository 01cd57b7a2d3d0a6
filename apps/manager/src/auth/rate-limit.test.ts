import { describe, expect, it } from 'vitest';
import { isRefused, LoginRateLimiter, type LoginAttempt, type LoginRefused } from './rate-limit.js';

function attempt(r: LoginAttempt | LoginRefused): LoginAttempt {
  if (isRefused(r)) throw new Error(`refused for ${r.retryAfterMs} ms`);
  return r;
}

describe('LoginRateLimiter', () => {
  it('allows 5 failures per username and address in 15 minutes, then refuses until the oldest leaves the window', () => {
    let now = 1_000_000;
    const rl = new LoginRateLimiter({ now: () => now });
    for (let i = 0; i < 5; i++) {
      attempt(rl.begin('Alice', '10.0.0.1'));
      now += 60_000;
    }
    // Five failures at t0, t0+1m, …, t0+4m; now = t0+5m: blocked until t0+15m.
    expect(rl.begin('Alice', '10.0.0.1')).toEqual({ retryAfterMs: 10 * 60_000 });
    // Usernames are case-insensitive; another address or another user is not affected.
    expect(isRefused(rl.begin('ALICE', '10.0.0.1'))).toBe(true);
    attempt(rl.begin('alice', '10.0.0.2')).succeeded();
    attempt(rl.begin('bob', '10.0.0.1')).succeeded();
    now += 10 * 60_000;
    attempt(rl.begin('alice', '10.0.0.1'));
  });

  it('reserves the slot before the password is checked: concurrent attempts cannot all pass', () => {
    const rl = new LoginRateLimiter();
    // Five attempts in flight, none settled yet: the sixth is refused even though none has failed.
    const inFlight = Array.from({ length: 5 }, () => attempt(rl.begin('carol', '10.0.0.1')));
    expect(isRefused(rl.begin('carol', '10.0.0.1'))).toBe(true);
    // One turns out right: it frees its slot and forgets carol's failures from this address.
    inFlight[0].succeeded();
    attempt(rl.begin('carol', '10.0.0.1'));
  });

  it('limits one address across usernames, without locking those users out elsewhere', () => {
    const rl = new LoginRateLimiter({ maxFailuresPerAddress: 3 });
    for (const u of ['a', 'b', 'c']) attempt(rl.begin(u, '10.0.0.9'));
    expect(isRefused(rl.begin('d', '10.0.0.9'))).toBe(true);
    attempt(rl.begin('a', '10.0.0.8'));
    attempt(rl.begin('d', '10.0.0.8'));
  });

  it('a success frees the address slot; cancel frees both; settling twice is a no-op', () => {
    const rl = new LoginRateLimiter({ maxFailures: 1, maxFailuresPerAddress: 1 });
    const a = attempt(rl.begin('a', 'x'));
    a.succeeded();
    a.cancel();
    const b = attempt(rl.begin('b', 'x'));
    b.cancel();
    b.cancel();
    attempt(rl.begin('b', 'x'));
    expect(isRefused(rl.begin('b', 'x'))).toBe(true);
  });

  it('memory is bounded', () => {
    const rl = new LoginRateLimiter({ maxFailures: 1, maxKeys: 2 });
    attempt(rl.begin('a', null));
    attempt(rl.begin('b', null));
    // The oldest keys were forgotten to stay within two.
    expect(isRefused(rl.begin('b', null))).toBe(true);
    expect(isRefused(rl.begin('a', null))).toBe(false);
  });
});
