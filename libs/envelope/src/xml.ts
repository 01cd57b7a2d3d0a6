/**
 * A small XML well-formedness check (no dependency, no DTD processing): one root element,
 * balanced and properly nested tags, quoted attributes without `<`, no duplicate attributes,
 * well-formed comments, CDATA, processing instructions and entity references, nothing but
 * whitespace, comments and PIs outside the root. Not a validating parser.
 */

/** What {@link checkXml} found. */
export interface XmlCheck {
  /** Name of the root element (with its prefix, if any). */
  rootElement: string;
}

/** A well-formedness error, with the character offset where it was found. */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at offset ${offset})`);
    this.name = 'XmlSyntaxError';
  }
}

/** XML 1.0 NameStartChar, by UTF-16 code unit (surrogates accepted for astral names). */
function isNameStart(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    c === 0x5f ||
    c === 0x3a ||
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    (c >= 0x200c && c <= 0x200d) ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xdfff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd)
  );
}

/** XML 1.0 NameChar. */
function isNameChar(c: number): boolean {
  return (
    isNameStart(c) ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0xb7 ||
    (c >= 0x300 && c <= 0x36f) ||
    (c >= 0x203f && c <= 0x2040)
  );
}

const ENTITY = /^(?:#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z_:][-A-Za-z0-9._:]*)$/;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Checks that `text` is well-formed XML and returns its root element's name.
 *
 * @throws XmlSyntaxError at the first problem
 */
export function checkXml(text: string): XmlCheck {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: string[] = [];
  let root: string | undefined;
  let rootClosed = false;

  const err = (message: string, at: number = i): never => {
    throw new XmlSyntaxError(message, at);
  };
  const readName = (): string => {
    const start = i;
    if (i >= n || !isNameStart(text.charCodeAt(i))) err('expected a name');
    i++;
    while (i < n && isNameChar(text.charCodeAt(i))) i++;
    return text.slice(start, i);
  };
  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  const checkEntities = (from: number, to: number): void => {
    let amp = text.indexOf('&', from);
    while (amp >= 0 && amp < to) {
      const semi = text.indexOf(';', amp);
      if (semi < 0 || semi > to || !ENTITY.test(text.slice(amp + 1, semi))) err('malformed entity reference', amp);
      amp = text.indexOf('&', semi);
    }
  };
  const skipPast = (terminator: string, what: string): void => {
    const end = text.indexOf(terminator, i);
    if (end < 0) err(`unterminated ${what}`);
    i = end + terminator.length;
  };

  while (i < n) {
    if (text.charCodeAt(i) !== 0x3c /* < */) {
      const next = text.indexOf('<', i);
      const end = next < 0 ? n : next;
      if (stack.length === 0) {
        for (let j = i; j < end; j++) if (!isSpace(text.charCodeAt(j))) err('text outside the root element', j);
      } else {
        checkEntities(i, end);
      }
      i = end;
      continue;
    }
    if (text.startsWith('<?', i)) {
      skipPast('?>', 'processing instruction');
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) err('unterminated comment');
      if (text.slice(i + 4, end).includes('--')) err('"--" inside a comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) err('CDATA outside the root element');
      skipPast(']]>', 'CDATA section');
    } else if (text.startsWith('<!DOCTYPE', i)) {
      if (root !== undefined) err('DOCTYPE after the root element');
      // skip to the matching '>', past any internal subset in [ ] and quoted strings
      let depth = 0;
      let quote = 0;
      for (i += 9; i < n; i++) {
        const c = text.charCodeAt(i);
        if (quote !== 0) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x5b) depth++;
        else if (c === 0x5d) depth--;
        else if (c === 0x3e && depth <= 0) break;
      }
      if (i >= n) err('unterminated DOCTYPE');
      i++;
    } else if (text.charCodeAt(i + 1) === 0x2f /* / */) {
      const at = i;
      i += 2;
      const name = readName();
      skipSpace();
      if (text.charCodeAt(i) !== 0x3e) err(`expected ">" to close </${name}`);
      i++;
      const open = stack.pop();
      if (open === undefined) err(`closing tag </${name}> without an open element`, at);
      if (open !== name) err(`</${name}> closes <${open}>`, at);
      if (stack.length === 0) rootClosed = true;
    } else {
      const at = i;
      i++;
      const name = readName();
      if (stack.length === 0) {
        if (rootClosed) err('a second root element', at);
        root = name;
      }
      const seen = new Set<string>();
      for (;;) {
        const hadSpace = i < n && isSpace(text.charCodeAt(i));
        skipSpace();
        if (i >= n) err(`unterminated tag <${name}`, at);
        const c = text.charCodeAt(i);
        if (c === 0x3e) {
          i++;
          stack.push(name);
          break;
        }
        if (c === 0x2f) {
          if (text.charCodeAt(i + 1) !== 0x3e) err('expected "/>"');
          i += 2;
          if (stack.length === 0) rootClosed = true;
          break;
        }
        if (!hadSpace) err('expected whitespace before an attribute');
        const attr = readName();
        if (seen.has(attr)) err(`duplicate attribute "${attr}"`);
        seen.add(attr);
        skipSpace();
        if (text.charCodeAt(i) !== 0x3d) err(`expected "=" after attribute "${attr}"`);
        i++;
        skipSpace();
        const quote = text[i];
        if (quote !== '"' && quote !== "'") err(`attribute "${attr}" value must be quoted`);
        const end = text.indexOf(quote, i + 1);
        if (end < 0) err(`unterminated value of attribute "${attr}"`);
        const lt = text.indexOf('<', i + 1);
        if (lt >= 0 && lt < end) err(`"<" in the value of attribute "${attr}"`, lt);
        checkEntities(i + 1, end);
        i = end + 1;
      }
    }
  }
  if (stack.length > 0) err(`unclosed element <${stack[stack.length - 1]}>`, n);
  if (root === undefined) err('no root element', n);
  return { rootElement: root ?? '' };
}
