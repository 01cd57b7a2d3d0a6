import { decodeHl7Bytes, encodeText, rawMshFields, type Hl7Charset } from './charset';
import { DEFAULT_DELIMITERS, encodingCharacters, type Hl7Delimiters } from './delimiters';
import { isHl7Error } from './errors';
import { escape } from './escape';
import { parseMessage, type Hl7Message } from './message';
import { parsePath } from './path';
import type { Hl7Problem } from './validate';

/**
 * Acknowledgment codes (MSA-1): `AA`/`AE`/`AR` original mode (application accept / error /
 * reject), `CA`/`CE`/`CR` enhanced mode commit accept / error / reject.
 * @see https://hl7-definition.caristix.com/v2/HL7v2.5.1/Tables/0008
 */
export type Hl7AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

/** An error to report in the ACK's ERR segment. */
export interface Hl7AckError {
  /**
   * HL7 error code (table 0357), e.g. `'101'` required field missing, `'207'` application internal error.
   * @defaultValue `'207'`
   */
  code?: string;
  /** Human-readable message, written to ERR-8 (and MSA-3 when no `text` is given). */
  message: string;
  /** ERR-4 severity: error, warning, information. @defaultValue `'E'` */
  severity?: 'E' | 'W' | 'I';
  /** Where the error is: an HL7 path (`PID-3[2].1`, written as an ERL in ERR-2) or free text. */
  location?: string;
}

/** Options of {@link buildAck} and {@link buildNack}. */
export interface Hl7AckOptions {
  /** MSA-3 text message. @defaultValue `error.message`, when an error is given */
  text?: string;
  /** Adds an ERR segment. */
  error?: Hl7AckError;
  /** MSH-10 of the ACK. @defaultValue a new unique id (at most 20 characters) */
  controlId?: string;
}

/** HL7 table 0357 (message error condition codes), for ERR-3.2. */
const ERROR_TEXT: Readonly<Record<string, string>> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '104': 'Value too long',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

/** The MSH parts of the message being acknowledged, as raw (encoded) field text. */
interface AckSource {
  d: Hl7Delimiters;
  encoding: string;
  sendingApp: string;
  sendingFacility: string;
  receivingApp: string;
  receivingFacility: string;
  trigger: string;
  controlId: string;
  processingId: string;
  version: string;
  /** MSH-18 as written, echoed so the ACK declares the charset it is written in. */
  charsetField: string;
}

let counter = 0;

/** A new message control id: time, a counter and randomness, base 36, at most 20 characters. */
export function newControlId(): string {
  counter = (counter + 1) % 1296;
  const rnd = Math.floor(Math.random() * 0x81bf1000) // 36^6
    .toString(36)
    .padStart(6, '0');
  return (Date.now().toString(36) + counter.toString(36).padStart(2, '0') + rnd).toUpperCase();
}

/** Local time as `YYYYMMDDHHMMSS` (HL7 DTM, second precision). */
export function hl7Timestamp(date?: Date): string {
  if (date) return formatTimestamp(date);
  // Hot path (every ACK): format "now" once per second.
  const second = Math.floor(Date.now() / 1000);
  if (second !== nowSecond) {
    nowSecond = second;
    nowText = formatTimestamp(new Date(second * 1000));
  }
  return nowText;
}

let nowSecond = -1;
let nowText = '';

function formatTimestamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/**
 * Builds the acknowledgment of a message.
 *
 * - MSH: the original delimiters; sender and receiver swapped (MSH-3/4 ← original MSH-5/6,
 *   MSH-5/6 ← original MSH-3/4); MSH-7 now (local time, `YYYYMMDDHHMMSS`);
 *   MSH-9 `ACK^<original trigger>^ACK` (`ACK` alone when the original has no trigger);
 *   MSH-10 `options.controlId` or a new id; MSH-11 and MSH-12 copied (`P` and `2.5` when empty).
 * - MSA: MSA-1 the code, MSA-2 the original MSH-10, MSA-3 `options.text` (or the error message).
 * - ERR, when `options.error` is given, v2.5 style: ERR-2 location, ERR-3 `code^text^HL70357`,
 *   ERR-4 severity, ERR-8 the message. (ERR-1, the pre-2.5 form, is left empty.)
 * - Segments end with CR, the last one included.
 *
 * @param msg - the message to acknowledge
 * @param code - MSA-1
 */
