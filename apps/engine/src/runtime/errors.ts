/**
 * The engine's side of the error taxonomy in @hie/config (one code table, one JSON form). Match on
 * `code`/`kind`, never on class identity: worker threads lose it.
 */
import { type ErrorKind, HieError, type HieErrorJSON, errorCodeOf, errorKindOf, ensureError as toHieError } from '@hie/config';

export type { ErrorKind };
export type SerializedError = HieErrorJSON;

/** An engine error with a stable code; `kind` defaults to operational (retryable). */
export class EngineError extends HieError {
  constructor(code: string, message: string, kind: ErrorKind = 'operational', details?: Record<string, unknown>) {
    super(code, message, { kind, details });
    this.name = 'EngineError';
  }
}

/** The error's stable code (`internal.unexpected` when it has none). */
export const codeOf = errorCodeOf;

/** user (bad input/config: not retried), operational (retryable), unexpected (a bug: a crash). */
export const kindOf = errorKindOf;

/**
 * Anything thrown → an Error. An Error keeps its identity (a handler's `onProcessError` may attach
 * a response to it); anything else becomes a HieError.
 */
export function ensureError(e: unknown): Error {
  return e instanceof Error ? e : toHieError(e);
}

export function serializeError(e: unknown): SerializedError {
  return toHieError(e).toJSON();
}

export function deserializeError(s: SerializedError): HieError {
  return HieError.fromJSON(s);
}
