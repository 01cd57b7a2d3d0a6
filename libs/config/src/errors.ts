/**
 * The HIE error taxonomy, shared by every app and lib.
 *
 * Errors are matched on their `code` and `kind`, never with `instanceof`: class identity is
 * lost when an error crosses a worker thread, Redis or HTTP, so everything here also accepts
 * the plain objects those hops produce (`{ code, kind, message, ... }`).
 */

/**
 * What kind of failure an error is.
 * - `user`: bad configuration or bad input. Retrying cannot help (HL7 `AR`).
 * - `operational`: timeouts, downstream failures, an open circuit. Retryable (HL7 `AE`).
 * - `unexpected`: a bug. Not retried automatically (HL7 `AE`).
 */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

/** Every {@link ErrorKind}, in order of severity. */
export const ERROR_KINDS: readonly ErrorKind[] = ['user', 'operational', 'unexpected'];

/** The tRPC error codes the manager API answers with. */
export type TrpcErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TIMEOUT'
  | 'INTERNAL_SERVER_ERROR';

/**
 * HL7 v2 acknowledgment codes for a failed message (MSA-1).
 * `AR` (application reject): the message itself is wrong, do not resend it.
 * `AE` (application error): processing failed, the sender may retry.
 *
 * @see https://hl7-definition.caristix.com/v2/HL7v2.5.1/Tables/0008
 */
export type AckCode = 'AE' | 'AR';

/** The code given to errors that carry none. */
export const UNEXPECTED_ERROR_CODE = 'internal.unexpected';

/** Options of the {@link HieError} constructor. */
export interface HieErrorOptions {
  /**
   * What kind of failure this is.
   * @defaultValue looked up from the code in the mapping table, else `'unexpected'`
   */
  kind?: ErrorKind;
  /** Extra data for logs and API answers (must be JSON-serialisable). */
  details?: unknown;
  /** The error that caused this one. */
  cause?: unknown;
  /**
   * Forces {@link isRetryable}'s answer.
   * @defaultValue `kind === 'operational'`
   */
  retryable?: boolean;
}

/** The JSON form of an {@link HieError} (what {@link HieError.toJSON} returns). */
export interface HieErrorJSON {
  name: string;
  code: string;
  kind: ErrorKind;
  message: string;
  details?: unknown;
  retryable?: boolean;
  stack?: string;
  cause?: unknown;
}

interface CodeRule {
  kind: ErrorKind;
  trpc: TrpcErrorCode;
}

const user = (trpc: TrpcErrorCode): CodeRule => ({ kind: 'user', trpc });
const operational = (trpc: TrpcErrorCode = 'INTERNAL_SERVER_ERROR'): CodeRule => ({ kind: 'operational', trpc });
const unexpected: CodeRule = { kind: 'unexpected', trpc: 'INTERNAL_SERVER_ERROR' };

/**
 * THE mapping table. A code is looked up whole first (`'config.invalid'`), then by its last
 * dotted segment, its "reason" (`'item.not_found'` → `not_found`), so new codes that follow the
 * naming convention map without touching this table. Node system error codes (`ECONNREFUSED`)
 * are listed because they reach us through `ensureError`.
 */
const CODE_TABLE: ReadonlyMap<string, CodeRule> = new Map<string, CodeRule>([
  // whole codes
  ['config.invalid', user('BAD_REQUEST')],
  // reasons: the caller's fault
  ['invalid', user('BAD_REQUEST')],
  ['validation', user('BAD_REQUEST')],
  ['bad_request', user('BAD_REQUEST')],
  ['parse', user('BAD_REQUEST')],
  ['decode', user('BAD_REQUEST')],
  ['unsupported', user('BAD_REQUEST')],
  ['unknown_type', user('BAD_REQUEST')],
  ['not_found', user('NOT_FOUND')],
  ['conflict', user('CONFLICT')],
  ['already_exists', user('CONFLICT')],
  ['duplicate', user('CONFLICT')],
  ['version_mismatch', user('CONFLICT')],
  ['unauthorized', user('UNAUTHORIZED')],
  ['unauthenticated', user('UNAUTHORIZED')],
  ['forbidden', user('FORBIDDEN')],
  // reasons: the world's fault, retryable
  ['timeout', operational('TIMEOUT')],
  ['circuit_open', operational()],
  ['rate_limited', operational()],
  ['unavailable', operational()],
  ['queue_full', operational()],
  ['overflow', operational()],
  ['connection', operational()],
  ['downstream', operational()],
  ['ECONNREFUSED', operational()],
  ['ECONNRESET', operational()],
  ['ECONNABORTED', operational()],
  ['EPIPE', operational()],
  ['EHOSTUNREACH', operational()],
  ['ENETUNREACH', operational()],
  ['ENOTFOUND', operational()],
  ['EAI_AGAIN', operational()],
  ['ETIMEDOUT', operational('TIMEOUT')],
  ['ESOCKETTIMEDOUT', operational('TIMEOUT')],
  // reasons: bugs
  ['unexpected', unexpected],
  ['internal', unexpected],
  ['no_codec', unexpected],
]);

