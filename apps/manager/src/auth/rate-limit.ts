/** Options of {@link LoginRateLimiter}. */
export interface RateLimitOptions {
  /** Failed attempts allowed per username from one address within the window. @defaultValue 5 */
  maxFailures?: number;
  /**
   * Failed attempts allowed per address within the window, whatever the usernames: stops one
   * address from guessing across many accounts. @defaultValue 50
   */
  maxFailuresPerAddress?: number;
  /** @defaultValue 15 minutes */
  windowMs?: number;
  /** Clock (tests). @defaultValue Date.now */
  now?: () => number;
  /** Most keys remembered; the oldest are forgotten beyond it (bounded memory). @defaultValue 100000 */
  maxKeys?: number;
}

/**
 * One reserved sign-in attempt (see {@link LoginRateLimiter.begin}). Until it is settled it
 * counts as a failure, so attempts running concurrently cannot all slip under the limit.
 */
export interface LoginAttempt {
  /** The password was right: frees the address's slot and forgets this username's failures there. */
  succeeded(): void;
  /** Not the caller's doing (the store failed): frees both slots. */
  cancel(): void;
}

/** What {@link LoginRateLimiter.begin} answers when the caller must wait. */
export interface LoginRefused {
  retryAfterMs: number;
}

/**
 * Failed-sign-in counters, in memory (each manager process counts its own attempts). Two limits,
 * each over a sliding window:
 * - per username *and* address (`maxFailures`): guessing one account's password from one place;
 * - per address (`maxFailuresPerAddress`): guessing across many accounts from one place.
 *
 * There is deliberately no limit per username alone: it would let one address lock an account
 * out for everyone, its owner included. A slot is reserved before the password is checked
 * ({@link begin}); a failure simply keeps it.
 */
export class LoginRateLimiter {
  private readonly attempts = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly maxFailuresPerAddress: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(opts: RateLimitOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.maxFailuresPerAddress = opts.maxFailuresPerAddress ?? 50;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  /**
   * Reserves a slot for one attempt by `username` from `sourceAddress`, or says how long to wait.
   * Synchronous: two concurrent requests can never both take the last slot.
   */
  begin(username: string, sourceAddress: string | null): LoginAttempt | LoginRefused {
    const address = sourceAddress ?? '?';
    const pairKey = `${username.toLowerCase()}\u0000${address}`;
    const addressKey = `\u0001${address}`;
    const wait = Math.max(this.waitMs(pairKey, this.maxFailures), this.waitMs(addressKey, this.maxFailuresPerAddress));
    if (wait > 0) return { retryAfterMs: wait };
    const at = this.now();
    this.push(pairKey, at);
    this.push(addressKey, at);
    let settled = false;
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.attempts.delete(pairKey);
        this.drop(addressKey, at);
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        this.drop(pairKey, at);
        this.drop(addressKey, at);
      },
    };
  }

  /** Milliseconds until `key` is below `max` again, or 0. */
  private waitMs(key: string, max: number): number {
    const recent = this.recent(key);
    if (recent.length < max) return 0;
    return Math.max(1, recent[recent.length - max] + this.windowMs - this.now());
  }

  private push(key: string, at: number): void {
    const recent = this.recent(key);
    recent.push(at);
    // Re-insert so the map's order is least recently used first.
    this.attempts.delete(key);
    this.attempts.set(key, recent);
    if (this.attempts.size > this.maxKeys) {
      const oldest = this.attempts.keys().next().value;
      if (oldest !== undefined) this.attempts.delete(oldest);
    }
  }

  private drop(key: string, at: number): void {
    const list = this.attempts.get(key);
    const i = list ? list.indexOf(at) : -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.attempts.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.attempts.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.attempts.delete(key);
    else this.attempts.set(key, list);
    return list;
  }
}

/** True when {@link LoginRateLimiter.begin} refused. */
export function isRefused(r: LoginAttempt | LoginRefused): r is LoginRefused {
  return 'retryAfterMs' in r;
}
