import { ResilienceError, abortedError, invalidOptions } from './errors';
import { ListenerSet } from './listener-set';

/**
 * - `closed`: calls pass; consecutive failures are counted.
 * - `open`: calls are refused until `resetTimeoutMs` has passed since opening.
 * - `half_open`: up to `halfOpenTrials` trial calls pass; all succeed → `closed`, any fails → `open`.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures (in `closed`) that open the circuit. A positive integer.
   * @defaultValue `5`
   */
  failureThreshold?: number;
  /**
   * How long the circuit stays `open` before admitting trials (ms).
   * @defaultValue `30000`
   */
  resetTimeoutMs?: number;
  /**
   * Trial calls admitted concurrently in `half_open`; all must succeed to close. A positive integer.
   * @defaultValue `1`
   */
  halfOpenTrials?: number;
  /**
   * Which errors thrown through {@link CircuitBreaker.execute} count as failures. Return `false`
   * for errors that say nothing about the downstream's health (e.g. a rejected message, a
   * validation error); those count as successes — the downstream did answer.
   * @defaultValue every error counts
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Clock in milliseconds.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** A point-in-time view of a breaker, for dashboards. */
export interface CircuitSnapshot {
  state: CircuitState;
  /** Consecutive failures counted (the ones that opened the circuit, while open). */
  failures: number;
  /** When the circuit last opened (ms, per the breaker's clock); `null` when closed. */
  openedAt: number | null;
  /** When trials may start (ms); `null` when closed. */
  nextTrialAt: number | null;
  /** Trials admitted in the current `half_open` period. */
  trialsInFlight: number;
}

/** Listener of state changes. */
export type CircuitStateListener = (to: CircuitState, from: CircuitState) => void;

