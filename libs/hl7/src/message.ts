import { DEFAULT_DELIMITERS, isDelimiterChar, isLenientDelimiterChar, type Hl7Delimiters } from './delimiters';
import { Hl7Error } from './errors';
import { charsetOf, decodeHl7Bytes, encodeText, type Hl7Charset } from './charset';
import { escape, unescape } from './escape';
import { parsePath, type Hl7Path } from './path';

const BOM_BYTES = Object.freeze([0xef, 0xbb, 0xbf]);
/** How input bytes were read, and the charset MSH-18 declared at the time. */
interface CharsetRead {
  charset: Hl7Charset;
  declared: Hl7Charset | undefined;
}
const EMPTY: readonly string[] = Object.freeze([]);
/** The parts of an empty field, shared (callers only ever see it as readonly). */
const EMPTY_FIELD: string[][] = [['']];

/** Counts field splits, so tests can prove that reads stay lazy. Not exported from the lib. */
let fieldSplits = 0;

/** @internal Number of segment field-splits done since the process started (tests only). */
export function fieldSplitCount(): number {
  return fieldSplits;
}

/**
 * A view of one segment of a message. It stays attached to its message: reads see later
 * `set`s, and after the segment is removed from the message its `index` is -1.
 *
 * Field numbers are 1-based as in the spec; for `MSH`, field 1 is the field separator and
 * field 2 the encoding characters.
 */
export interface Hl7Segment {
  /** Segment name, e.g. `PID` (the text before the first field separator). */
  readonly name: string;
  /** 0-based position of the segment in its message, -1 once removed. */
  readonly index: number;
  /** Number of fields the segment holds (trailing empty fields included, as written). */
  readonly fieldCount: number;
  /** The raw text of field `n`, all repetitions, escape sequences intact; `undefined` past the end. */
  field(n: number): string | undefined;
  /** Number of repetitions of field `n`: 0 past the end of the segment, 1 for an empty field. */
  repetitionCount(n: number): number;
  /**
   * One value, the same way {@link Hl7Message.get} reads a path: `seg.get(5, 1, 2)` is `PID-5.1.2`.
   * @param field - field number (1-based)
   * @param component - component number; omitted → the whole repetition
   * @param subcomponent - subcomponent number; omitted → the whole component
   * @param repetition - repetition number @defaultValue 1
   */
  get(field: number, component?: number, subcomponent?: number, repetition?: number): string | undefined;
  /**
   * The components of one repetition of a field, unescaped (a component that holds
   * subcomponent separators is returned raw, like {@link Hl7Message.get} does). Empty past the end.
   * The array may be shared: do not modify it.
   * @param repetition - @defaultValue 1
   */
  components(field: number, repetition?: number): readonly string[];
  /** The segment's current text, without its terminator. */
  toString(): string;
}

const CR = '\r';
const LF = '\n';
const CRLF = '\r\n';

/** @internal The segment implementation; the public face is {@link Hl7Segment}. */
class Segment implements Hl7Segment {
  /** @internal owning message, null once removed */
  owner: Hl7Message | null;
  /** @internal current text, without terminator */
  text: string;
  /** @internal terminator run after the text (`\r`, `\n`, `\r\n`, blank lines…; '' for a last segment without one) */
  term: string;
  readonly name: string;
  /** @internal raw fields; [0] is the name (for MSH [1] is MSH-2) */
  fields: string[] | undefined;
  /** @internal per raw field index: repetitions → components, raw */
  private parts: (string[][] | undefined)[] | undefined;
  /** @internal whether the text holds the escape character at all */
  private hasEscape = false;
  private readonly off: number;
  private readonly d: Hl7Delimiters;

  constructor(owner: Hl7Message, d: Hl7Delimiters, text: string, term: string, name: string) {
    this.owner = owner;
    this.d = d;
    this.text = text;
    this.term = term;
    this.name = name;
    this.off = name === 'MSH' ? 1 : 0;
  }

  get index(): number {
    return this.owner === null ? -1 : this.owner.segmentPosition(this);
  }

  get fieldCount(): number {
    return this.split().length - 1 + this.off;
  }

  /** @internal raw fields, split on first use */
  split(): string[] {
    let f = this.fields;
    if (f === undefined) {
      fieldSplits++;
      f = this.text.split(this.d.field);
      this.fields = f;
      this.hasEscape = this.text.indexOf(this.d.escape) >= 0;
    }
    return f;
  }