export function buildAck(msg: Hl7Message, code: Hl7AckCode, options: Hl7AckOptions = {}): Hl7Message {
  // From bytes, so the ACK's toBytes() writes the original's charset even when MSH-18 is empty.
  return parseMessage(buildAckBytes(msg, code, options));
}

/** {@link buildAck} as text, for the hot path (an MLLP listener writes it straight out). */
export function buildAckText(msg: Hl7Message, code: Hl7AckCode, options: Hl7AckOptions = {}): string {
  const msh = msg.segments('MSH')[0];
  const raw = (n: number): string => msh.field(n) ?? '';
  const source: AckSource = {
    d: msg.delimiters,
    encoding: raw(2),
    sendingApp: raw(3),
    sendingFacility: raw(4),
    receivingApp: raw(5),
    receivingFacility: raw(6),
    trigger: escape(msh.get(9, 2) ?? '', msg.delimiters),
    controlId: raw(10),
    processingId: raw(11),
    version: raw(12),
    charsetField: raw(18),
  };
  return ackText(source, code, options);
}

/**
 * {@link buildAck} as bytes in the acknowledged message's own charset ({@link Hl7Message.charset}),
 * with its MSH-18 echoed: a Latin-1 sender whose MSH-3 is `Mü` (0xFC) gets 0xFC back in MSH-5,
 * not the UTF-8 pair C3 BC. What an MLLP listener writes.
 */
export function buildAckBytes(msg: Hl7Message, code: Hl7AckCode, options: Hl7AckOptions = {}): Uint8Array {
  return encodeText(buildAckText(msg, code, options), msg.charset);
}

/**
 * Builds an acknowledgment for input that could not be parsed (a garbled MLLP frame):
 * the first `MSH` found in it is used when one can be read (leading garbage is skipped).
 * Otherwise the ACK has standard delimiters and the MSH fields that can still be found by
 * splitting the MSH line on its field separator: above all MSA-2 = MSH-10, because clients
 * (Medplum's among them) match an ACK to its message by MSA-2 and wait forever without it;
 * also MSH-3…6 (swapped), MSH-11, MSH-12 and MSH-18. Failing that, a minimal MSH
 * (`MSH|^~\&|||||<now>||ACK|<id>|P|2.5`) and an empty MSA-2. Bytes are read losslessly (see
 * {@link decodeHl7Bytes}) and the ACK's {@link Hl7Message.toBytes} writes the same charset.
 * Never throws for any input.
 *
 * @param raw - the input as received
 * @param code - MSA-1, usually `AR` or `AE`
 */
export function buildNack(raw: string | Uint8Array, code: Hl7AckCode, options: Hl7AckOptions = {}): Hl7Message {
  let text: string;
  let charset: Hl7Charset = 'utf-8';
  if (typeof raw === 'string') text = raw;
  else ({ text, charset } = decodeHl7Bytes(raw));
  const msg = salvage(raw, text, charset);
  if (msg !== undefined) return buildAck(msg, code, options);
  const d = DEFAULT_DELIMITERS;
  const f = rawMshFields(text) ?? [];
  // The sender's delimiters are unreadable: each value is written as one escaped text.
  const field = (n: number): string => escape(f[n - 1] ?? '', d);
  const minimal: AckSource = {
    d,
    encoding: encodingCharacters(d),
    sendingApp: field(3),
    sendingFacility: field(4),
    receivingApp: field(5),
    receivingFacility: field(6),
    trigger: '',
    controlId: field(10),
    processingId: field(11),
    version: field(12),
    charsetField: field(18),
  };
  return parseMessage(encodeText(ackText(minimal, code, options), charset));
}

