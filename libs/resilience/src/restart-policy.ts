import { ResilienceError, invalidOptions } from './errors';

/** When a host is restarted: `never`, only after a failure, or after any stop (`always`). */
export type RestartPolicyKind = 'never' | 'on_failure' | 'always';

/** Why the host stopped: it failed (crashed, threw), or it exited on its own. */
export type StopReason = 'failure' | 'exit';

/**
 * Why a restart was refused: the policy is `never`; the policy is `on_failure` and the host
 * exited cleanly; or more than `maxRestarts` restarts within `windowMs` (give up).
 */
export type RestartRefusal = 'policy_never' | 'clean_exit' | 'max_restarts';

/** The answer of {@link RestartPolicy.decide}. */
export type RestartDecision =
  | { restart: true; /** Wait this long before restarting (ms). */ delayMs: number; /** 1 for the first restart in the window. */ attempt: number }
  | { restart: false; reason: RestartRefusal };

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /**
   * Delay before the first attempt (ms).
   * @defaultValue `1000`
   */
  delayMs?: number;
  /**
   * Multiplier per further attempt (≥ 1).
   * @defaultValue `2`
   */
  backoffFactor?: number;
  /**
   * Cap on the delay before jitter (ms).
   * @defaultValue `30000`
   */
  maxDelayMs?: number;
  /**
   * Relative jitter in [0, 1]: the delay is spread uniformly over ±`jitter` of itself, so hosts
   * that failed together do not retry together.
   * @defaultValue `0.2`
   */
  jitter?: number;
  /**
   * Source of randomness in [0, 1).
   * @defaultValue `Math.random`
   */
  random?: () => number;
}

/** Options of {@link createRestartPolicy}. */
export interface RestartPolicyOptions extends BackoffOptions {
  /** When to restart. */
  policy: RestartPolicyKind;
  /**
   * Restarts allowed within `windowMs`; one more gives up.
   * @defaultValue `5`
   */
  maxRestarts?: number;
  /**
   * Sliding window for `maxRestarts` (ms). Restarts older than this are forgotten, and the
   * backoff starts again from `delayMs`.
   * @defaultValue `60000`
   */
  windowMs?: number;
  /**
   * Clock in milliseconds.
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** A supervisor's restart decisions for one host. */
export interface RestartPolicy {
  /** Decides whether (and after how long) to restart a host that stopped for `reason`. */
  decide(reason: StopReason): RestartDecision;
  /** Forgets past restarts (e.g. after an operator restarts the host by hand). */
  reset(): void;
  /** Restarts granted since creation or the last {@link reset}. */
  readonly restarts: number;
}

/**
 * Exponential backoff with jitter for retry loops:
 * `min(maxDelayMs, delayMs × backoffFactor^(attempt − 1))`, then ±`jitter` of that (so the result
 * may exceed `maxDelayMs` by up to `jitter × maxDelayMs`), rounded to whole ms, never negative.
 *
 * @param attempt - 1 for the first retry.
 * @throws ResilienceError `resilience.invalid_argument` / `resilience.invalid_options` (kind `user`).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new ResilienceError('resilience.invalid_argument', `attempt must be an integer >= 1, got ${String(attempt)}`, {
      kind: 'user',
      details: { attempt },
    });
  }
  const { delayMs, backoffFactor, maxDelayMs, jitter, random } = backoffOptions(opts);
  return computeDelay(attempt, delayMs, backoffFactor, maxDelayMs, jitter, random);
}

/**
 * A restart policy for a host's supervisor: `never`; `on_failure` (restart after a failure, not
 * after a clean exit); `always`. Gives up (`max_restarts`) when a restart would be the
 * `maxRestarts + 1`-th within `windowMs`. Delays follow {@link backoffDelay}, with `attempt`
 * counting restarts within the window.
 *
 * @example
 * ```ts
 * const policy = createRestartPolicy({ policy: 'on_failure', maxRestarts: 3 });
 * const d = policy.decide('failure');
 * if (d.restart) setTimeout(start, d.delayMs); else markFailed(d.reason);
 * ```
 * @throws ResilienceError `resilience.invalid_options` (kind `user`).
 */
export function createRestartPolicy(opts: RestartPolicyOptions): RestartPolicy {
  const { policy } = opts;
  if (policy !== 'never' && policy !== 'on_failure' && policy !== 'always') {
    throw invalidOptions('policy', policy, "one of 'never', 'on_failure', 'always'");
  }
  const maxRestarts = opts.maxRestarts ?? 5;
  if (!Number.isSafeInteger(maxRestarts) || maxRestarts < 0) throw invalidOptions('maxRestarts', maxRestarts, 'an integer >= 0');
  const windowMs = opts.windowMs ?? 60_000;
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw invalidOptions('windowMs', windowMs, 'a positive number');
  const { delayMs, backoffFactor, maxDelayMs, jitter, random } = backoffOptions(opts);
  const now = opts.now ?? Date.now;

  /** Times of the restarts granted within the window (at most maxRestarts). */
  let recent: number[] = [];
  let restarts = 0;

  return {
    decide(reason: StopReason): RestartDecision {
      if (policy === 'never') return { restart: false, reason: 'policy_never' };
      if (policy === 'on_failure' && reason !== 'failure') return { restart: false, reason: 'clean_exit' };
      const t = now();
      recent = recent.filter((at) => t - at < windowMs);
      if (recent.length >= maxRestarts) return { restart: false, reason: 'max_restarts' };
      recent.push(t);
      restarts++;
      const attempt = recent.length;
      return { restart: true, attempt, delayMs: computeDelay(attempt, delayMs, backoffFactor, maxDelayMs, jitter, random) };
    },
    reset(): void {
      recent = [];
      restarts = 0;
    },
    get restarts(): number {
      return restarts;
    },
  };
}

function backoffOptions(opts: BackoffOptions): Required<BackoffOptions> {
  const delayMs = opts.delayMs ?? 1000;
  const backoffFactor = opts.backoffFactor ?? 2;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const jitter = opts.jitter ?? 0.2;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw invalidOptions('delayMs', delayMs, 'a non-negative number');
  if (!Number.isFinite(backoffFactor) || backoffFactor < 1) throw invalidOptions('backoffFactor', backoffFactor, 'a number >= 1');
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) throw invalidOptions('maxDelayMs', maxDelayMs, 'a non-negative number');
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1) throw invalidOptions('jitter', jitter, 'a number in [0, 1]');
  return { delayMs, backoffFactor, maxDelayMs, jitter, random: opts.random ?? Math.random };
}

function computeDelay(attempt: number, delayMs: number, factor: number, maxDelayMs: number, jitter: number, random: () => number): number {
  // delayMs × factor^(attempt−1) can overflow to Infinity for large attempts; the cap handles it
  // (and 0 × Infinity must stay 0, not NaN).
  const raw = delayMs === 0 ? 0 : delayMs * Math.pow(factor, attempt - 1);
  const base = Math.min(maxDelayMs, raw);
  const jittered = jitter === 0 ? base : base * (1 + jitter * (2 * random() - 1));
  return Math.max(0, Math.round(jittered));
}
