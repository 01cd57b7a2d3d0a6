import { latin1Decode, latin1Encode } from './escape';

/**
 * How a message's text maps to bytes. `latin1` is one byte per character (ISO-8859-1, exactly
 * reversible for any byte); `utf-8` is UTF-8.
 */
export type Hl7Charset = 'utf-8' | 'latin1';

/**
 * MSH-18 character set names (HL7 table 0211) that HIE reads and writes, and the charset each
 * means. ASCII is read and written one byte per character, like ISO-8859-1: a sender that
 * declares ASCII and still sends a high byte gets the same byte back, never a UTF-8 pair.
 *
 * @see https://hl7-definition.caristix.com/v2/HL7v2.5.1/Tables/0211
 */
const MSH18: Readonly<Record<string, Hl7Charset>> = {
  ASCII: 'latin1',
  '8859/1': 'latin1',
  'ISO-8859-1': 'latin1',
  'ISO IR6': 'latin1',
  'ISO IR100': 'latin1',
  'UNICODE UTF-8': 'utf-8',
  'UTF-8': 'utf-8',
};

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * The charset an MSH-18 value declares (its first repetition, case and spaces ignored), or
 * `undefined` when it is empty or a name HIE does not know (then the bytes decide).
 *
 * @param msh18 - MSH-18 as written, e.g. `8859/1`, `UNICODE UTF-8`
 * @param repetition - the message's repetition separator @defaultValue `'~'`
 */
export function charsetOf(msh18: string | undefined, repetition = '~'): Hl7Charset | undefined {
  if (msh18 === undefined || msh18 === '') return undefined;
  const rep = msh18.indexOf(repetition);
  const name = (rep < 0 ? msh18 : msh18.slice(0, rep)).trim().toUpperCase();
  return MSH18[name];
}

/**
 * The raw fields of the first MSH line of `text`, found by splitting on the field separator (the
 * character after `MSH`), without reading the delimiters: it works on text {@link parseMessage}
 * refuses. `[0]` is `MSH`, then index n is MSH-(n + 1) (MSH-1 is the separator itself): `[1]` is
 * MSH-2, `[9]` MSH-10.
 * The text may be bytes read one char per byte: what this is used for (MSH-10, MSH-18) is ASCII.
 */
export function rawMshFields(text: string): string[] | undefined {
  const at = text.indexOf('MSH');
  if (at < 0 || at + 3 >= text.length) return undefined;
  const fs = text[at + 3];
  if (fs === '\r' || fs === '\n') return undefined;
  let end = at + 4;
  while (end < text.length && text[end] !== '\r' && text[end] !== '\n') end++;
  return text.slice(at, end).split(fs);
}

/**
 * Bytes → text in the charset the message declares in MSH-18. Undeclared (or unknown) and
 * declared UTF-8 read UTF-8 when the bytes are valid UTF-8, else ISO-8859-1: raw-first, a byte
 * is never turned into U+FFFD.
 *
 * @returns the text, the charset that {@link encodeText} must use to give the bytes back, and
 *   the charset MSH-18 declares (if any)
 */
export function decodeHl7Bytes(bytes: Uint8Array): { text: string; charset: Hl7Charset; declared: Hl7Charset | undefined } {
  let text: string;
  let charset: Hl7Charset = 'utf-8';
  try {
    text = utf8Fatal.decode(bytes);
  } catch {
    text = latin1Decode(bytes);
    charset = 'latin1';
  }
  const declared = declaredCharset(text);
  if (declared === 'latin1' && charset === 'utf-8') {
    // Valid UTF-8 by chance (or pure ASCII, where both readings are the same text).
    charset = 'latin1';
    if (text.length !== bytes.length) text = latin1Decode(bytes);
  }
  return { text, charset, declared };
}

/** The charset MSH-18 of `text` declares, read by splitting the MSH line on its field separator. */
function declaredCharset(text: string): Hl7Charset | undefined {
  const f = rawMshFields(text);
  if (f === undefined || f.length < 18) return undefined;
  return charsetOf(f[17], f[1].length > 1 ? f[1][1] : '~');
}

/** Text → bytes in a charset (`latin1`: characters above U+00FF become `?`). */
export function encodeText(text: string, charset: Hl7Charset): Uint8Array {
  return charset === 'latin1' ? latin1Encode(text) : utf8Encoder.encode(text);
}
