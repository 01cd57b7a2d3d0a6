import { latin1Decode, utf8Decode, type Encoding } from './bytes';

/**
 * A tiny reader for the header segment of an HL7 v2 ER7 message: just enough to fill an
 * envelope header on the hot path, without parsing the message (that is @hie/hl7's job).
 * Field numbers are 1-based as in the spec: MSH-1 is the field separator itself, so MSH-n is
 * the n-th piece of the segment split on that separator, counting the segment name as MSH-0.
 *
 * @see https://hl7-definition.caristix.com/v2/HL7v2.5.1/Segments/MSH
 */
export interface Hl7HeaderInfo {
  /** The segment read: `MSH`, or `FHS`/`BHS` for a batch (then MSH fields come from its first MSH). */
  segment: 'MSH' | 'FHS' | 'BHS';
  /** MSH-1, usually `|`. */
  fieldSeparator: string;
  /** MSH-2, usually `^~\&`. */
  encodingCharacters: string;
  /** MSH-3.1 */
  sendingApplication?: string;
  /** MSH-4.1 */
  sendingFacility?: string;
  /** MSH-5.1 */
  receivingApplication?: string;
  /** MSH-6.1 */
  receivingFacility?: string;
  /** MSH-9.1 and MSH-9.2 joined with `^` (`'ADT^A01'`), always with `^` whatever the component separator. */
  messageType?: string;
  /** MSH-9.3 when present, else `ADT_A01` built from MSH-9.1 and MSH-9.2 (or MSH-9.1 alone). For a batch: `HL7_BATCH`. */
  structure?: string;
  /** MSH-10 (FHS-11/BHS-11 for a batch): the message control id. */
  controlId?: string;
  /** MSH-11.1: `P`, `T`, `D`. */
  processingId?: string;
  /** MSH-12.1: `2.5.1`. */
  version?: string;
  /** MSH-18 (first repetition) as an envelope encoding, when recognised. */
  encoding?: Encoding;
}

const CR = 0x0d;
const LF = 0x0a;

/** Offset of the first byte after a UTF-8 BOM, MLLP start block (VT) and blank lines. */
function skipLeadBytes(bytes: Uint8Array): number {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b !== CR && b !== LF && b !== 0x0b && b !== 0x20 && b !== 0x09) break;
    i++;
  }
  return i;
}

function skipLeadChars(text: string): number {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== CR && c !== LF && c !== 0x0b && c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

function segmentEndBytes(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] === CR || bytes[i] === LF) return i;
  }
  return bytes.length;
}

function segmentEndChars(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CR || c === LF) return i;
  }
  return text.length;
}

/**
 * Bytes → text: latin1 for pure ASCII (fastest); else latin1 when the segment declares a
 * one-byte charset in MSH-18 (`8859/1`, `ASCII`: its bytes may be valid UTF-8 by chance, as
 * C3 BC is "Ã¼"), else UTF-8, else (invalid UTF-8) latin1. Must agree with @hie/hl7's
 * `decodeHl7Bytes`, which reads the whole message the same way.
 */
function decodeSegment(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      const bytewise = latin1Decode(bytes);
      const declared = bytewise.startsWith('MSH') ? msh18Encoding(bytewise.split(bytewise.charAt(3))) : undefined;
      if (declared === 'latin1' || declared === 'ascii') return bytewise;
      const text = utf8Decode(bytes);
      return text.includes('\ufffd') ? bytewise : text;
    }
  }
  return latin1Decode(bytes);
}

/** The envelope encoding MSH-18 declares (first repetition), if known; `fields` is the MSH line split on MSH-1. */
function msh18Encoding(fields: string[]): Encoding | undefined {
  const charsetField = fields[17];
  if (!charsetField) return undefined;
  const rep = charsetField.indexOf((fields[1] ?? '').charAt(1) || '~');
  return CHARSETS[(rep < 0 ? charsetField : charsetField.slice(0, rep)).trim().toUpperCase()];
}

/** Start of the first segment named `name` after the first one, or -1. */
function findSegmentBytes(bytes: Uint8Array, from: number, name: string): number {
  const a = name.charCodeAt(0);
  const b = name.charCodeAt(1);
  const c = name.charCodeAt(2);
  for (let i = from; i + 3 < bytes.length; i++) {
    const t = bytes[i];
    if ((t === CR || t === LF) && bytes[i + 1] === a && bytes[i + 2] === b && bytes[i + 3] === c) return i + 1;
  }
  return -1;
}

function findSegmentChars(text: string, from: number, name: string): number {
  const cr = text.indexOf(`\r${name}`, from);
  const lf = text.indexOf(`\n${name}`, from);
  const at = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
  return at < 0 ? -1 : at + 1;
}

