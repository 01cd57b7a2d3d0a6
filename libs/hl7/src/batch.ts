import { latin1Decode, latin1Encode } from './escape';
import { isHl7Error } from './errors';
import { parseMessage, type Hl7Message } from './message';
import type { Hl7Problem } from './validate';

/** A line of text: [start, end) without its terminator, and where the terminator run ends. */
interface Line {
  start: number;
  end: number;
  next: number;
}

function lines(text: string, from: number): Line[] {
  const out: Line[] = [];
  const n = text.length;
  let pos = from;
  while (pos < n) {
    let end = pos;
    while (end < n) {
      const c = text.charCodeAt(end);
      if (c === 13 || c === 10) break;
      end++;
    }
    let next = end;
    while (next < n) {
      const c = text.charCodeAt(next);
      if (c === 13 || c === 10) next++;
      else break;
    }
    if (text.slice(pos, end).trim() !== '') out.push({ start: pos, end, next });
    else if (out.length > 0) out[out.length - 1].next = next;
    pos = next;
  }
  return out;
}

function startOf(text: string): number {
  let start = 0;
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (start < text.length && text.charCodeAt(start) <= 0x20) start++;
  return start;
}

const BATCH_SEGMENTS = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

/**
 * Splits a batch file into its messages: HL7 batch files (`FHS`/`BHS` … `BTS`/`FTS`), and
 * also plain files holding several messages back to back. Every message starts at an `MSH`
 * line and runs to the next `MSH` or batch segment; it is returned with its original segment
 * terminators. Batch header/trailer segments and lines before the first `MSH` are left out.
 *
 * @param text - the file content (a leading BOM is skipped)
 */
export function splitBatch(text: string): string[] {
  const out: string[] = [];
  let msgStart = -1;
  let msgEnd = -1;
  for (const l of lines(text, startOf(text))) {
    const name = text.slice(l.start, l.start + 3);
    if (name === 'MSH' || BATCH_SEGMENTS.has(name)) {
      if (msgStart >= 0) out.push(text.slice(msgStart, msgEnd));
      msgStart = name === 'MSH' ? l.start : -1;
    }
    if (msgStart >= 0) msgEnd = l.next;
  }
  if (msgStart >= 0) out.push(text.slice(msgStart, msgEnd));
  return out;
}

/**
 * {@link splitBatch} on bytes, byte-exact whatever the charset: each message is the very bytes
 * of the file (a UTF-8 BOM at the start is skipped). Never decodes as UTF-8, so Latin-1 bytes
 * (0xFC for ü) are never turned into U+FFFD (EF BF BD). Works because everything the split
 * looks at (segment names, CR, LF) is ASCII, and no byte of a multi-byte UTF-8 character is.
 *
 * @param bytes - the file content
 */
export function splitBatchBytes(bytes: Uint8Array): Uint8Array[] {
  const body = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  // One char per byte, so each part maps back to exactly the bytes it came from.
  return splitBatch(latin1Decode(body)).map(latin1Encode);
}

/** A batch file read by {@link parseBatch}. */
export interface Hl7Batch {
  /** The `FHS` segment's text, when the file has one. */
  fileHeader?: string;
  /** The `FTS` segment's text, when the file has one. */
  fileTrailer?: string;
  /** Every `BHS` segment's text, in order. */
  batchHeaders: string[];
  /** Every `BTS` segment's text, in order. */
  batchTrailers: string[];
  /** The messages, parsed (lazily, as {@link parseMessage} does). */
  messages: Hl7Message[];
  /** Counts the trailers declare: `BTS-1` of each batch (message count) and `FTS-1` (batch count). */
  trailerCounts: { batches: (number | undefined)[]; file?: number };
  /** Count mismatches, missing trailers, stray lines and messages that could not be parsed. */
  problems: Hl7Problem[];
}

/**
 * Reads a batch file: headers, trailers, messages, and checks the trailer counts.
 * Never throws; what is wrong is listed in `problems` (codes `hl7.batch`, `hl7.parse`).
 */
export function parseBatch(text: string): Hl7Batch {
  const batch: Hl7Batch = { batchHeaders: [], batchTrailers: [], messages: [], trailerCounts: { batches: [] }, problems: [] };
  const problem = (path: string, message: string, severity: Hl7Problem['severity'] = 'warning'): void => {
    batch.problems.push({ path, code: 'hl7.batch', message, severity });
  };
  let inBatch = false;
  let batchMessages = 0;
  let msgStart = -1;
  let msgEnd = -1;
  const flush = (): void => {
    if (msgStart < 0) return;
    const raw = text.slice(msgStart, msgEnd);
    msgStart = -1;
    try {
      batch.messages.push(parseMessage(raw));
      batchMessages++;
    } catch (e) {
      batch.problems.push({ path: `MSH[${batch.messages.length + 1}]`, code: 'hl7.parse', message: isHl7Error(e) ? e.message : String(e), severity: 'error' });
    }
  };
  const count = (seg: string): number | undefined => {
    const fields = seg.split(seg[3] ?? '|');
    const v = (fields[1] ?? '').trim();
    return /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const closeBatch = (trailer: string | undefined): void => {
    const declared = trailer === undefined ? undefined : count(trailer);
    batch.trailerCounts.batches.push(declared);
    if (declared !== undefined && declared !== batchMessages) {
      problem(`BTS[${batch.batchTrailers.length}]-1`, `BTS-1 says ${declared} messages, the batch holds ${batchMessages}`);
    }
    inBatch = false;
  };
  for (const l of lines(text, startOf(text))) {
    const seg = text.slice(l.start, l.end);
    const name = seg.slice(0, 3);
    if (name === 'MSH') {
      flush();
      msgStart = l.start;
      msgEnd = l.next;
      continue;
    }
    if (!BATCH_SEGMENTS.has(name)) {
      if (msgStart >= 0) msgEnd = l.next;
      else problem(`line ${text.slice(0, l.start).split(/\r\n|\r|\n/).length}`, `A ${name || 'blank'} line outside any message was ignored`);
      continue;
    }
    flush();
    if (name === 'FHS') {
      if (batch.fileHeader !== undefined) problem('FHS', 'A second FHS segment');
      batch.fileHeader = seg;
    } else if (name === 'BHS') {
      if (inBatch) {
        problem(`BHS[${batch.batchHeaders.length}]`, 'A batch without a BTS trailer');
        closeBatch(undefined);
      }
      batch.batchHeaders.push(seg);
      inBatch = true;
      batchMessages = 0;
    } else if (name === 'BTS') {
      batch.batchTrailers.push(seg);
      if (!inBatch) problem(`BTS[${batch.batchTrailers.length}]`, 'A BTS segment without a BHS header');
      closeBatch(seg);
    } else {
      if (inBatch) {
        problem(`BHS[${batch.batchHeaders.length}]`, 'A batch without a BTS trailer');
        closeBatch(undefined);
      }
      batch.fileTrailer = seg;
      const declared = count(seg);
      batch.trailerCounts.file = declared;
      if (declared !== undefined && declared !== batch.batchHeaders.length) {
        problem('FTS-1', `FTS-1 says ${declared} batches, the file holds ${batch.batchHeaders.length}`);
      }
    }
  }
  flush();
  if (inBatch) {
    problem(`BHS[${batch.batchHeaders.length}]`, 'A batch without a BTS trailer');
    closeBatch(undefined);
  }
  if (batch.fileHeader !== undefined && batch.fileTrailer === undefined) problem('FTS', 'A file header (FHS) without a file trailer (FTS)');
  return batch;
}
