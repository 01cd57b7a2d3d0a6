/** Options of {@link LoginRateLimiter}. */
export interface RateLimitOptions {
  /** Failures allowed per key within the window. @defaultValue 5 */
  maxFailures?: number;
  /** @defaultValue 15 minutes */
  windowMs?: number;
  /** Clock (tests). @defaultValue Date.now */
  now?: () => number;
  /** Most keys remembered; the oldest are forgotten beyond it (bounded memory). @defaultValue 100000 */
  maxKeys?: number;
}

/**
 * Failed-login counter per key (username + source address): after `maxFailures` failures within
 * `windowMs`, further attempts are refused until the oldest failure leaves the window. In memory:
 * each manager process counts its own attempts.
 */
export class LoginRateLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(opts: RateLimitOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  static key(username: string, sourceAddress: string | null): string {
    return `${username.toLowerCase()}\u0000${sourceAddress ?? '?'}`;
  }

  /** Milliseconds until the key may try again, or 0 when it may try now. */
  retryAfterMs(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.maxFailures) return 0;
    return recent[recent.length - this.maxFailures] + this.windowMs - this.now();
  }

  recordFailure(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }
}