  field(n: number): string | undefined {
    if (!(n >= 1)) return undefined;
    if (this.off === 1 && n === 1) return this.d.field;
    return this.split()[n - this.off];
  }

  repetitionCount(n: number): number {
    const raw = this.field(n);
    if (raw === undefined) return 0;
    if (this.off === 1 && n <= 2) return 1;
    return this.partsOf(n - this.off, raw).length;
  }

  /** Repetitions → components of the raw field at index `i`, cached. */
  private partsOf(i: number, raw: string): string[][] {
    let parts = this.parts;
    if (parts === undefined) {
      parts = [];
      this.parts = parts;
    }
    let p = parts[i];
    if (p === undefined) {
      const d = this.d;
      if (raw === '') {
        p = EMPTY_FIELD;
      } else if (raw.indexOf(d.repetition) < 0) {
        p = [raw.indexOf(d.component) < 0 ? [raw] : raw.split(d.component)];
      } else {
        const reps = raw.split(d.repetition);
        p = new Array<string[]>(reps.length);
        for (let k = 0; k < reps.length; k++) {
          const r = reps[k];
          p[k] = r.indexOf(d.component) < 0 ? [r] : r.split(d.component);
        }
      }
      parts[i] = p;
    }
    return p;
  }

  get(field: number, component?: number, subcomponent?: number, repetition = 1): string | undefined {
    const raw = this.field(field);
    if (raw === undefined) return undefined;
    if (this.off === 1 && field <= 2) return component === undefined && repetition === 1 ? raw : undefined;
    const d = this.d;
    if (component === undefined) {
      let rep: string | undefined = raw;
      if (raw.indexOf(d.repetition) >= 0) rep = raw.split(d.repetition)[repetition - 1];
      else if (repetition !== 1) return undefined;
      if (rep === undefined) return undefined;
      return this.leaf(rep, true);
    }
    const reps = this.partsOf(field - this.off, raw);
    const comps = reps[repetition - 1];
    if (comps === undefined) return undefined;
    const comp = comps[component - 1];
    if (comp === undefined) return undefined;
    if (subcomponent === undefined) return this.leaf(comp, false);
    if (comp.indexOf(d.subcomponent) < 0) return subcomponent === 1 ? this.leaf(comp, false) : undefined;
    const sub = comp.split(d.subcomponent)[subcomponent - 1];
    return sub === undefined ? undefined : this.leaf(sub, false);
  }

  /** A value that still holds lower-level separators is returned raw; a leaf is unescaped. */
  private leaf(v: string, checkComponent: boolean): string {
    if (!this.hasEscape) return v;
    const d = this.d;
    if (checkComponent && v.indexOf(d.component) >= 0) return v;
    if (v.indexOf(d.subcomponent) >= 0) return v;
    return unescape(v, d);
  }

  components(field: number, repetition = 1): readonly string[] {
    const raw = this.field(field);
    if (raw === undefined) return EMPTY;
    if (this.off === 1 && field <= 2) return repetition === 1 ? [raw] : EMPTY;
    const comps = this.partsOf(field - this.off, raw)[repetition - 1];
    if (comps === undefined) return EMPTY;
    if (!this.hasEscape) return comps;
    const esc = this.d.escape;
    let k = 0;
    while (k < comps.length && comps[k].indexOf(esc) < 0) k++;
    if (k === comps.length) return comps;
    return comps.map((c) => this.leaf(c, false));
  }

  /** @internal raw (encoded) text of a part; no repetition and no component → the whole field */
  raw(field: number, repetition: number | undefined, component: number | undefined, subcomponent: number | undefined): string | undefined {
    const raw = this.field(field);
    if (raw === undefined || (repetition === undefined && component === undefined)) return raw;
    if (this.off === 1 && field <= 2) return undefined;
    const d = this.d;
    const rep = raw.split(d.repetition)[(repetition ?? 1) - 1];
    if (rep === undefined || component === undefined) return rep;
    const comp = rep.split(d.component)[component - 1];
    if (comp === undefined || subcomponent === undefined) return comp;
    return comp.split(d.subcomponent)[subcomponent - 1];
  }

