import { latin1Decode } from './escape';
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
  // Copies, not views: a caller may keep one message without pinning the whole file.
  return parseBatchBytes(bytes).messages.map((m) => m.slice());
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
  const messages: Hl7Message[] = [];
  const layout = readBatch(text, (start, end, problems) => {
    try {
      messages.push(parseMessage(text.slice(start, end)));
      return true;
    } catch (e) {
      problems.push({ path: `MSH[${messages.length + 1}]`, code: 'hl7.parse', message: isHl7Error(e) ? e.message : String(e), severity: 'error' });
      return false;
    }
  });
  return { ...layout, messages };
}

/** A batch read from bytes by {@link parseBatchBytes}: like {@link Hl7Batch}, with each message as its own bytes. */
export interface Hl7BatchBytes extends Omit<Hl7Batch, 'messages'> {
  /** Each message's bytes exactly as received (views of the input, terminators included). */
  messages: Uint8Array[];
  /** The batch's control id: BHS-11 of the first batch, else FHS-11, when present. */
  controlId?: string;
}

/**
 * {@link parseBatch} on bytes, without decoding them: every message comes back as the exact bytes
 * it had (any ASCII-compatible character set: segment names and terminators are ASCII), so
 * ISO-8859-1 or UTF-8 content is never re-encoded. Messages are not parsed; trailer counts are
 * checked against the messages present. Header and trailer segments are read one byte per character.
 * Never throws.
 */
export function parseBatchBytes(bytes: Uint8Array): Hl7BatchBytes {
  // A UTF-8 BOM is three bytes here, not U+FEFF: skip it before reading bytes as characters.
  const from = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const text = latin1Decode(from === 0 ? bytes : bytes.subarray(from));
  const messages: Uint8Array[] = [];
  const layout = readBatch(text, (start, end) => {
    messages.push(bytes.subarray(from + start, from + end));
    return true;
  });
  const controlId = (fieldOf(layout.batchHeaders[0], 11) || fieldOf(layout.fileHeader, 11)) || undefined;
  return { ...layout, messages, ...(controlId ? { controlId } : {}) };
}

/**
 * True when the bytes start (after a BOM and whitespace) with a batch header, `FHS` or `BHS`: a
 * batch, which does not parse as one message. Messages back to back after an `MSH` are told by
 * {@link holdsSeveralMessages} on the parse instead; input starting with anything else is not HL7.
 */
export function startsWithBatchHeader(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && bytes[i] <= 0x20) i++;
  return startsBatchHeader(bytes, i);
}

/**
 * True when a parsed message holds a second `MSH` or a batch segment (`FHS`, `BHS`, `BTS`, `FTS`):
 * it is really several messages read as one. Cheap: the parse has split the segments already.
 */
export function holdsSeveralMessages(msg: Hl7Message): boolean {
  const segs = msg.segments();
  for (let i = 1; i < segs.length; i++) {
    const name = segs[i].name;
    if (name === 'MSH' || BATCH_SEGMENTS.has(name)) return true;
  }
  return false;
}

/** `FHS` or `BHS` at `at`, as a whole segment name (a field separator follows, not a letter or digit). */
function startsBatchHeader(b: Uint8Array, at: number): boolean {
  if (at + 3 >= b.length) return false;
  const x = b[at];
  if (!((x === 0x46 || x === 0x42) && b[at + 1] === 0x48 && b[at + 2] === 0x53)) return false;
  const next = b[at + 3];
  return !((next >= 0x30 && next <= 0x39) || (next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a));
}

/** Field `n` of a batch header (FHS-n/BHS-n: the name is field 0, FHS-1 the separator itself). */
function fieldOf(segment: string | undefined, n: number): string {
  if (!segment || segment.length < 4) return '';
  return (segment.split(segment[3])[n - 1] ?? '').trim();
}

/** What {@link readBatch} finds besides the messages. */
type BatchLayout = Omit<Hl7Batch, 'messages'>;

/**
 * The one reading of a batch, shared by {@link parseBatch} and {@link parseBatchBytes}: headers,
 * trailers, the checks of their counts, and each message's [start, end) handed to `take`, which
 * says whether it counts as a message of its batch (a message that does not parse does not).
 */
function readBatch(text: string, take: (start: number, end: number, problems: Hl7Problem[]) => boolean): BatchLayout {
  const batch: BatchLayout = { batchHeaders: [], batchTrailers: [], trailerCounts: { batches: [] }, problems: [] };
  const problem = (path: string, message: string, severity: Hl7Problem['severity'] = 'warning'): void => {
    batch.problems.push({ path, code: 'hl7.batch', message, severity });
  };
  let inBatch = false;
  let batchMessages = 0;
  let msgStart = -1;
  let msgEnd = -1;
  const flush = (): void => {
    if (msgStart < 0) return;
    const start = msgStart;
    msgStart = -1;
    if (take(start, msgEnd, batch.problems)) batchMessages++;
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
