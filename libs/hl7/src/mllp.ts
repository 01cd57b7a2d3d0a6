import { Hl7Error } from './errors';

/** MLLP start block: vertical tab. */
export const MLLP_START = 0x0b;
/** MLLP end block: file separator. */
export const MLLP_END = 0x1c;
/** Carriage return that follows the end block. */
export const MLLP_CR = 0x0d;
/** Default {@link MllpDecoderOptions.maxFrameBytes}: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const utf8Encoder = new TextEncoder();

/**
 * Wraps a payload in an MLLP frame: `0x0B` + payload + `0x1C 0x0D`. A string is encoded as UTF-8.
 * @see https://www.hl7.org/documentcenter/public/wg/inm/mllp_transport_specification.PDF
 */
export function encodeMllp(payload: string | Uint8Array): Uint8Array {
  if (typeof payload === 'string') {
    // Encode straight into the frame (no intermediate copy); UTF-8 needs at most 3 bytes a char.
    const frame = new Uint8Array(payload.length * 3 + 3);
    frame[0] = MLLP_START;
    const { written } = utf8Encoder.encodeInto(payload, frame.subarray(1, frame.length - 2));
    frame[written + 1] = MLLP_END;
    frame[written + 2] = MLLP_CR;
    return frame.subarray(0, written + 3);
  }
  const body = payload;
  const out = new Uint8Array(body.length + 3);
  out[0] = MLLP_START;
  out.set(body, 1);
  out[body.length + 1] = MLLP_END;
  out[body.length + 2] = MLLP_CR;
  return out;
}

/** What {@link MllpDecoder.push} reports: a whole frame's payload, or a problem in the stream. */
export type MllpEvent =
  | { kind: 'frame'; payload: Uint8Array }
  | {
      kind: 'error';
      error: Hl7Error;
      /**
       * For a frame the decoder dropped (too large, or cut short by a new start block): its first
       * bytes, at most {@link MllpDecoderOptions.keepDroppedBytes} (absent when that is not set).
       */
      dropped?: Uint8Array;
    };

/** Options of {@link MllpDecoder}. */
export interface MllpDecoderOptions {
  /**
   * Largest payload accepted; a longer frame is reported (`mllp.frame_too_large`) and skipped.
   * It also bounds what the decoder ever holds.
   * @defaultValue 16 MiB ({@link DEFAULT_MAX_FRAME_BYTES})
   */
  maxFrameBytes?: number;
  /**
   * Keep the first bytes of a dropped frame (at most this many) on its error event, so a listener
   * can store what it refused instead of losing it without a trace (0: an empty `dropped`, still
   * telling a dropped frame from stray bytes).
   * @defaultValue not set (no `dropped` on events)
   */
  keepDroppedBytes?: number;
}

const OUTSIDE = 0;
const IN_FRAME = 1;
const DISCARDING = 2;

/**
 * Streaming MLLP decoder: push the bytes as they arrive, get back the frames they complete.
 * It never throws on any input and never holds more than `maxFrameBytes`.
 *
 * - A frame is `0x0B` … `0x1C`; the `0x0D` after `0x1C` is expected and swallowed, and a
 *   frame whose `0x1C` is followed by something else still ends there (lenient: the `0x1C`
 *   cannot occur inside HL7 text).
 * - Bytes between frames are dropped. Whitespace (CR, LF, space, tab) is dropped silently;
 *   any other run of bytes is reported once as an `mllp.garbled` error event.
 * - A `0x0B` inside a frame means the sender started over: the unfinished frame is dropped,
 *   reported as `mllp.garbled`, and the new frame begins.
 * - A frame longer than `maxFrameBytes` is reported once as `mllp.frame_too_large`; its bytes
 *   are dropped up to its end block (or the next `0x0B`, if the sender started over).
 * - A frame that lies entirely within one pushed chunk is returned as a view (`subarray`) of
 *   that chunk, without copying: do not reuse a chunk's memory after pushing it if you keep
 *   the payloads. Frames spanning chunks are copied into a new array.
 */
export class MllpDecoder {
  private readonly max: number;
  private readonly keep: number;
  private state = OUTSIDE;
  private parts: Uint8Array[] = [];
  private size = 0;
  /** Inside a run of garbage that has been reported already. */
  private inGarbage = false;
  /** The previous chunk ended with an end block: a CR may open the next one. */
  private skipCr = false;

  constructor(options: MllpDecoderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.max = Number.isFinite(max) && max > 0 ? Math.floor(max) : DEFAULT_MAX_FRAME_BYTES;
    // -1: not asked (no `dropped` on events); 0 and up: that many bytes, possibly none.
    const keep = options.keepDroppedBytes;
    this.keep = keep === undefined || !Number.isFinite(keep) ? -1 : Math.max(0, Math.floor(keep));
  }