  /** @internal writes an encoded value; `repetition` undefined with no component → whole field */
  write(field: number, repetition: number | undefined, component: number | undefined, subcomponent: number | undefined, encoded: string): void {
    const d = this.d;
    const f = this.split();
    const i = field - this.off;
    while (f.length <= i) f.push('');
    if (repetition === undefined && component === undefined) {
      f[i] = encoded;
    } else {
      const reps = f[i].split(d.repetition);
      const r = (repetition ?? 1) - 1;
      while (reps.length <= r) reps.push('');
      if (component === undefined) {
        reps[r] = encoded;
      } else {
        const comps = reps[r].split(d.component);
        const c = component - 1;
        while (comps.length <= c) comps.push('');
        if (subcomponent === undefined) {
          comps[c] = encoded;
        } else {
          const subs = comps[c].split(d.subcomponent);
          const s = subcomponent - 1;
          while (subs.length <= s) subs.push('');
          subs[s] = encoded;
          comps[c] = subs.join(d.subcomponent);
        }
        reps[r] = comps.join(d.component);
      }
      f[i] = reps.join(d.repetition);
    }
    this.text = f.join(d.field);
    this.hasEscape = this.text.indexOf(d.escape) >= 0;
    if (this.parts !== undefined) this.parts[i] = undefined;
  }

  toString(): string {
    return this.text;
  }
}

/** Options of {@link Hl7Message.set}. */
export interface Hl7SetOptions {
  /**
   * Insert the value as already-encoded HL7 text instead of escaping it (to write a whole
   * field with its components, e.g. `set('PID-5', 'DOE^JOHN', { raw: true })`). The value must
   * not hold a line break, nor a separator of the addressed level or above.
   * @defaultValue false
   */
  raw?: boolean;
}

/** Options of {@link Hl7Message.toBytes}. */
export interface Hl7ToBytesOptions {
  /**
   * Whether to start with a UTF-8 byte order mark.
   * @defaultValue {@link Hl7Message.hasBom} (so an unmodified message gives back its exact input bytes)
   */
  bom?: boolean;
}

/** Options of {@link Hl7Message.addSegment}. */
export interface Hl7AddSegmentOptions {
  /**
   * Insert after this segment: a name (`'PID'`, its last occurrence) or a name with an
   * occurrence (`'OBX[2]'`). When that segment is absent, or when omitted, the new segment is
   * appended at the end of the message.
   */
  after?: string;
}

/**
 * A parsed HL7 v2 message. Raw-first and lazy: parsing only finds the segments; a segment is
 * split into fields, and a field into repetitions and components, the first time it is read.
 * An unmodified message gives back exactly its input ({@link toString}, {@link toBytes}).
 *
 * Create one with {@link parseMessage}.
 */
export class Hl7Message {
  /** The separators the message declares in MSH-1 and MSH-2. */
  readonly delimiters: Hl7Delimiters;
  /** Whether the input started with a UTF-8 byte order mark (it is not part of {@link toString}). */
  readonly hasBom: boolean;
  /** How the input bytes were read (`undefined` for text input) and what MSH-18 declared then. */
  private readonly input: CharsetRead | undefined;
  private readonly prefix: string;
  private readonly segs: Segment[];
  private readonly bytes: Uint8Array | undefined;
  /** Text cache: the input until the first change, then rebuilt on demand. */
  private text: string | undefined;
  private changed = false;

  /** @internal use {@link parseMessage} */
  constructor(
    text: string,
    start: number,
    delimiters: Hl7Delimiters,
    hasBom: boolean,
    bytes: Uint8Array | undefined,
    input: CharsetRead | undefined,
  ) {
    this.text = text;
    this.prefix = text.slice(0, start);
    this.delimiters = delimiters;
    this.hasBom = hasBom;
    this.bytes = bytes;
    this.input = input;
    this.segs = scanSegments(this, text, start, delimiters);
  }

  /**
   * The charset {@link toBytes} writes, so a message keeps its own encoding through a transform:
   * - parsed from bytes: how they were read (MSH-18's charset, e.g. `8859/1` → `latin1`; else
   *   UTF-8 when valid, else `latin1`), unless MSH-18 has since been changed to another charset;
   * - parsed from text: MSH-18's charset, `utf-8` when MSH-18 is empty or unknown.
   */
  get charset(): Hl7Charset {
    const declared = charsetOf(this.segs[0].field(18), this.delimiters.repetition);
    const input = this.input;
    if (input === undefined) return declared ?? 'utf-8';
    return declared !== undefined && declared !== input.declared ? declared : input.charset;
  }

