import { DEFAULT_DELIMITERS, encodingCharacters, type Hl7Delimiters } from './delimiters';
import { isHl7Error } from './errors';
import { escape } from './escape';
import { parseMessage, type Hl7Message } from './message';
import { parsePath } from './path';

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
  return parseMessage(buildAckText(msg, code, options));
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
  };
  return ackText(source, code, options);
}

/**
 * Builds an acknowledgment for input that could not be parsed (a garbled MLLP frame):
 * the first `MSH` found in it is used when one can be read (leading garbage is skipped),
 * otherwise a minimal MSH (`MSH|^~\&|||||<now>||ACK|<id>|P|2.5`) and an empty MSA-2.
 * Never throws for any input.
 *
 * @param raw - the input as received
 * @param code - MSA-1, usually `AR` or `AE`
 */
export function buildNack(raw: string | Uint8Array, code: Hl7AckCode, options: Hl7AckOptions = {}): Hl7Message {
  const msg = salvage(raw);
  if (msg !== undefined) return buildAck(msg, code, options);
  const d = DEFAULT_DELIMITERS;
  const minimal: AckSource = {
    d,
    encoding: encodingCharacters(d),
    sendingApp: '',
    sendingFacility: '',
    receivingApp: '',
    receivingFacility: '',
    trigger: '',
    controlId: '',
    processingId: '',
    version: '',
  };
  return parseMessage(ackText(minimal, code, options));
}

function salvage(raw: string | Uint8Array): Hl7Message | undefined {
  let text: string;
  try {
    return parseMessage(raw);
  } catch (e) {
    if (!isHl7Error(e)) return undefined;
  }
  try {
    text = typeof raw === 'string' ? raw : new TextDecoder('utf-8').decode(raw);
  } catch {
    return undefined;
  }
  let at = text.indexOf('MSH', 1);
  for (let tries = 0; at >= 0 && tries < 32; tries++) {
    try {
      return parseMessage(text.slice(at));
    } catch {
      at = text.indexOf('MSH', at + 1);
    }
  }
  return undefined;
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