const KIND_TO_TRPC: Readonly<Record<ErrorKind, TrpcErrorCode>> = {
  user: 'BAD_REQUEST',
  operational: 'INTERNAL_SERVER_ERROR',
  unexpected: 'INTERNAL_SERVER_ERROR',
};

const KIND_TO_ACK: Readonly<Record<ErrorKind, AckCode>> = { user: 'AR', operational: 'AE', unexpected: 'AE' };

/** Node system errors (EADDRINUSE, EMFILE, ENOSPC…) not listed above: the world's fault, retryable. */
const SYSTEM_ERROR_CODE = /^E[A-Z]+$/;

function ruleFor(code: string): CodeRule | undefined {
  const whole = CODE_TABLE.get(code);
  if (whole) return whole;
  const dot = code.lastIndexOf('.');
  if (dot >= 0) return CODE_TABLE.get(code.slice(dot + 1));
  return SYSTEM_ERROR_CODE.test(code) ? operational() : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** True when `value` is one of the {@link ERROR_KINDS}. */
export function isErrorKind(value: unknown): value is ErrorKind {
  return value === 'user' || value === 'operational' || value === 'unexpected';
}

/** The kind a code maps to in the table, `'unexpected'` when the table does not know it. */
export function kindOfCode(code: string): ErrorKind {
  return ruleFor(code)?.kind ?? 'unexpected';
}

/**
 * The one error class of HIE. Give it a stable dotted `code` (`'hl7.parse'`,
 * `'engine.circuit_open'`); the `kind` follows from the code unless given.
 *
 * @example
 * throw new HieError('item.not_found', `no item "${name}"`, { details: { name } });
 */
export class HieError extends Error {
  /** Stable, dotted, machine-readable code such as `'config.invalid'`. */
  readonly code: string;
  /** What kind of failure this is; decides retries, tRPC code and HL7 ACK code. */
  readonly kind: ErrorKind;
  /** Extra JSON-serialisable data. */
  readonly details?: unknown;
  /** Forces {@link isRetryable}'s answer when set. */
  readonly retryable?: boolean;

  constructor(code: string, message: string, options: HieErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HieError';
    this.code = code;
    this.kind = options.kind ?? kindOfCode(code);
    if (options.details !== undefined) this.details = options.details;
    if (options.retryable !== undefined) this.retryable = options.retryable;
  }

  /** Plain JSON form, safe to send across threads, Redis or HTTP (cause chain included). */
  toJSON(): HieErrorJSON {
    return hieErrorToJSON(this, 0);
  }

  /**
   * Rebuilds an error from its JSON form (or from any `{ code, message }`-like object).
   * Never throws: anything unrecognisable becomes an `internal.unexpected` error.
   */
  static fromJSON(json: unknown): HieError {
    return fromJSONDepth(json, 0);
  }
}

const MAX_CAUSE_DEPTH = 8;

function hieErrorToJSON(error: HieError, depth: number): HieErrorJSON {
  const json: HieErrorJSON = { name: error.name, code: error.code, kind: error.kind, message: error.message };
  if (error.details !== undefined) json.details = error.details;
  if (error.retryable !== undefined) json.retryable = error.retryable;
  if (error.stack !== undefined) json.stack = error.stack;
  if (error.cause !== undefined) json.cause = serializeCause(error.cause, depth + 1);
  return json;
}

function serializeCause(cause: unknown, depth: number): unknown {
  if (depth >= MAX_CAUSE_DEPTH) return '[cause chain truncated]';
  if (cause instanceof HieError) return hieErrorToJSON(cause, depth);
  if (cause instanceof Error) {
    const json: Record<string, unknown> = { name: cause.name, message: cause.message };
    const code: unknown = Reflect.get(cause, 'code');
    if (typeof code === 'string') json.code = code;
    if (cause.stack !== undefined) json.stack = cause.stack;
    if (cause.cause !== undefined) json.cause = serializeCause(cause.cause, depth + 1);
    return json;
  }
  try {
    JSON.stringify(cause);
    return cause;
  } catch {
    return String(cause);
  }
}

function fromJSONDepth(json: unknown, depth: number): HieError {
  if (json instanceof HieError) return json;
  if (!isRecord(json) || json instanceof Error) return ensureError(json);
  const code = typeof json.code === 'string' && json.code !== '' ? json.code : UNEXPECTED_ERROR_CODE;
  const message = typeof json.message === 'string' ? json.message : '';
  const options: HieErrorOptions = {};
  if (isErrorKind(json.kind)) options.kind = json.kind;
  if (json.details !== undefined) options.details = json.details;
  if (typeof json.retryable === 'boolean') options.retryable = json.retryable;
  if (json.cause !== undefined) {
    options.cause =
      isRecord(json.cause) && typeof json.cause.message === 'string' && depth < MAX_CAUSE_DEPTH
        ? fromJSONDepth(json.cause, depth + 1)
        : json.cause;
  }
  const error = new HieError(code, message, options);
  if (typeof json.name === 'string' && json.name !== '') error.name = json.name;
  if (typeof json.stack === 'string') error.stack = json.stack;
  return error;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // cyclic or BigInt: fall through
  }
  return String(value);
}