  /** `MSH-9.1^MSH-9.2` (e.g. `ADT^A01`), just `MSH-9.1` when there is no trigger (`ACK`); `undefined` when MSH-9 is empty. Always joined with `^`. */
  get messageType(): string | undefined {
    const msh = this.segs[0];
    const code = msh.get(9, 1);
    if (!code) return undefined;
    const trigger = msh.get(9, 2);
    return trigger ? `${code}^${trigger}` : code;
  }

  /** MSH-10, the message control id; `undefined` when empty. */
  get controlId(): string | undefined {
    return this.segs[0].get(10) || undefined;
  }

  /** MSH-12.1, the version id (`2.5.1`); `undefined` when empty. */
  get version(): string | undefined {
    return this.segs[0].get(12, 1) || undefined;
  }

  /** Whether {@link set}, {@link delete}, {@link addSegment} or {@link removeSegments} changed the message. */
  get modified(): boolean {
    return this.changed;
  }

  /**
   * Reads one value.
   *
   * - `PID-3.1`, `PID-5.1.2`: the component / subcomponent, unescaped.
   * - `PID-5` (no component): the first repetition (or `PID-3[2]` the second). If it holds
   *   component or subcomponent separators it is returned raw, escape sequences intact, so it
   *   can be split again; otherwise it is unescaped. The same rule applies to a component
   *   that holds subcomponents. `PID` (no field): the raw segment text.
   * - `MSH-1` is the field separator, `MSH-2` the encoding characters, both as written.
   * - `OBX[3]-5`: the third OBX segment; without an occurrence, the first.
   * - The HL7 null `""` is returned as the two characters `""`.
   *
   * @returns the value, `''` when present but empty, `undefined` when the segment, field,
   *   repetition, component or subcomponent does not exist
   * @throws Hl7Error `hl7.path` for an invalid path
   */
  get(path: string): string | undefined {
    const p = parsePath(path);
    const seg = this.find(p.segment, p.segmentIndex ?? 1);
    if (seg === undefined) return undefined;
    if (p.field === undefined) return seg.text;
    return seg.get(p.field, p.component, p.subcomponent, p.repetition ?? 1);
  }

  /**
   * Reads the raw, still-encoded text a path addresses: escape sequences intact, lower-level
   * separators intact. A field path without a repetition (`PID-3`) gives the whole field, all
   * repetitions. Made to pair with `set(path, value, { raw: true })`, which writes the same
   * unit: `msg.set('NK1-2', msg.getRaw('PID-5') ?? '', { raw: true })` copies a field exactly.
   *
   * @returns the raw text, `undefined` when it does not exist
   * @throws Hl7Error `hl7.path` for an invalid path
   */
  getRaw(path: string): string | undefined {
    const p = parsePath(path);
    const seg = this.find(p.segment, p.segmentIndex ?? 1);
    if (seg === undefined) return undefined;
    if (p.field === undefined) return seg.text;
    return seg.raw(p.field, p.repetition, p.component, p.subcomponent);
  }

  /**
   * Reads every value a path matches: every segment of that name (unless the path names an
   * occurrence) × every repetition (unless it names one). Values that do not exist are left
   * out; an empty field counts as one empty value. `getAll('PID-3.1')` → `['123', '456']`.
   *
   * @throws Hl7Error `hl7.path` for an invalid path
   */
  getAll(path: string): string[] {
    const p = parsePath(path);
    const out: string[] = [];
    const segs = p.segmentIndex === undefined ? this.segs.filter((s) => s.name === p.segment) : [this.find(p.segment, p.segmentIndex)];
    for (const seg of segs) {
      if (seg === undefined) continue;
      if (p.field === undefined) {
        out.push(seg.text);
        continue;
      }
      if (p.repetition !== undefined) {
        const v = seg.get(p.field, p.component, p.subcomponent, p.repetition);
        if (v !== undefined) out.push(v);
        continue;
      }
      const n = seg.repetitionCount(p.field);
      for (let r = 1; r <= n; r++) {
        const v = seg.get(p.field, p.component, p.subcomponent, r);
        if (v !== undefined) out.push(v);
      }
    }
    return out;
  }