interface Waiter {
  resolve: () => void;
  reject: (e: ResilienceError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();

function positiveInt(field: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw invalidOptions(field, v, 'a positive integer');
  return v;
}

/**
 * A circuit breaker in front of a downstream system: after `failureThreshold` consecutive
 * failures it opens and refuses calls (`resilience.circuit_open`, kind `operational`, with
 * `details.retryAfterMs`) for `resetTimeoutMs`, then lets `halfOpenTrials` trial calls through.
 *
 * Use {@link execute}, or the manual trio {@link canPass} / {@link recordSuccess} /
 * {@link recordFailure} when the call is not a single promise. To make messages wait rather than
 * fail while open, `await breaker.whenClosed()` before each attempt and retry on
 * `resilience.circuit_open` (only `halfOpenTrials` of the woken callers get through a trial).
 *
 * While open, a timer (cleared when the state changes) moves the breaker to `half_open` on time,
 * so listeners and waiters hear about it without polling.
 */
export class CircuitBreaker {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open (ms). */
  readonly resetTimeoutMs: number;
  /** Trial calls admitted in `half_open`. */
  readonly halfOpenTrials: number;

  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt: number | null = null;
  private nextTrialAt: number | null = null;
  private trialsStarted = 0;
  private trialSuccesses = 0;
  /** Bumped on every transition, so results of calls admitted in an earlier state are ignored. */
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new ListenerSet<[CircuitState, CircuitState]>();
  private waiters = new Set<Waiter>();
  private readonly isFailure: (error: unknown) => boolean;
  private readonly now: () => number;

  /** @throws ResilienceError `resilience.invalid_options` (kind `user`). */
  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = positiveInt('failureThreshold', opts.failureThreshold ?? 5);
    this.halfOpenTrials = positiveInt('halfOpenTrials', opts.halfOpenTrials ?? 1);
    const reset = opts.resetTimeoutMs ?? 30_000;
    if (!Number.isFinite(reset) || reset < 0) throw invalidOptions('resetTimeoutMs', reset, 'a non-negative number');
    this.resetTimeoutMs = reset;
    this.isFailure = opts.isFailure ?? (() => true);
    this.now = opts.now ?? Date.now;
  }

  /** Current state (moves `open` → `half_open` first if the reset timeout has passed). */
  get state(): CircuitState {
    this.poll();
    return this.current;
  }

  /**
   * Runs `fn` if the circuit lets it pass and records the outcome. Outcomes of calls admitted
   * before a state change are ignored (a slow call started while closed cannot close a
   * half-open circuit).
   * @returns what `fn` returns; rejects with `fn`'s error, or with `resilience.circuit_open`
   * without calling `fn`.
   */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.canPass()) throw this.openError();
    const generation = this.generation;
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      if (generation === this.generation) {
        let failed: boolean;
        try {
          failed = this.isFailure(e);
        } catch {
          failed = true; // a broken classifier must not hide the call's own error
        }
        if (failed) this.recordFailure();
        else this.recordSuccess();
      }
      throw e;
    }
    if (generation === this.generation) this.recordSuccess();
    return result;
  }

  /**
   * True if a call may go ahead now. In `half_open` a `true` reserves one of the trial slots:
   * every `true` must be followed by exactly one {@link recordSuccess} or {@link recordFailure},
   * or the breaker stays half-open.
   */
  canPass(): boolean {
    this.poll();
    if (this.current === 'closed') return true;
    if (this.current === 'half_open' && this.trialsStarted < this.halfOpenTrials) {
      this.trialsStarted++;
      return true;
    }
    return false;
  }

  /** Records a successful call: resets the failure count; in `half_open` counts a trial. */
  recordSuccess(): void {
    this.poll();
    if (this.current === 'closed') {
      this.failures = 0;
    } else if (this.current === 'half_open') {
      this.trialSuccesses++;
      if (this.trialSuccesses >= this.halfOpenTrials) this.transition('closed');
    }
    // open: a late result of a call admitted earlier; nothing to learn.
  }

  /** Records a failed call: may open the circuit; in `half_open` re-opens it. */
  recordFailure(): void {
    this.poll();
    if (this.current === 'closed') {
      this.failures++;
      if (this.failures >= this.failureThreshold) this.transition('open');
    } else if (this.current === 'half_open') {
      this.failures++;
      this.transition('open');
    }
  }

  /** Calls `listener(to, from)` on every state change; returns an unsubscribe function. */
  onStateChange(listener: CircuitStateListener): () => void {
    return this.listeners.add(listener);
  }

  /**
   * Resolves when a call may pass: at once if closed or half-open with a free trial slot,
   * otherwise on the next move to `half_open` or `closed`. Does not reserve a slot, so with
   * several waiters some may still meet `resilience.circuit_open`: loop. Aborting `signal`
   * rejects with `resilience.aborted`.
   */
  whenClosed(signal?: AbortSignal): Promise<void> {
    this.poll();
    if (this.current === 'closed' || (this.current === 'half_open' && this.trialsStarted < this.halfOpenTrials)) return RESOLVED;
    if (signal?.aborted) return Promise.reject(abortedError('whenClosed', signal.reason));
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        w.onAbort = () => {
          this.waiters.delete(w);
          reject(abortedError('whenClosed', signal.reason));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.add(w);
    });
  }

  /** State, failure count and timing, for dashboards. */
  snapshot(): CircuitSnapshot {
    this.poll();
    return {
      state: this.current,
      failures: this.failures,
      openedAt: this.openedAt,
      nextTrialAt: this.nextTrialAt,
      trialsInFlight: this.current === 'half_open' ? this.trialsStarted - this.trialSuccesses : 0,
    };
  }

  private openError(): ResilienceError {
    const retryAfterMs =
      this.current === 'open' && this.nextTrialAt !== null ? Math.max(0, this.nextTrialAt - this.now()) : this.resetTimeoutMs;
    return new ResilienceError('resilience.circuit_open', `circuit is ${this.current}; retry after ${retryAfterMs} ms`, {
      details: { state: this.current, retryAfterMs, failures: this.failures },
    });
  }

  /** open → half_open once the reset timeout has passed (also driven by the timer). */
  private poll(): void {
    if (this.current === 'open' && this.nextTrialAt !== null && this.now() >= this.nextTrialAt) this.transition('half_open');
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.generation++;
    this.trialsStarted = 0;
    this.trialSuccesses = 0;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (to === 'open') {
      const t = this.now();
      this.openedAt = t;
      this.nextTrialAt = t + this.resetTimeoutMs;
      this.armTimer(this.resetTimeoutMs);
    } else if (to === 'closed') {
      this.failures = 0;
      this.openedAt = null;
      this.nextTrialAt = null;
    }
    this.listeners.emit(to, from);
    if (to !== 'open') this.wakeWaiters();
  }

  private armTimer(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current !== 'open' || this.nextTrialAt === null) return;
      const remaining = this.nextTrialAt - this.now();
      // An injected clock may lag the timers: wait for it rather than move early.
      if (remaining > 0) this.armTimer(remaining);
      else this.transition('half_open');
    }, delayMs);
  }

  private wakeWaiters(): void {
    if (this.waiters.size === 0) return;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const w of waiters) {
      if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
      w.resolve();
    }
  }
}
