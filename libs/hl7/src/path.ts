import { Hl7Error } from './errors';

/**
 * A parsed HL7 path such as `OBX[3]-5[2].1.2`. All numbers are 1-based as in the spec;
 * `undefined` means "not given".
 */
export interface Hl7Path {
  /** Segment name, e.g. `PID`. */
  readonly segment: string;
  /** Segment occurrence (`OBX[3]` → 3). */
  readonly segmentIndex?: number;
  /** Field number (`PID-5` → 5). */
  readonly field?: number;
  /** Field repetition (`PID-3[2]` → 2). */
  readonly repetition?: number;
  /** Component (`PID-5.1` → 1). */
  readonly component?: number;
  /** Subcomponent (`PID-5.1.2` → 2). */
  readonly subcomponent?: number;
}

/** Largest number accepted anywhere in a path (keeps `set` from padding without bound). */
export const MAX_PATH_NUMBER = 9999;

const cache = new Map<string, Hl7Path>();
const CACHE_LIMIT = 2048;

/**
 * Parses a path: `SEG[n]-F[r].C.S`, every part after the segment name optional from the right
 * (`PID`, `OBX[2]`, `PID-3`, `PID-3[2]`, `PID-5.1`, `PID-5.1.2`, `OBX[3]-5[2].1`).
 * A segment name is three characters: an upper-case letter then upper-case letters or digits.
 * `MSH-1` and `MSH-2` cannot take a repetition, component or subcomponent.
 *
 * @throws Hl7Error `hl7.path` when the path does not follow that grammar or a number is 0 or above {@link MAX_PATH_NUMBER}
 */
export function parsePath(path: string): Hl7Path {
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  const parsed = parseUncached(path);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(path, parsed);
  return parsed;
}

function bad(path: string, why: string): Hl7Error {
  return new Hl7Error('hl7.path', `Invalid HL7 path '${path}': ${why}`, { details: { path } });
}

function parseUncached(path: string): Hl7Path {
  if (typeof path !== 'string') throw bad(String(path), 'not a string');
  if (path.length < 3) throw bad(path, 'expected a segment name such as PID');
  for (let k = 0; k < 3; k++) {
    const c = path.charCodeAt(k);
    const upper = c >= 0x41 && c <= 0x5a;
    const digit = c >= 0x30 && c <= 0x39;
    if (!(upper || (k > 0 && digit))) throw bad(path, 'a segment name is three upper-case letters or digits, starting with a letter');
  }
  const out: { -readonly [K in keyof Hl7Path]: Hl7Path[K] } = { segment: path.slice(0, 3) };
  let pos = 3;
  const n = path.length;

  const readNumber = (what: string): number => {
    let v = 0;
    const start = pos;
    while (pos < n) {
      const c = path.charCodeAt(pos);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      if (v > MAX_PATH_NUMBER) throw bad(path, `${what} is above ${MAX_PATH_NUMBER}`);
      pos++;
    }
    if (pos === start) throw bad(path, `expected a ${what} number at position ${start + 1}`);
    if (v === 0) throw bad(path, `${what} numbers start at 1`);
    return v;
  };
  const readIndex = (what: string): number | undefined => {
    if (path.charCodeAt(pos) !== 0x5b /* [ */) return undefined;
    pos++;
    const v = readNumber(what);
    if (path.charCodeAt(pos) !== 0x5d /* ] */) throw bad(path, `expected ']' at position ${pos + 1}`);
    pos++;
    return v;
  };

  out.segmentIndex = readIndex('segment occurrence');
  if (pos < n) {
    if (path.charCodeAt(pos) !== 0x2d /* - */) throw bad(path, `expected '-' after the segment at position ${pos + 1}`);
    pos++;
    out.field = readNumber('field');
    out.repetition = readIndex('repetition');
    if (pos < n) {
      if (path.charCodeAt(pos) !== 0x2e /* . */) throw bad(path, `expected '.' at position ${pos + 1}`);
      pos++;
      out.component = readNumber('component');
      if (pos < n) {
        if (path.charCodeAt(pos) !== 0x2e) throw bad(path, `expected '.' at position ${pos + 1}`);
        pos++;
        out.subcomponent = readNumber('subcomponent');
        if (pos < n) throw bad(path, `unexpected text at position ${pos + 1}`);
      }
    }
  }
  if (out.segment === 'MSH' && (out.field === 1 || out.field === 2) && (out.repetition !== undefined || out.component !== undefined)) {
    throw bad(path, 'MSH-1 and MSH-2 are the delimiters themselves and have no parts');
  }
  return Object.freeze(out);
}

/** Formats a path back to text (`{segment:'PID', field:3, component:1}` → `PID-3.1`). */
export function formatPath(p: Hl7Path): string {
  let s = p.segment;
  if (p.segmentIndex !== undefined) s += `[${p.segmentIndex}]`;
  if (p.field === undefined) return s;
  s += `-${p.field}`;
  if (p.repetition !== undefined) s += `[${p.repetition}]`;
  if (p.component !== undefined) s += `.${p.component}`;
  if (p.subcomponent !== undefined) s += `.${p.subcomponent}`;
  return s;
}
