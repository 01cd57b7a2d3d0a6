/**
 * How an error should be handled: `user` (bad input or configuration, never retried),
 * `operational` (expected at run time — full, closed, aborted — retryable or handled),
 * `unexpected` (a bug).
 */
export type QueueErrorKind = 'user' | 'operational' | 'unexpected';

/** Stable error codes raised by `@hie/queues`. Callers match on these, not on `instanceof`. */
export type QueueErrorCode =
  | 'queue.full'
  | 'queue.closed'
  | 'queue.aborted'
  | 'queue.invalid_priority'
  | 'queue.invalid_options';

/** JSON form of a {@link QueueError}; survives worker-thread and process boundaries. */
export interface QueueErrorJSON {
  name: 'QueueError';
  code: QueueErrorCode;
  kind: QueueErrorKind;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The one error class of `@hie/queues`. Match on {@link QueueError.code} (class identity is lost
 * across worker threads); {@link QueueError.toJSON} gives a plain, serialisable object.
 */
export class QueueError extends Error {
  override readonly name = 'QueueError';
  /** Stable, machine-readable code, e.g. `'queue.full'`. */
  readonly code: QueueErrorCode;
  /** `user` errors are not retried; `operational` ones may be. */
  readonly kind: QueueErrorKind;
  /** Structured context (capacity, depth, priority, …). */
  readonly details: Record<string, unknown>;

  constructor(
    code: QueueErrorCode,
    message: string,
    options: { kind?: QueueErrorKind; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kind = options.kind ?? 'operational';
    this.details = options.details ?? {};
  }

  /** A plain object with `name`, `code`, `kind`, `message` and `details`. */
  toJSON(): QueueErrorJSON {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message, details: this.details };
  }
}

/**
 * True when `e` carries a `@hie/queues` error code (`queue.*`). Works on errors that crossed a
 * worker boundary as plain objects too, because it looks at `code`, not at the class.
 */
export function isQueueError(e: unknown, code?: QueueErrorCode): e is { code: QueueErrorCode; kind: QueueErrorKind } {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  if (typeof c !== 'string') return false;
  return code === undefined ? c.startsWith('queue.') : c === code;
}