  /**
   * Writes one value, escaping it with the message's delimiters (unless `raw`). Missing fields,
   * repetitions, components and subcomponents are created, padded with empty ones.
   *
   * - A field path without a repetition (`PID-3`) replaces the whole field, all repetitions;
   *   `PID-3[2]` replaces the second repetition only; `PID-3.1` writes into the first repetition.
   * - A missing segment is created when the path names the next occurrence (`ZPD` or `ZPD[1]`
   *   when there is none, `OBX[4]` when there are three); it is placed after the last segment
   *   of that name, else at the end of the message. Any other missing occurrence throws.
   * - Only the addressed text changes; every other byte of the message stays as it was.
   *
   * @throws Hl7Error `hl7.path` for an invalid path, a path without a field, `MSH-1`/`MSH-2`,
   *   or a segment occurrence that cannot be created; `hl7.value` for an unsafe raw value
   */
  set(path: string, value: string, options?: Hl7SetOptions): void {
    const p = parsePath(path);
    if (p.field === undefined) throw new Hl7Error('hl7.path', `Cannot set '${path}': the path names no field (use addSegment)`, { details: { path } });
    if (p.segment === 'MSH' && p.field <= 2) throw new Hl7Error('hl7.path', `Cannot set '${path}': MSH-1 and MSH-2 are the message's delimiters`, { details: { path } });
    const encoded = options?.raw ? checkRaw(path, p, String(value), this.delimiters) : escape(String(value), this.delimiters);
    let seg = this.find(p.segment, p.segmentIndex ?? 1);
    if (seg === undefined) seg = this.createSegment(path, p);
    seg.write(p.field, p.repetition, p.component, p.subcomponent, encoded);
    this.touch();
  }

  /**
   * Clears a field, repetition, component or subcomponent (sets it to empty, keeping its
   * place). A field path without a repetition clears all repetitions. Nothing happens when it
   * does not exist.
   *
   * @returns whether something was cleared
   * @throws Hl7Error `hl7.path` for an invalid path, a path without a field (use
   *   {@link removeSegments}), or `MSH-1`/`MSH-2`
   */
  delete(path: string): boolean {
    const p = parsePath(path);
    if (p.field === undefined) throw new Hl7Error('hl7.path', `Cannot delete '${path}': the path names no field (use removeSegments)`, { details: { path } });
    if (p.segment === 'MSH' && p.field <= 2) throw new Hl7Error('hl7.path', `Cannot delete '${path}': MSH-1 and MSH-2 are the message's delimiters`, { details: { path } });
    const seg = this.find(p.segment, p.segmentIndex ?? 1);
    if (seg === undefined) return false;
    if (p.repetition === undefined && p.component === undefined) {
      if (seg.field(p.field) === undefined) return false;
    } else if (seg.get(p.field, p.component, p.subcomponent, p.repetition ?? 1) === undefined) {
      return false;
    }
    seg.write(p.field, p.repetition, p.component, p.subcomponent, '');
    this.touch();
    return true;
  }

  /**
   * The message's segments, in order, or only those named `name`.
   * The array is a copy; the segment views are live.
   */
  segments(name?: string): Hl7Segment[] {
    return name === undefined ? this.segs.slice() : this.segs.filter((s) => s.name === name);
  }

  /** One segment: `segment('OBX', 3)` is the third OBX; `undefined` when absent. */
  segment(name: string, occurrence = 1): Hl7Segment | undefined {
    return this.find(name, occurrence);
  }