/**
 * Turns whatever was thrown into an {@link HieError}. Use it first thing in every `catch`.
 * - an `HieError` is returned as is;
 * - an `Error` is wrapped (it becomes the `cause`, its message and stack are kept, a string
 *   `code` such as `ECONNREFUSED` is kept and its kind looked up);
 * - a plain `{ code, message, kind? }` object (an error that crossed a thread) is rebuilt;
 * - anything else becomes an `internal.unexpected` error with the value in its message.
 *
 * @param fallbackCode - code to use when the thrown value has none.
 *   @defaultValue `'internal.unexpected'`
 */
export function ensureError(e: unknown, fallbackCode: string = UNEXPECTED_ERROR_CODE): HieError {
  if (e instanceof HieError) return e;
  if (e instanceof Error) {
    // Error subclasses from libraries (Node system errors, EnvelopeError) carry these as own props
    const own: Record<string, unknown> = {
      code: Reflect.get(e, 'code'),
      kind: Reflect.get(e, 'kind'),
      details: Reflect.get(e, 'details'),
      retryable: Reflect.get(e, 'retryable'),
    };
    const code = typeof own.code === 'string' && own.code !== '' ? own.code : fallbackCode;
    const options: HieErrorOptions = { cause: e };
    if (isErrorKind(own.kind)) options.kind = own.kind;
    if (own.details !== undefined) options.details = own.details;
    if (typeof own.retryable === 'boolean') options.retryable = own.retryable;
    const error = new HieError(code, e.message, options);
    if (e.stack !== undefined) error.stack = e.stack;
    return error;
  }
  if (isRecord(e) && (typeof e.code === 'string' || typeof e.message === 'string')) {
    if (typeof e.code !== 'string' || e.code === '') return fromJSONDepth({ ...e, code: fallbackCode }, 0);
    return fromJSONDepth(e, 0);
  }
  return new HieError(fallbackCode, describe(e), { details: { thrown: e === undefined ? 'undefined' : describe(e) } });
}

/** The error's code, whatever was thrown (`'internal.unexpected'` when it has none). */
export function errorCodeOf(e: unknown): string {
  if (isRecord(e) && typeof e.code === 'string' && e.code !== '') return e.code;
  return UNEXPECTED_ERROR_CODE;
}

/** The error's kind, whatever was thrown: its own `kind`, else its code's, else `'unexpected'`. */
export function errorKindOf(e: unknown): ErrorKind {
  if (isRecord(e)) {
    if (isErrorKind(e.kind)) return e.kind;
    if (typeof e.code === 'string') return kindOfCode(e.code);
  }
  return 'unexpected';
}

/**
 * Should the engine retry after this error? Its own `retryable` flag when set, else
 * `true` exactly for operational errors.
 */
export function isRetryable(e: unknown): boolean {
  if (isRecord(e) && typeof e.retryable === 'boolean') return e.retryable;
  return errorKindOf(e) === 'operational';
}

/**
 * Maps an error, an error code or an error kind to the tRPC code the manager answers with.
 * The code's table entry wins; otherwise the kind decides (user → `BAD_REQUEST`, others →
 * `INTERNAL_SERVER_ERROR`).
 */
export function toTrpcCode(e: unknown): TrpcErrorCode {
  if (typeof e === 'string') {
    if (isErrorKind(e)) return KIND_TO_TRPC[e];
    return ruleFor(e)?.trpc ?? KIND_TO_TRPC[kindOfCode(e)];
  }
  if (isRecord(e) && typeof e.code === 'string') {
    const rule = ruleFor(e.code);
    if (rule) return rule.trpc;
  }
  return KIND_TO_TRPC[errorKindOf(e)];
}

/**
 * Maps an error (or a code or kind) to the HL7 ACK code to answer with: user errors are
 * rejected (`AR`, do not resend), everything else is an application error (`AE`, may retry).
 */
export function toAckCode(e: unknown): AckCode {
  if (typeof e === 'string') return KIND_TO_ACK[isErrorKind(e) ? e : kindOfCode(e)];
  return KIND_TO_ACK[errorKindOf(e)];
}

/** True when `e` (an error or its JSON form) has exactly this code. */
export function hasErrorCode(e: unknown, code: string): boolean {
  return isRecord(e) && e.code === code;
}

/** A user error: bad configuration or input, not retried, answered with `AR`. */
export function userError(code: string, message: string, details?: unknown): HieError {
  return new HieError(code, message, { kind: 'user', details });
}

/** An operational error: retryable, answered with `AE`. */
export function operationalError(code: string, message: string, options: Omit<HieErrorOptions, 'kind'> = {}): HieError {
  return new HieError(code, message, { ...options, kind: 'operational' });
}
