/**
 * Byte and text helpers without Buffer (this lib runs in browsers too).
 */

/** How the body's bytes are to be read as text. See {@link decodeText}. */
export type Encoding = 'utf-8' | 'ascii' | 'latin1' | 'base64' | 'binary';

/** Every {@link Encoding}. */
export const ENCODINGS: readonly Encoding[] = ['utf-8', 'ascii', 'latin1', 'base64', 'binary'];

/** True when `value` is an {@link Encoding}. */
export function isEncoding(value: unknown): value is Encoding {
  return value === 'utf-8' || value === 'ascii' || value === 'latin1' || value === 'base64' || value === 'binary';
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();
const CHUNK = 0x8000;

/** Decodes UTF-8 (invalid sequences become U+FFFD; a leading BOM is dropped). */
export function utf8Decode(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Encodes a string as UTF-8. */
export function utf8Encode(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** One char per byte (ISO-8859-1; not windows-1252, which is what WHATWG's 'latin1' label means). */
export function latin1Decode(bytes: Uint8Array): string {
  // Pure ASCII reads the same in every one of these charsets, and the native UTF-8 decoder is
  // by far the fastest path.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return utf8Decoder.decode(bytes);
  let text = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    // apply with a typed array: no intermediate array, no spread limit per chunk
    const chunk: string = Reflect.apply(String.fromCharCode, null, bytes.subarray(i, i + CHUNK));
    text += chunk;
  }
  return text;
}

/** One byte per char; chars above `max` become `?`. */
function singleByteEncode(text: string, max: number): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c > max ? 0x3f : c;
  }
  return bytes;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_CODES = new Uint8Array(64);
const B64_LOOKUP = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64_CODES[i] = B64.charCodeAt(i);
  B64_LOOKUP[B64.charCodeAt(i)] = i;
}
// base64url alphabet accepted on input
B64_LOOKUP[0x2d] = 62;
B64_LOOKUP[0x5f] = 63;

/** Standard base64 with padding. */
export function base64Encode(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = B64_CODES[v >>> 18];
    out[o++] = B64_CODES[(v >>> 12) & 63];
    out[o++] = B64_CODES[(v >>> 6) & 63];
    out[o++] = B64_CODES[v & 63];
  }
  if (i < n) {
    const v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
    out[o++] = B64_CODES[v >>> 18];
    out[o++] = B64_CODES[(v >>> 12) & 63];
    out[o++] = i + 1 < n ? B64_CODES[(v >>> 6) & 63] : 0x3d;
    out[o] = 0x3d;
  }
  return latin1Decode(out);
}

/**
 * Decodes base64 (standard or url-safe alphabet, padding optional, ASCII whitespace ignored).
 *
 * @throws RangeError on any other character or an impossible length
 */
export function base64Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let bits = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) {
      padding++;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    const v = c < 256 ? B64_LOOKUP[c] : -1;
    if (v < 0 || padding > 0) throw new RangeError(`invalid base64 at offset ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if (bits >= 6 || padding > 2) throw new RangeError('invalid base64 length');
  return out.slice(0, o);
}

/**
 * Reads bytes as text according to an encoding:
 * `utf-8` (BOM dropped), `latin1` and `ascii` (one char per byte; `ascii` is read as latin1 so
 * nothing is lost when a sender lies about its charset), `base64` and `binary` (the body is
 * opaque bytes: its base64 form is returned).
 */
export function decodeText(bytes: Uint8Array, encoding: Encoding): string {
  switch (encoding) {
    case 'utf-8':
      return utf8Decode(bytes);
    case 'ascii':
    case 'latin1':
      return latin1Decode(bytes);
    case 'base64':
    case 'binary':
      return base64Encode(bytes);
  }
}

/**
 * The inverse of {@link decodeText}: `utf-8` encodes, `latin1`/`ascii` take one byte per char
 * (chars outside the charset become `?`), `base64`/`binary` decode the text as base64.
 *
 * @throws RangeError when a `base64`/`binary` text is not base64
 */
export function encodeText(text: string, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case 'utf-8':
      return utf8Encode(text);
    case 'ascii':
      return singleByteEncode(text, 0x7f);
    case 'latin1':
      return singleByteEncode(text, 0xff);
    case 'base64':
    case 'binary':
      return base64Decode(text);
  }
}
