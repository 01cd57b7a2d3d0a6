import { DEFAULT_DELIMITERS, type Hl7Delimiters } from './delimiters';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Escapes text for use as one HL7 value (a field, component or subcomponent).
 *
 * - the escape character → `\E\`, field separator → `\F\`, component → `\S\`,
 *   subcomponent → `\T\`, repetition → `\R\`, truncation character (v2.7+, only when the
 *   delimiters declare one) → `\P\`;
 * - a line break (`\r\n`, `\n` or `\r`) → `\.br\` (so a value can never end a segment).
 *
 * Shown with the default delimiters; the message's own delimiters are used.
 *
 * @param text - plain text
 * @param delimiters - the message's delimiters @defaultValue {@link DEFAULT_DELIMITERS}
 * @returns the encoded text (the same string when nothing needed escaping)
 * @see https://www.hl7.eu/HL7v2x/v251/std251/ch02.html#Heading137 (2.7 escape sequences)
 */
export function escape(text: string, delimiters: Hl7Delimiters = DEFAULT_DELIMITERS): string {
  const d = delimiters;
  const fc = d.field.charCodeAt(0);
  const cc = d.component.charCodeAt(0);
  const rc = d.repetition.charCodeAt(0);
  const ec = d.escape.charCodeAt(0);
  const sc = d.subcomponent.charCodeAt(0);
  const tc = d.truncation === undefined ? -1 : d.truncation.charCodeAt(0);
  const n = text.length;
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === fc || c === cc || c === rc || c === ec || c === sc || c === tc || c === 10 || c === 13) break;
  }
  if (i === n) return text;
  const e = d.escape;
  let out = text.slice(0, i);
  let last = i;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    let rep: string;
    if (c === ec) rep = 'E';
    else if (c === fc) rep = 'F';
    else if (c === cc) rep = 'S';
    else if (c === sc) rep = 'T';
    else if (c === rc) rep = 'R';
    else if (c === tc) rep = 'P';
    else if (c === 13) {
      rep = '.br';
      if (text.charCodeAt(i + 1) === 10) {
        out += text.slice(last, i) + e + rep + e;
        i++;
        last = i + 1;
        continue;
      }
    } else if (c === 10) rep = '.br';
    else continue;
    out += text.slice(last, i) + e + rep + e;
    last = i + 1;
  }
  return out + text.slice(last);
}

/**
 * Decodes the escape sequences in one HL7 value.
 *
 * - `\F\ \S\ \T\ \R\ \E\` → the message's field, component, subcomponent, repetition and
 *   escape characters; `\P\` → the truncation character when the delimiters declare one;
 * - `\.br\` → `'\n'`;
 * - `\Xhh…\` → the bytes `hh…`, read as UTF-8, or as ISO-8859-1 when they are not valid UTF-8;
 * - anything else (`\H\`, `\N\`, `\.sp\`, `\Cxxyy\`, a lone escape character, …) is left as it is.
 *
 * @param text - encoded text, as it appears between delimiters
 * @param delimiters - the message's delimiters @defaultValue {@link DEFAULT_DELIMITERS}
 * @returns the plain text (the same string when it holds no escape character)
 */
export function unescape(text: string, delimiters: Hl7Delimiters = DEFAULT_DELIMITERS): string {
  const e = delimiters.escape;
  let i = text.indexOf(e);
  if (i < 0) return text;
  let out = '';
  let last = 0;
  while (i >= 0) {
    const j = text.indexOf(e, i + 1);
    if (j < 0) break;
    const rep = decodeSequence(text, i + 1, j, delimiters);
    if (rep === undefined) {
      // Not a sequence we know: the closing character may open the next one.
      i = j;
      continue;
    }
    out += text.slice(last, i) + rep;
    last = j + 1;
    i = text.indexOf(e, last);
  }
  return out + text.slice(last);
}

function decodeSequence(text: string, from: number, to: number, d: Hl7Delimiters): string | undefined {
  const len = to - from;
  if (len === 1) {
    switch (text.charCodeAt(from)) {
      case 0x46: // F
        return d.field;
      case 0x53: // S
        return d.component;
      case 0x54: // T
        return d.subcomponent;
      case 0x52: // R
        return d.repetition;
      case 0x45: // E
        return d.escape;
      case 0x50: // P
        return d.truncation;
      default:
        return undefined;
    }
  }
  if (len === 3 && text.startsWith('.br', from)) return '\n';
  if (len >= 3 && (len & 1) === 1 && text.charCodeAt(from) === 0x58 /* X */) return decodeHex(text.slice(from + 1, to));
  return undefined;
}

function decodeHex(hex: string): string | undefined {
  const bytes = new Uint8Array(hex.length / 2);
  for (let k = 0; k < bytes.length; k++) {
    const hi = hexValue(hex.charCodeAt(2 * k));
    const lo = hexValue(hex.charCodeAt(2 * k + 1));
    if (hi < 0 || lo < 0) return undefined;
    bytes[k] = (hi << 4) | lo;
  }
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return latin1Decode(bytes);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Bytes → string, one byte per character (ISO-8859-1, exactly reversible). */
export function latin1Decode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  }
  return out;
}

/** String → bytes, one byte per character (characters above U+00FF become `?`). */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c > 0xff ? 0x3f : c;
  }
  return out;
}
