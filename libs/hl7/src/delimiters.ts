/**
 * The separators a message declares in `MSH-1` and `MSH-2`.
 *
 * @see https://www.hl7.eu/refactored/segMSH.html (MSH-1 field separator, MSH-2 encoding characters)
 */
export interface Hl7Delimiters {
  /** Field separator, `MSH-1`. @defaultValue `'|'` */
  readonly field: string;
  /** Component separator, first character of `MSH-2`. @defaultValue `'^'` */
  readonly component: string;
  /** Repetition separator, second character of `MSH-2`. @defaultValue `'~'` */
  readonly repetition: string;
  /** Escape character, third character of `MSH-2`. @defaultValue `'\\'` */
  readonly escape: string;
  /** Subcomponent separator, fourth character of `MSH-2`. @defaultValue `'&'` */
  readonly subcomponent: string;
  /** Truncation character (v2.7+), fifth character of `MSH-2`, when the message declares one. */
  readonly truncation?: string;
}

/** The standard delimiters, `MSH|^~\&`. */
export const DEFAULT_DELIMITERS: Hl7Delimiters = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
});

/** The `MSH-2` text (encoding characters) for a set of delimiters. */
export function encodingCharacters(d: Hl7Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + (d.truncation ?? '');
}

/** A delimiter must be one printable, non-alphanumeric ASCII character. */
export function isDelimiterChar(code: number): boolean {
  if (code < 0x21 || code > 0x7e) return false;
  if (code >= 0x30 && code <= 0x39) return false;
  if (code >= 0x41 && code <= 0x5a) return false;
  if (code >= 0x61 && code <= 0x7a) return false;
  return true;
}

/**
 * An `MSH-2` character read leniently, as HAPI-based engines do: a printable non-alphanumeric
 * ASCII character, or any single non-ASCII character (e.g. U+FFFD from a sender whose encoding
 * went wrong). It is unambiguous as long as it is not a letter, digit, space or control
 * character and differs from the other delimiters, so the message is accepted raw-first.
 */
export function isLenientDelimiterChar(ch: string): boolean {
  if (ch.length !== 1) return false;
  const code = ch.charCodeAt(0);
  return isDelimiterChar(code) || (code >= 0xa0 && code !== 0xfeff);
}
