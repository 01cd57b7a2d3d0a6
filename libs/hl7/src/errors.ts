/**
 * The error type of `@hie/hl7`.
 *
 * Callers match on {@link Hl7Error.code} (and {@link Hl7Error.kind}), never with `instanceof`:
 * class identity is lost when an error crosses a worker thread, Redis or HTTP. The shape is the
 * same as the rest of HIE's errors (`{ name, code, kind, message, details }`), so the engine's
 * error mapping (code → ACK code / HTTP status) treats these like any other error.
 */

/**
 * What kind of failure an error is.
 * - `user`: bad input (a garbled message, an invalid path). Retrying cannot help.
 * - `operational`: a transient condition. Retryable.
 * - `unexpected`: a bug.
 */
export type Hl7ErrorKind = 'user' | 'operational' | 'unexpected';

/**
 * The stable codes this lib throws or reports.
 * - `hl7.parse`: the input is not an HL7 v2 message (no `MSH` at the start, unreadable delimiters).
 * - `hl7.path`: an invalid path (`PID-0`, `pid-3`, `MSH-2.1`), or a write that cannot be done (`set` on `MSH-1`).
 * - `hl7.value`: a raw value that would break the message structure.
 * - `mllp.garbled`: bytes outside an MLLP frame, or a frame cut short by a new start byte.
 * - `mllp.frame_too_large`: an MLLP frame longer than the decoder's `maxFrameBytes`.
 */
export type Hl7ErrorCode = 'hl7.parse' | 'hl7.path' | 'hl7.value' | 'mllp.garbled' | 'mllp.frame_too_large';

/** The JSON form of an {@link Hl7Error} (what {@link Hl7Error.toJSON} returns). */
export interface Hl7ErrorJSON {
  name: string;
  code: string;
  kind: Hl7ErrorKind;
  message: string;
  details?: unknown;
}

/**
 * An error raised (or reported, for the MLLP decoder) by this lib.
 *
 * @example
 * ```ts
 * try { parseMessage(text); } catch (e) { if ((e as { code?: string }).code === 'hl7.parse') … }
 * ```
 */
export class Hl7Error extends Error {
  /** Stable, dotted error code, e.g. `'hl7.parse'`. Match on this. */
  readonly code: Hl7ErrorCode;
  /** What kind of failure this is. */
  readonly kind: Hl7ErrorKind;
  /** Extra JSON-serialisable data (the offending path, byte counts, …). */
  readonly details?: unknown;

  /**
   * @param code - stable error code
   * @param message - human-readable message
   * @param options - kind (default `'user'`), details and cause
   */
  constructor(code: Hl7ErrorCode, message: string, options: { kind?: Hl7ErrorKind; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Hl7Error';
    this.code = code;
    this.kind = options.kind ?? 'user';
    if (options.details !== undefined) this.details = options.details;
  }

  /** Plain-data form, safe for logs, worker messages and API answers. */
  toJSON(): Hl7ErrorJSON {
    const json: Hl7ErrorJSON = { name: this.name, code: this.code, kind: this.kind, message: this.message };
    if (this.details !== undefined) json.details = this.details;
    return json;
  }
}

/**
 * True when `e` carries one of this lib's codes (works on plain objects that crossed a thread
 * or the network, not only on {@link Hl7Error} instances).
 *
 * @param e - anything caught
 * @param code - a specific code to match; any `hl7.*` / `mllp.*` code when omitted
 */
export function isHl7Error(e: unknown, code?: Hl7ErrorCode): e is { code: Hl7ErrorCode; kind: Hl7ErrorKind; message: string } {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  if (typeof c !== 'string') return false;
  return code === undefined ? c.startsWith('hl7.') || c.startsWith('mllp.') : c === code;
}