  /**
   * Inserts a segment written as raw HL7 text (`'ZPD|1|x'`, escape its values yourself), with
   * the message's usual segment terminator.
   *
   * @returns the new segment
   * @throws Hl7Error `hl7.value` when the text holds a line break, does not start with a
   *   segment name followed by the field separator, or is an `MSH`; `hl7.path` for an invalid `after`
   */
  addSegment(text: string, options?: Hl7AddSegmentOptions): Hl7Segment {
    const clean = String(text).replace(/[\r\n]+$/, '');
    if (/[\r\n]/.test(clean)) throw new Hl7Error('hl7.value', 'A segment cannot contain a line break');
    const name = clean.slice(0, 3);
    if (!/^[A-Z][A-Z0-9]{2}$/.test(name) || (clean.length > 3 && clean[3] !== this.delimiters.field)) {
      throw new Hl7Error('hl7.value', `A segment must start with its name and the field separator '${this.delimiters.field}'`, { details: { name } });
    }
    if (name === 'MSH') throw new Hl7Error('hl7.value', 'A message has exactly one MSH segment');
    let at = this.segs.length - 1;
    if (options?.after !== undefined) {
      const p = parsePath(options.after);
      if (p.field !== undefined) throw new Hl7Error('hl7.path', `'after' names a segment, not a field: '${options.after}'`, { details: { path: options.after } });
      const target = p.segmentIndex === undefined ? this.lastOf(p.segment) : this.find(p.segment, p.segmentIndex);
      if (target !== undefined) at = this.segs.indexOf(target);
    }
    return this.insertAt(at, clean, name);
  }

  /**
   * Removes every segment named `name`, or one occurrence (`'OBX[2]'`).
   *
   * @returns how many segments were removed
   * @throws Hl7Error `hl7.path` for an invalid name, a path with a field, or `MSH`
   */
  removeSegments(name: string): number {
    const p = parsePath(name);
    if (p.field !== undefined) throw new Hl7Error('hl7.path', `removeSegments takes a segment name, not a field: '${name}'`, { details: { path: name } });
    if (p.segment === 'MSH') throw new Hl7Error('hl7.path', 'The MSH segment cannot be removed', { details: { path: name } });
    const doomed = p.segmentIndex === undefined ? this.segs.filter((s) => s.name === p.segment) : [this.find(p.segment, p.segmentIndex)];
    let removed = 0;
    for (const seg of doomed) {
      if (seg === undefined) continue;
      const i = this.segs.indexOf(seg);
      this.segs.splice(i, 1);
      // Keep the "no final terminator" shape when the last segment goes.
      if (i === this.segs.length && seg.term === '') this.segs[i - 1].term = '';
      seg.owner = null;
      removed++;
    }
    if (removed > 0) this.touch();
    return removed;
  }

  /** The message text: exactly the input (without a BOM) while unmodified. */
  toString(): string {
    let out = this.text;
    if (out === undefined) {
      out = this.prefix;
      for (const s of this.segs) out += s.text + s.term;
      this.text = out;
    }
    return out;
  }

  /**
   * The message as bytes, in its {@link charset}. While unmodified and parsed from bytes, these
   * are the input bytes themselves (a view: do not modify it).
   */
  toBytes(options?: Hl7ToBytesOptions): Uint8Array {
    const bom = options?.bom ?? this.hasBom;
    let body: Uint8Array;
    if (!this.changed && this.bytes !== undefined) {
      if (bom === this.hasBom) return this.bytes;
      body = this.hasBom ? this.bytes.subarray(3) : this.bytes;
    } else {
      body = encodeText(this.toString(), this.charset);
    }
    if (!bom) return body;
    const out = new Uint8Array(body.length + 3);
    out.set(BOM_BYTES, 0);
    out.set(body, 3);
    return out;
  }

  /** An independent copy (parsed again from {@link toString}). */
  clone(): Hl7Message {
    const text = this.toString();
    const start = text.length - text.trimStart().length;
    const charset = this.charset;
    return new Hl7Message(text, start, this.delimiters, this.hasBom, undefined, { charset, declared: charsetOf(this.segs[0].field(18), this.delimiters.repetition) });
  }

  private touch(): void {
    this.changed = true;
    this.text = undefined;
  }

  /** @internal 0-based position of a segment */
  segmentPosition(seg: Segment): number {
    return this.segs.indexOf(seg);
  }

  /** @internal which segments have been split into fields (tests only) */
  splitState(): boolean[] {
    return this.segs.map((s) => s.fields !== undefined);
  }

