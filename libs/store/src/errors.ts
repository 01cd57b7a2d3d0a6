/**
 * Store errors: a stable `code` to match on (class identity is lost across worker threads), a
 * `kind` that steers retries, and JSON serialisation. Driver errors (node-postgres, PGlite, and
 * Drizzle's `DrizzleQueryError` wrapping them) are mapped by SQLSTATE in {@link toStoreError};
 * query parameters are never copied into an error, as they may hold patient data.
 */

/** `user`: bad input, not retried; `operational`: retryable (database down, busy); `unexpected`: a bug. */
export type StoreErrorKind = 'user' | 'operational' | 'unexpected';

export type StoreErrorCode =
  | 'store.unavailable'
  | 'store.not_found'
  | 'store.conflict'
  | 'store.invalid'
  | 'store.immutable'
  | 'store.busy'
  | 'store.closed'
  | 'store.no_body'
  | 'store.query';

export interface StoreErrorJSON {
  name: 'StoreError';
  code: StoreErrorCode;
  kind: StoreErrorKind;
  message: string;
  details?: Record<string, unknown>;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly kind: StoreErrorKind;
  readonly details?: Record<string, unknown>;

  constructor(
    code: StoreErrorCode,
    message: string,
    opts: { kind?: StoreErrorKind; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.kind = opts.kind ?? defaultKind(code);
    this.details = opts.details;
  }

  toJSON(): StoreErrorJSON {
    return {
      name: 'StoreError',
      code: this.code,
      kind: this.kind,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

function defaultKind(code: StoreErrorCode): StoreErrorKind {
  switch (code) {
    case 'store.unavailable':
    case 'store.busy':
    case 'store.closed':
      return 'operational';
    case 'store.query':
      return 'unexpected';
    default:
      return 'user';
  }
}

/** Anything thrown, as an `Error`. */
export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : `non-error thrown: ${safeString(e)}`);
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function field(e: object, key: string): string | undefined {
  const v: unknown = Reflect.get(e, key);
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The innermost driver error: Drizzle wraps driver errors in `DrizzleQueryError` (`cause`). */
function driverError(e: Error): Error {
  let cur: Error = e;
  for (let i = 0; i < 5; i++) {
    if (field(cur, 'code') !== undefined) return cur;
    const cause: unknown = cur.cause;
    if (!(cause instanceof Error)) return cur;
    cur = cause;
  }
  return cur;
}

const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);

/**
 * Maps any error from a query to a {@link StoreError} (a `StoreError` passes through unchanged).
 * SQLSTATE classes: 08/57P/53 → unavailable; 23505 unique → conflict; other 23 and 22 → invalid;
 * 40001/40P01/55P03 → busy; HIE01 (immutable row trigger) → immutable; the rest → query (unexpected).
 */
export function toStoreError(e: unknown, context?: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = ensureError(e);
  const inner = driverError(err);
  const sqlstate = field(inner, 'code');
  const details: Record<string, unknown> = {};
  if (sqlstate) details['sqlstate'] = sqlstate;
  for (const k of ['constraint', 'table', 'column'] as const) {
    const v = field(inner, k);
    if (v) details[k] = v;
  }
  if (context) details['operation'] = context;
  const message = inner.message || err.message;
  const make = (code: StoreErrorCode, kind?: StoreErrorKind) =>
    new StoreError(code, message, { kind, details, cause: inner });

  if (!sqlstate) {
    if (/connection|terminat|closed|ended|timeout|connect/i.test(message)) return make('store.unavailable');
    return make('store.query');
  }
  if (connectionCodes.has(sqlstate)) return make('store.unavailable');
  if (sqlstate === '23505') return make('store.conflict');
  if (sqlstate === 'HIE01') return make('store.immutable');
  if (sqlstate.startsWith('23') || sqlstate.startsWith('22')) return make('store.invalid');
  if (sqlstate === '40001' || sqlstate === '40P01' || sqlstate === '55P03') return make('store.busy');
  if (sqlstate.startsWith('08') || sqlstate.startsWith('57P') || sqlstate.startsWith('53')) return make('store.unavailable');
  return make('store.query');
}