  /**
   * The frame under way (started, not ended): its first bytes, at most `maxBytes`, and how many it
   * holds. For a listener whose connection closes mid-frame, so the cut-off frame can be kept.
   * `undefined` when no frame is under way (or it is an oversize frame being skipped).
   */
  unfinished(maxBytes: number): { head: Uint8Array; size: number } | undefined {
    if (this.state !== IN_FRAME) return undefined;
    return { head: this.head(new Uint8Array(0), maxBytes), size: this.size };
  }

  /** Bytes held for the frame being received. */
  get buffered(): number {
    return this.size;
  }

  /**
   * A start block has been seen and its end block not yet: a frame is under way (including one
   * being skipped for being too large). Lets a listener put a deadline on finishing a frame.
   */
  get inFrame(): boolean {
    return this.state !== OUTSIDE;
  }

  /** Forgets any partial frame and state (e.g. when the connection is replaced). */
  reset(): void {
    this.state = OUTSIDE;
    this.parts = [];
    this.size = 0;
    this.inGarbage = false;
    this.skipCr = false;
  }

  /**
   * Feeds bytes from the stream.
   * @returns the frames completed and the problems found, in stream order (often empty)
   */
  push(chunk: Uint8Array): MllpEvent[] {
    const events: MllpEvent[] = [];
    const n = chunk.length;
    let pos = 0;
    if (this.skipCr && n > 0) {
      if (chunk[0] === MLLP_CR) pos = 1;
      this.skipCr = false;
    }
    while (pos < n) {
      if (this.state === OUTSIDE) {
        const s = chunk.indexOf(MLLP_START, pos);
        const stop = s === -1 ? n : s;
        if (!this.inGarbage && stop > pos && !isWhitespace(chunk, pos, stop)) {
          this.inGarbage = true;
          events.push({ kind: 'error', error: new Hl7Error('mllp.garbled', 'Bytes outside an MLLP frame were dropped', { details: { offset: pos } }) });
        }
        if (s === -1) break;
        this.inGarbage = false;
        this.state = IN_FRAME;
        pos = s + 1;
      } else if (this.state === IN_FRAME) {
        const e = chunk.indexOf(MLLP_END, pos);
        const stop = e === -1 ? n : e;
        const s = chunk.indexOf(MLLP_START, pos);
        if (s !== -1 && s < stop) {
          events.push(this.withDropped({ kind: 'error', error: new Hl7Error('mllp.garbled', 'An MLLP frame was cut short by a new start block; its bytes were dropped', { details: { bytes: this.size + s - pos } }) }, chunk.subarray(pos, s)));
          this.drop();
          pos = s + 1;
          continue;
        }
        const len = stop - pos;
        if (this.size + len > this.max) {
          events.push(this.withDropped({ kind: 'error', error: new Hl7Error('mllp.frame_too_large', `An MLLP frame is larger than ${this.max} bytes; it was dropped`, { details: { maxFrameBytes: this.max } }) }, chunk.subarray(pos, stop)));
          this.drop();
          this.state = DISCARDING;
          pos = stop;
          continue;
        }
        if (e === -1) {
          // Copy: a partial frame must not pin the caller's (possibly large or reused) chunk.
          this.parts.push(chunk.slice(pos));
          this.size += len;
          break;
        }
        events.push({ kind: 'frame', payload: this.parts.length === 0 ? chunk.subarray(pos, e) : this.concat(chunk.subarray(pos, e)) });
        this.drop();
        pos = this.endFrame(chunk, e);
      } else {
        // Skipping an oversize frame: it ends at its end block, or where a new frame starts.
        const s = chunk.indexOf(MLLP_START, pos);
        const e = chunk.indexOf(MLLP_END, pos);
        if (e !== -1 && (s === -1 || e < s)) {
          pos = this.endFrame(chunk, e);
          continue;
        }
        if (s === -1) break;
        this.state = IN_FRAME;
        pos = s + 1;
      }
    }
    return events;
  }

  /** Leaves the frame whose end block is at `end`; swallows the CR after it, even in the next chunk. */
  private endFrame(chunk: Uint8Array, end: number): number {
    this.state = OUTSIDE;
    const pos = end + 1;
    if (pos >= chunk.length) {
      this.skipCr = true;
      return pos;
    }
    return chunk[pos] === MLLP_CR ? pos + 1 : pos;
  }

  /** The event, with the first bytes of the frame being dropped (held parts, then `tail`) when asked to keep them. */
  private withDropped(event: MllpEvent & { kind: 'error' }, tail: Uint8Array): MllpEvent {
    if (this.keep >= 0) event.dropped = this.head(tail, this.keep);
    return event;
  }

  /** The first `max` bytes of the held parts followed by `tail` (a copy). */
  private head(tail: Uint8Array, max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.size + tail.length));
    let at = 0;
    for (const p of [...this.parts, tail]) {
      if (at >= out.length) break;
      const n = Math.min(p.length, out.length - at);
      out.set(p.subarray(0, n), at);
      at += n;
    }
    return out;
  }

  private drop(): void {
    if (this.size > 0 || this.parts.length > 0) {
      this.parts = [];
      this.size = 0;
    }
  }

  private concat(tail: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.size + tail.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    out.set(tail, at);
    return out;
  }
}

function isWhitespace(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}