function salvage(raw: string | Uint8Array, text: string, charset: Hl7Charset): Hl7Message | undefined {
  try {
    return parseMessage(raw);
  } catch (e) {
    if (!isHl7Error(e)) return undefined;
  }
  let at = text.indexOf('MSH', 1);
  for (let tries = 0; at >= 0 && tries < 32; tries++) {
    try {
      // Back to bytes (lossless), so the ACK is written in the sender's charset.
      return parseMessage(typeof raw === 'string' ? text.slice(at) : encodeText(text.slice(at), charset));
    } catch {
      at = text.indexOf('MSH', at + 1);
    }
  }
  return undefined;
}

/**
 * The HL7 error code (table 0357, for ERR-3) that fits an error: a message that does not start
 * with MSH is a segment sequence error (`100`), unreadable delimiters or a value that breaks the
 * structure a data type error (`102`), anything else an application internal error (`207`).
 *
 * @param e - anything caught (matched by `code` and `details.reason`, so it works across threads)
 */
export function ackErrorCode(e: unknown): string {
  if (isHl7Error(e, 'hl7.parse')) {
    const reason = (e as { details?: { reason?: unknown } }).details?.reason;
    return reason === 'delimiters' ? '102' : '100';
  }
  if (isHl7Error(e, 'hl7.value')) return '102';
  return '207';
}

/** Validation problem codes ({@link Hl7Problem.code}) → HL7 table 0357. */
const PROBLEM_CODES: Readonly<Record<string, string>> = {
  'hl7.required': '101',
  'hl7.structure': '100',
  'hl7.segment_name': '100',
  'hl7.date': '102',
  'hl7.value': '103',
  'hl7.version': '203',
};

/**
 * The HL7 error code (table 0357, for ERR-3) of a validation problem: `101` required field
 * missing, `100` segment sequence, `102` data type (an impossible date), `103` table value,
 * `202` unsupported processing id (MSH-11), `203` unsupported version (MSH-12), else `207`.
 */
export function problemAckCode(problem: Hl7Problem): string {
  if (problem.code === 'hl7.value' && problem.path.startsWith('MSH-11')) return '202';
  return PROBLEM_CODES[problem.code] ?? '207';
}

function ackText(src: AckSource, code: Hl7AckCode, options: Hl7AckOptions): string {
  const { d } = src;
  const fs = d.field;
  const cs = d.component;
  const msh = [
    'MSH',
    src.encoding,
    src.receivingApp,
    src.receivingFacility,
    src.sendingApp,
    src.sendingFacility,
    hl7Timestamp(),
    '',
    src.trigger === '' ? 'ACK' : `ACK${cs}${src.trigger}${cs}ACK`,
    escape(options.controlId ?? newControlId(), d),
    src.processingId === '' ? 'P' : src.processingId,
    src.version === '' ? '2.5' : src.version,
  ];
  if (src.charsetField !== '') msh.push('', '', '', '', '', src.charsetField);
  const text = options.text ?? options.error?.message;
  const msa = ['MSA', code, src.controlId];
  if (text !== undefined && text !== '') msa.push(escape(text, d));
  let out = msh.join(fs) + '\r' + msa.join(fs) + '\r';
  const err = options.error;
  if (err !== undefined) {
    const errCode = err.code ?? '207';
    const fields = [
      'ERR',
      '',
      err.location === undefined ? '' : location(err.location, d),
      [escape(errCode, d), escape(ERROR_TEXT[errCode] ?? '', d), 'HL70357'].join(cs),
      err.severity ?? 'E',
      '',
      '',
      '',
      escape(err.message, d),
    ];
    out += fields.join(fs) + '\r';
  }
  return out;
}

/** An HL7 path becomes an ERL (`PID^1^3^2^1`); anything else is written as escaped text. */
function location(loc: string, d: Hl7Delimiters): string {
  try {
    const p = parsePath(loc);
    const parts = [p.segment, String(p.segmentIndex ?? 1)];
    if (p.field !== undefined) {
      parts.push(String(p.field), String(p.repetition ?? 1));
      if (p.component !== undefined) parts.push(String(p.component));
      if (p.subcomponent !== undefined) parts.push(String(p.subcomponent));
    }
    return parts.join(d.component);
  } catch {
    return escape(loc, d);
  }
}
