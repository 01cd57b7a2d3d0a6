/**
 * How an error should be handled: `user` (bad input or configuration, never retried),
 * `operational` (expected at run time — open circuit, closed limiter, abort — retryable),
 * `unexpected` (a bug).
 */
export type ResilienceErrorKind = 'user' | 'operational' | 'unexpected';

/** Stable error codes raised by `@hie/resilience`. Callers match on these, not on `instanceof`. */
export type ResilienceErrorCode =
  | 'resilience.circuit_open'
  | 'resilience.rate_limit_closed'
  | 'resilience.aborted'
  | 'resilience.invalid_options'
  | 'resilience.invalid_argument';

/** JSON form of a {@link ResilienceError}; survives worker-thread and process boundaries. */
export interface ResilienceErrorJSON {
  name: 'ResilienceError';
  code: ResilienceErrorCode;
  kind: ResilienceErrorKind;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The one error class of `@hie/resilience`. Match on {@link ResilienceError.code} (class identity
 * is lost across worker threads); {@link ResilienceError.toJSON} gives a plain object.
 */
export class ResilienceError extends Error {
  override readonly name = 'ResilienceError';
  /** Stable, machine-readable code, e.g. `'resilience.circuit_open'`. */
  readonly code: ResilienceErrorCode;
  /** `user` errors are not retried; `operational` ones may be. */
  readonly kind: ResilienceErrorKind;
  /** Structured context, e.g. `{ retryAfterMs }` for an open circuit. */
  readonly details: Record<string, unknown>;

  constructor(
    code: ResilienceErrorCode,
    message: string,
    options: { kind?: ResilienceErrorKind; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kind = options.kind ?? 'operational';
    this.details = options.details ?? {};
  }

  /** A plain object with `name`, `code`, `kind`, `message` and `details`. */
  toJSON(): ResilienceErrorJSON {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message, details: this.details };
  }
}

/**
 * True when `e` carries a `@hie/resilience` error code (`resilience.*`), or exactly `code` if
 * given. Looks at `code`, not the class, so it works on errors that crossed a worker boundary.
 */
export function isResilienceError(
  e: unknown,
  code?: ResilienceErrorCode,
): e is { code: ResilienceErrorCode; kind: ResilienceErrorKind; details: Record<string, unknown> } {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  if (typeof c !== 'string') return false;
  return code === undefined ? c.startsWith('resilience.') : c === code;
}

/** @internal */
export function invalidOptions(field: string, value: unknown, rule: string): ResilienceError {
  return new ResilienceError('resilience.invalid_options', `invalid option ${field}: ${String(value)} (${rule})`, {
    kind: 'user',
    details: { field, value, rule },
  });
}

/** @internal */
export function abortedError(op: string, reason: unknown): ResilienceError {
  return new ResilienceError('resilience.aborted', `${op} aborted`, { details: { op }, cause: reason });
}