  private find(name: string, occurrence: number): Segment | undefined {
    const segs = this.segs;
    let k = 0;
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].name === name && ++k === occurrence) return segs[i];
    }
    return undefined;
  }

  private lastOf(name: string): Segment | undefined {
    for (let i = this.segs.length - 1; i >= 0; i--) if (this.segs[i].name === name) return this.segs[i];
    return undefined;
  }

  private createSegment(path: string, p: Hl7Path): Segment {
    const count = this.segs.reduce((n, s) => (s.name === p.segment ? n + 1 : n), 0);
    if ((p.segmentIndex ?? 1) !== count + 1) {
      throw new Hl7Error('hl7.path', `Cannot set '${path}': segment ${p.segment} occurrence ${p.segmentIndex ?? 1} does not exist (there are ${count})`, {
        details: { path },
      });
    }
    const last = this.lastOf(p.segment);
    return this.insertAt(last === undefined ? this.segs.length - 1 : this.segs.indexOf(last), p.segment, p.segment);
  }

  private insertAt(after: number, text: string, name: string): Segment {
    const prev = this.segs[after];
    const eol = this.eol();
    const seg = new Segment(this, this.delimiters, text, prev.term === '' ? '' : eol, name);
    if (prev.term === '') prev.term = eol;
    this.segs.splice(after + 1, 0, seg);
    this.touch();
    return seg;
  }

  /** The message's segment terminator (from the first segment that has one), else CR. */
  private eol(): string {
    for (const s of this.segs) {
      const t = s.term;
      if (t === '') continue;
      if (t.startsWith(CRLF)) return CRLF;
      return t[0] === LF ? LF : CR;
    }
    return CR;
  }
}

function checkRaw(path: string, p: Hl7Path, value: string, d: Hl7Delimiters): string {
  const banned = ['\r', '\n', d.field];
  if (p.repetition !== undefined || p.component !== undefined) banned.push(d.repetition);
  if (p.component !== undefined) banned.push(d.component);
  if (p.subcomponent !== undefined) banned.push(d.subcomponent);
  for (const b of banned) {
    if (value.includes(b)) {
      throw new Hl7Error('hl7.value', `Raw value for '${path}' contains '${JSON.stringify(b).slice(1, -1)}', which would change the message structure`, {
        details: { path },
      });
    }
  }
  return value;
}

function scanSegments(owner: Hl7Message, text: string, start: number, d: Hl7Delimiters): Segment[] {
  const segs: Segment[] = [];
  const n = text.length;
  const fs = d.field;
  const fsCode = fs.charCodeAt(0);
  let nextCr = text.indexOf(CR, start);
  let nextLf = text.indexOf(LF, start);
  let pos = start;
  while (pos < n) {
    if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf(CR, pos);
    if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf(LF, pos);
    let end = nextCr === -1 ? nextLf : nextLf === -1 || nextCr < nextLf ? nextCr : nextLf;
    if (end === -1) end = n;
    // The terminator run: line breaks, and any blank or whitespace-only lines after them.
    let t = end;
    for (;;) {
      while (t < n) {
        const c = text.charCodeAt(t);
        if (c === 13 || c === 10) t++;
        else break;
      }
      let k = t;
      while (k < n) {
        const c = text.charCodeAt(k);
        if (c === 32 || c === 9 || c === 11 || c === 12) k++;
        else break;
      }
      if (k > t && (k === n || text.charCodeAt(k) === 13 || text.charCodeAt(k) === 10)) {
        t = k;
        continue;
      }
      break;
    }
    let term: string;
    const tl = t - end;
    if (tl === 0) term = '';
    else if (tl === 1) term = text.charCodeAt(end) === 13 ? CR : LF;
    else if (tl === 2 && text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10) term = CRLF;
    else term = text.slice(end, t);
    let name: string;
    if (pos + 3 >= end || text.charCodeAt(pos + 3) === fsCode) {
      name = segmentName(text, pos, Math.min(pos + 3, end));
    } else {
      const f = text.indexOf(fs, pos);
      name = text.slice(pos, f === -1 || f > end ? end : f);
    }
    segs.push(new Segment(owner, d, text.slice(pos, end), term, name));
    pos = t;
  }
  return segs;
}

const nameCache = new Map<number, string>();

/** Three-letter names are interned: a message has few distinct ones and they are compared a lot. */
function segmentName(text: string, from: number, to: number): string {
  if (to - from !== 3) return text.slice(from, to);
  const c0 = text.charCodeAt(from);
  const c1 = text.charCodeAt(from + 1);
  const c2 = text.charCodeAt(from + 2);
  if (c0 > 0x7f || c1 > 0x7f || c2 > 0x7f) return text.slice(from, to);
  const key = (c0 << 16) | (c1 << 8) | c2;
  let name = nameCache.get(key);
  if (name === undefined) {
    name = text.slice(from, to);
    if (nameCache.size < 4096) nameCache.set(key, name);
  }
  return name;
}

