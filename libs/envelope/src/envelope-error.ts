/**
 * Errors of @hie/envelope. Same shape as `HieError` in @hie/config (code, kind, details,
 * cause, `toJSON`), which this lib may not import: callers match on `code`, and
 * `ensureError` from @hie/config turns an `EnvelopeError` (or its JSON) into an `HieError`.
 */

/** Error kinds, as in @hie/config: `user` (bad input, not retried), `operational` (retryable), `unexpected` (a bug). */
export type EnvelopeErrorKind = 'user' | 'operational' | 'unexpected';

/**
 * Codes raised by this lib.
 * - `envelope.no_codec`: no codec registered for the content type (a wiring bug).
 * - `envelope.parse`: the body could not be parsed by its codec.
 * - `envelope.decode`: bytes given to `fromBytes`/`fromJSON` are not an envelope.
 * - `envelope.invalid`: bad arguments when building an envelope (priority out of range, …).
 */
export type EnvelopeErrorCode = 'envelope.no_codec' | 'envelope.parse' | 'envelope.decode' | 'envelope.invalid';

const KIND_OF: Readonly<Record<EnvelopeErrorCode, EnvelopeErrorKind>> = {
  'envelope.no_codec': 'unexpected',
  'envelope.parse': 'user',
  'envelope.decode': 'user',
  'envelope.invalid': 'user',
};

/** JSON form of an {@link EnvelopeError}. */
export interface EnvelopeErrorJSON {
  name: string;
  code: string;
  kind: EnvelopeErrorKind;
  message: string;
  details?: unknown;
  stack?: string;
  cause?: unknown;
}

/** An error raised by @hie/envelope, matched on its `code`. */
export class EnvelopeError extends Error {
  /** Stable code, see {@link EnvelopeErrorCode}. */
  readonly code: EnvelopeErrorCode;
  /** `user` for bad input (parse, decode, invalid), `unexpected` for a missing codec. */
  readonly kind: EnvelopeErrorKind;
  /** Extra JSON-serialisable data. */
  readonly details?: unknown;

  constructor(code: EnvelopeErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnvelopeError';
    this.code = code;
    this.kind = KIND_OF[code];
    if (options.details !== undefined) this.details = options.details;
  }

  /** Plain JSON form (the cause reduced to name, message and code). */
  toJSON(): EnvelopeErrorJSON {
    const json: EnvelopeErrorJSON = { name: this.name, code: this.code, kind: this.kind, message: this.message };
    if (this.details !== undefined) json.details = this.details;
    if (this.stack !== undefined) json.stack = this.stack;
    if (this.cause !== undefined) json.cause = causeToJSON(this.cause);
    return json;
  }

  /** Rebuilds an error from {@link EnvelopeError.toJSON}'s output; unknown codes become `envelope.decode`. */
  static fromJSON(json: unknown): EnvelopeError {
    const o: Record<string, unknown> = isRecord(json) ? json : {};
    const code = isEnvelopeErrorCode(o.code) ? o.code : 'envelope.decode';
    const error = new EnvelopeError(code, typeof o.message === 'string' ? o.message : String(json), {
      details: o.details,
      cause: o.cause,
    });
    if (typeof o.stack === 'string') error.stack = o.stack;
    return error;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isEnvelopeErrorCode(value: unknown): value is EnvelopeErrorCode {
  return typeof value === 'string' && Object.hasOwn(KIND_OF, value);
}

function causeToJSON(cause: unknown): unknown {
  if (cause instanceof Error) {
    const code: unknown = Reflect.get(cause, 'code');
    return typeof code === 'string'
      ? { name: cause.name, message: cause.message, code }
      : { name: cause.name, message: cause.message };
  }
  try {
    JSON.stringify(cause);
    return cause;
  } catch {
    return String(cause);
  }
}

/** True when `e` carries a string `code` (an HieError, an EnvelopeError, or their JSON). */
export function hasCode(e: unknown): e is { code: string } {
  return isRecord(e) && typeof e.code === 'string';
}
