import { ResilienceError, abortedError, invalidOptions } from './errors';
import { WaiterList, type WaiterNode } from './waiter-list';

/** Options of {@link TokenBucketRateLimiter}. */
export interface TokenBucketRateLimiterOptions {
  /** Tokens added per second (the sustained rate). A positive number. */
  ratePerSecond: number;
  /**
   * Bucket size: how many tokens may be spent at once after a quiet spell. The bucket starts full.
   * @defaultValue `Math.max(1, ratePerSecond)`
   */
  burst?: number;
  /**
   * Clock in milliseconds.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

interface Waiter extends WaiterNode {
  tokens: number;
  resolve: () => void;
  reject: (e: ResilienceError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Float slack so 0.9999999999 tokens after an exact wait still counts as 1. */
const EPSILON = 1e-9;
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A token-bucket rate limiter: `ratePerSecond` sustained, `burst` at once. Waiters are served
 * strictly in arrival order — a waiter is never overtaken by a later `acquire` or `tryAcquire`,
 * even one asking for fewer tokens. One timer, armed for the head waiter's deficit, drives it;
 * there is no polling.
 */
export class TokenBucketRateLimiter {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size. */
  readonly burst: number;

  private tokens: number;
  private last: number;
  private readonly waiters = new WaiterList<Waiter>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private isClosed = false;
  private readonly now: () => number;

  /** @throws ResilienceError `resilience.invalid_options` (kind `user`). */
  constructor(opts: TokenBucketRateLimiterOptions) {
    const rate = opts.ratePerSecond;
    if (!Number.isFinite(rate) || rate <= 0) throw invalidOptions('ratePerSecond', rate, 'a positive number');
    const burst = opts.burst ?? Math.max(1, rate);
    if (!Number.isFinite(burst) || burst <= 0) throw invalidOptions('burst', burst, 'a positive number');
    this.ratePerSecond = rate;
    this.burst = burst;
    this.tokens = burst;
    this.now = opts.now ?? Date.now;
    this.last = this.now();
  }

  /** Callers waiting in {@link acquire}. */
  get pending(): number {
    return this.waiters.size;
  }

  /** Tokens in the bucket now (fractional). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Waits until `tokens` tokens are available and takes them, behind every earlier waiter.
   * Rejects with `resilience.rate_limit_closed` on {@link close}, `resilience.aborted` when
   * `signal` aborts (the waiter leaves the line; nothing is taken), or
   * `resilience.invalid_argument` (kind `user`) for a count that is not positive or exceeds `burst`.
   * @defaultValue tokens `1`
   */
  acquire(tokens = 1, signal?: AbortSignal): Promise<void> {
    const invalid = this.validate(tokens);
    if (invalid) return Promise.reject(invalid);
    if (this.isClosed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortedError('acquire', signal.reason));
    if (this.waiters.size === 0 && this.take(tokens)) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { prev: null, next: null, linked: false, tokens, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        w.onAbort = () => {
          const wasHead = this.waiters.peek() === w;
          this.waiters.remove(w);
          reject(abortedError('acquire', signal.reason));
          // The next waiter may need fewer tokens, or none may be left to wait for.
          if (wasHead) this.serve();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
      if (this.waiters.size === 1) this.serve();
    });
  }

  /**
   * Takes `tokens` tokens if available right now and nobody is waiting; never waits.
   * Returns `false` after {@link close}.
   * @defaultValue tokens `1`
   * @throws ResilienceError `resilience.invalid_argument` (kind `user`) for a count that is not
   * positive or exceeds `burst`.
   */
  tryAcquire(tokens = 1): boolean {
    const invalid = this.validate(tokens);
    if (invalid) throw invalid;
    if (this.isClosed || this.waiters.size !== 0) return false;
    return this.take(tokens);
  }

  /** Rejects every waiter with `resilience.rate_limit_closed` and refuses further acquires. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (let w = this.waiters.shift(); w !== null; w = this.waiters.shift()) {
      detach(w);
      w.reject(closedError());
    }
  }

  private validate(tokens: number): ResilienceError | undefined {
    if (Number.isFinite(tokens) && tokens > 0 && tokens <= this.burst) return undefined;
    return new ResilienceError('resilience.invalid_argument', `tokens must be > 0 and <= burst (${this.burst}), got ${String(tokens)}`, {
      kind: 'user',
      details: { tokens, burst: this.burst },
    });
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
    this.last = t; // a clock that steps back just adds nothing
  }

  private take(tokens: number): boolean {
    this.refill();
    if (this.tokens + EPSILON < tokens) return false;
    this.tokens = Math.max(0, this.tokens - tokens);
    return true;
  }

  /** Serves head waiters while tokens last, then arms one timer for the next head's deficit. */
  private serve(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (let w = this.waiters.peek(); w !== null; w = this.waiters.peek()) {
      if (!this.take(w.tokens)) {
        const deficit = w.tokens - this.tokens;
        const delayMs = Math.max(1, Math.ceil((deficit * 1000) / this.ratePerSecond));
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.serve();
        }, delayMs);
        return;
      }
      this.waiters.shift();
      detach(w);
      w.resolve();
    }
  }
}

function detach(w: Waiter): void {
  if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
}

function closedError(): ResilienceError {
  return new ResilienceError('resilience.rate_limit_closed', 'rate limiter is closed');
}