/**
 * Parses an HL7 v2 message. Cheap: it reads the delimiters and finds the segments; fields are
 * split only when read.
 *
 * Accepts CR, LF or CRLF segment terminators (as written, mixed, with blank lines), leading
 * whitespace and a UTF-8 byte order mark. Bytes are read in the charset MSH-18 declares
 * (`8859/1` and `ASCII` one byte per char), else as UTF-8, or as ISO-8859-1 when they are not
 * valid UTF-8 (see {@link Hl7Message.charset}). Delimiters come from MSH-1 and MSH-2, all
 * distinct: MSH-1 must be a printable, non-alphanumeric ASCII character; MSH-2 may also hold
 * non-ASCII characters (read leniently, as HAPI does: a mis-encoded sender's message is still
 * accepted raw-first). MSH-2 may be shorter than four characters (the missing ones default to
 * `~\&`) or five long (v2.7 truncation character).
 *
 * @param input - the message text or bytes
 * @throws Hl7Error `hl7.parse` only when the input is not HL7 at all: it does not start with
 *   `MSH` (after the BOM and whitespace), or its delimiters cannot be read
 */
export function parseMessage(input: string | Uint8Array): Hl7Message {
  let text: string;
  let hasBom = false;
  let bytes: Uint8Array | undefined;
  let read: CharsetRead | undefined;
  if (typeof input === 'string') {
    text = input;
    if (text.charCodeAt(0) === 0xfeff) {
      hasBom = true;
      text = text.slice(1);
    }
  } else if (input instanceof Uint8Array) {
    bytes = input;
    let body = input;
    if (input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
      hasBom = true;
      body = input.subarray(3);
    }
    const decoded = decodeHl7Bytes(body);
    text = decoded.text;
    read = { charset: decoded.charset, declared: decoded.declared };
  } else {
    throw new Hl7Error('hl7.parse', 'Not an HL7 message: expected a string or a Uint8Array');
  }
  let start = 0;
  while (start < text.length && text.charCodeAt(start) <= 0x20) start++;
  if (!text.startsWith('MSH', start)) {
    throw new Hl7Error('hl7.parse', 'Not an HL7 message: it does not start with an MSH segment', { details: { length: text.length, reason: 'no_msh' } });
  }
  const delimiters = readDelimiters(text, start + 3);
  return new Hl7Message(text, start, delimiters, hasBom, bytes, read);
}

function readDelimiters(text: string, at: number): Hl7Delimiters {
  const fail = (why: string): Hl7Error => new Hl7Error('hl7.parse', `Not an HL7 message: cannot read the delimiters (${why})`, { details: { reason: 'delimiters' } });
  const fs = text.charCodeAt(at);
  if (!isDelimiterChar(fs)) throw fail('MSH-1, the field separator, must be a printable non-alphanumeric character');
  let end = at + 1;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if (c === fs || c === 13 || c === 10) break;
    end++;
  }
  const enc = text.slice(at + 1, end);
  if (enc.length === 0) throw fail('MSH-2, the encoding characters, is empty');
  if (enc.length > 5) throw fail('MSH-2, the encoding characters, is longer than 5 characters');
  const field = text[at];
  if (field === '|' && enc === '^~\\&') return DEFAULT_DELIMITERS;
  const used = new Set<string>([field]);
  for (const ch of enc) {
    if (!isLenientDelimiterChar(ch)) throw fail('MSH-2 holds a character that cannot be a delimiter');
    if (used.has(ch)) throw fail('two delimiters are the same character');
    used.add(ch);
  }
  const defaults = ['^', '~', '\\', '&'];
  const pick = (k: number): string => {
    if (k < enc.length) return enc[k];
    const d = defaults[k];
    if (used.has(d)) throw fail(`MSH-2 is too short and the default '${d}' is already used`);
    used.add(d);
    return d;
  };
  const component = pick(0);
  const repetition = pick(1);
  const escapeChar = pick(2);
  const subcomponent = pick(3);
  const d: { -readonly [K in keyof Hl7Delimiters]: Hl7Delimiters[K] } = { field, component, repetition, escape: escapeChar, subcomponent };
  if (enc.length === 5) d.truncation = enc[4];
  return Object.freeze(d);
}