/** MSH-18 names (HL7 table 0211) → envelope encodings; the same names as @hie/hl7's `charsetOf` (this lib may not import it). */
const CHARSETS: Readonly<Record<string, Encoding>> = {
  'UNICODE UTF-8': 'utf-8',
  'UTF-8': 'utf-8',
  '8859/1': 'latin1',
  'ISO-8859-1': 'latin1',
  'ISO IR100': 'latin1',
  ASCII: 'ascii',
  'ISO IR6': 'ascii',
};

function firstComponent(field: string | undefined, componentSeparator: string): string | undefined {
  if (field === undefined || field === '') return undefined;
  const end = field.indexOf(componentSeparator);
  const value = end < 0 ? field : field.slice(0, end);
  return value === '' ? undefined : value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Reads the MSH fields of one segment's text (which starts with `MSH`). No closures: hot path. */
function readMsh(segment: string, info: Hl7HeaderInfo): void {
  const fs = segment.charAt(3);
  const fields = segment.split(fs);
  const enc = fields[1] ?? '';
  const cs = enc.charAt(0) || '^';
  info.fieldSeparator = fs;
  info.encodingCharacters = enc;
  let value = firstComponent(fields[2], cs);
  if (value !== undefined) info.sendingApplication = value;
  value = firstComponent(fields[3], cs);
  if (value !== undefined) info.sendingFacility = value;
  value = firstComponent(fields[4], cs);
  if (value !== undefined) info.receivingApplication = value;
  value = firstComponent(fields[5], cs);
  if (value !== undefined) info.receivingFacility = value;
  const type = fields[8];
  if (type && info.segment === 'MSH') {
    const parts = type.split(cs);
    const code = parts[0] ?? '';
    const trigger = parts[1] ?? '';
    if (code) {
      info.messageType = trigger ? `${code}^${trigger}` : code;
      info.structure = parts[2] || (trigger ? `${code}_${trigger}` : code);
    }
  }
  if (info.segment === 'MSH') {
    value = nonEmpty(fields[9]);
    if (value !== undefined) info.controlId = value;
  }
  value = firstComponent(fields[10], cs);
  if (value !== undefined) info.processingId = value;
  value = firstComponent(fields[11], cs);
  if (value !== undefined) info.version = value;
  const encoding = msh18Encoding(fields);
  if (encoding !== undefined) info.encoding = encoding;
}

/** Reads FHS/BHS fields we care about (control id at -11). */
function readBatchHeader(segment: string, info: Hl7HeaderInfo): void {
  const fs = segment.charAt(3);
  const fields = segment.split(fs);
  info.fieldSeparator = fs;
  info.encodingCharacters = fields[1] ?? '';
  info.structure = 'HL7_BATCH';
  const controlId = nonEmpty(fields[10]);
  if (controlId !== undefined) info.controlId = controlId;
}

function segmentName(a: number, b: number, c: number): 'MSH' | 'FHS' | 'BHS' | undefined {
  if (a === 0x4d && b === 0x53 && c === 0x48) return 'MSH';
  if (a === 0x46 && b === 0x48 && c === 0x53) return 'FHS';
  if (a === 0x42 && b === 0x48 && c === 0x53) return 'BHS';
  return undefined;
}

/**
 * Reads the header of an HL7 v2 ER7 message (or batch) from its bytes or text. Cheap: only the
 * header segment is decoded and split. Tolerates a UTF-8 BOM, an MLLP start byte, blank lines
 * and CR, LF or CRLF segment terminators. Returns `undefined` when the data does not start
 * with an `MSH`, `FHS` or `BHS` segment.
 */
export function readHl7Header(raw: string | Uint8Array): Hl7HeaderInfo | undefined {
  const isText = typeof raw === 'string';
  let end: number;
  let first: string;
  if (isText) {
    const start = skipLeadChars(raw);
    end = segmentEndChars(raw, start);
    first = raw.slice(start, end);
  } else {
    const start = skipLeadBytes(raw);
    end = segmentEndBytes(raw, start);
    first = decodeSegment(raw.subarray(start, end));
  }
  if (first.length < 4) return undefined;
  const segment = segmentName(first.charCodeAt(0), first.charCodeAt(1), first.charCodeAt(2));
  if (segment === undefined) return undefined;
  const info: Hl7HeaderInfo = { segment, fieldSeparator: first.charAt(3), encodingCharacters: '' };
  if (segment === 'MSH') {
    readMsh(first, info);
    return info;
  }
  readBatchHeader(first, info);
  let msh: string | undefined;
  if (isText) {
    const at = findSegmentChars(raw, end, 'MSH');
    if (at >= 0) msh = raw.slice(at, segmentEndChars(raw, at));
  } else {
    const at = findSegmentBytes(raw, end, 'MSH');
    if (at >= 0) msh = decodeSegment(raw.subarray(at, segmentEndBytes(raw, at)));
  }
  if (msh !== undefined && msh.length >= 4) readMsh(msh, info);
  return info;
}
