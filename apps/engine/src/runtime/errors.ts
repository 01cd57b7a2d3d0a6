/** Error helpers for the engine. Match on `code`/`kind`, never on class identity (worker threads lose it). */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

/** An engine error with a stable code. Serialises to JSON. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: ErrorKind = 'operational',
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'EngineError';
  }
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message, details: this.details };
  }
}

export interface SerializedError {
  name: string;
  code: string;
  kind: ErrorKind;
  message: string;
  details?: unknown;
  stack?: string;
}

function hasCode(e: unknown): e is { code: unknown; kind?: unknown } {
  return typeof e === 'object' && e !== null && 'code' in e;
}

/** The error's stable code, `unexpected` when it has none. */
export function codeOf(e: unknown): string {
  return hasCode(e) && typeof e.code === 'string' ? e.code : 'unexpected';
}

/** user (bad input/config: do not retry), operational (retryable), unexpected (a bug: counts as a crash). */
export function kindOf(e: unknown): ErrorKind {
  if (hasCode(e)) {
    if (e.kind === 'user' || e.kind === 'operational' || e.kind === 'unexpected') return e.kind;
    // Node system errors (ECONNREFUSED, ETIMEDOUT…) are operational.
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return 'operational';
  }
  return 'unexpected';
}

/** Anything thrown → an Error (keeps code/kind when present). */
export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e;
  if (typeof e === 'object' && e !== null) {
    const o = e as { message?: unknown; code?: unknown; kind?: unknown; details?: unknown };
    const kind = o.kind === 'user' || o.kind === 'operational' || o.kind === 'unexpected' ? o.kind : 'unexpected';
    return new EngineError(typeof o.code === 'string' ? o.code : 'unexpected', String(o.message ?? JSON.stringify(e)), kind);
  }
  return new EngineError('unexpected', String(e), 'unexpected');
}

export function serializeError(e: unknown): SerializedError {
  const err = ensureError(e);
  return {
    name: err.name,
    code: codeOf(err),
    kind: kindOf(err),
    message: err.message,
    details: (err as { details?: unknown }).details,
    stack: err.stack,
  };
}

export function deserializeError(s: SerializedError): EngineError {
  const e = new EngineError(s.code, s.message, s.kind, (s.details ?? undefined) as Record<string, unknown> | undefined);
  if (s.stack) e.stack = s.stack;
  return e;
}
