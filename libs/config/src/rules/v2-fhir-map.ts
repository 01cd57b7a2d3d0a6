/**
 * How an `hl7v2.to.fhir` map turns an HL7 v2 message into a FHIR Bundle: pure and isomorphic, so
 * the engine converts with it and the portal's map editor previews with the very same code in
 * the browser. Like `applyOperations`, it reads the message through a small structural interface
 * (`V2FhirMessage` of @hie/hl7 fits) and is handed @hie/hl7's path parser: this base lib imports
 * nothing of ours, and HL7 paths have one grammar, not two.
 */
import { HieError } from '../errors';
import type { V2FhirMap, V2FhirResource, V2FhirRule } from '../item-types/hl7v2-to-fhir';

/** A parsed HL7 v2 path (`V2Path` of @hie/hl7 fits). */
export interface V2Path {
  readonly segment: string;
  readonly segmentIndex?: number;
  readonly field?: number;
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
}

/** One segment as the map reads it (`Hl7Segment` of @hie/hl7 fits). */
export interface V2FhirSegment {
  get(field: number, component?: number, subcomponent?: number, repetition?: number): string | undefined;
  repetitionCount(field: number): number;
}

/** The message a map reads (`V2FhirMessage` of @hie/hl7 fits). */
export interface V2FhirMessage {
  segments(name: string): readonly unknown[];
  segment(name: string, occurrence?: number): V2FhirSegment | undefined;
}

/** What compiling a map needs from outside this lib. */
export interface V2FhirMapOptions {
  /** @hie/hl7's `parsePath`: throws on a path its grammar refuses. */
  parsePath: (path: string) => V2Path;
  /**
   * The id of each Bundle entry (`fullUrl` = `urn:uuid:<id>`).
   * @defaultValue `crypto.randomUUID()`
   */
  newId?: () => string;
}

/** A FHIR JSON object as the map builds it. */
type Json = Record<string, unknown>;

/** What a map made of one message. */
export interface V2FhirResult {
  bundle: Json;
  /** Values that could not be converted (a bad date, text where a number was expected): skipped, named here. */
  warnings: string[];
}

interface Step {
  name: string;
  /** A fixed 0-based index, `'*'` (one per repetition of the source field), or none (a single element). */
  index?: number | '*';
}

interface CompiledRule {
  rule: V2FhirRule;
  target: Step[];
  each: boolean;
  source?: V2Path;
  sources?: V2Path[];
  when?: V2Path;
  whenIn?: ReadonlySet<string>;
}

interface CompiledResource {
  def: V2FhirResource;
  rules: CompiledRule[];
}

/** A map checked once (paths parsed), ready to run on many messages. */
export interface CompiledV2FhirMap {
  map: V2FhirMap;
  resources: CompiledResource[];
  newId: () => string;
}

function parseTarget(target: string): Step[] {
  return target.split('.').map((part) => {
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+|\*)\])?$/.exec(part);
    if (!m) throw new HieError('fhir.map_invalid', `invalid target path "${target}"`, { kind: 'user' });
    return { name: m[1], index: m[2] === undefined ? undefined : m[2] === '*' ? '*' : Number(m[2]) };
  });
}

function parseV2(parsePath: V2FhirMapOptions['parsePath'], path: string, where: string): V2Path {
  try {
    return parsePath(path);
  } catch (e) {
    throw new HieError('fhir.map_invalid', `${where}: ${e instanceof Error ? e.message : String(e)}`, { kind: 'user', cause: e });
  }
}

/**
 * Check a map and parse its paths once. Throws `fhir.map_invalid` (a user error) on a path the
 * schema let through but the HL7 path grammar refuses.
 */
export function compileV2FhirMap(map: V2FhirMap, options: V2FhirMapOptions): CompiledV2FhirMap {
  const { parsePath } = options;
  const v2 = (path: string, where: string) => parseV2(parsePath, path, where);
  return {
    map,
    newId: options.newId ?? (() => globalThis.crypto.randomUUID()),
    resources: map.resources.map((def) => ({
      def,
      rules: def.rules.map((rule, i): CompiledRule => {
        const where = `map ${map.name}, ${def.id} rule ${i + 1} (${rule.target})`;
        return {
          rule,
          target: parseTarget(rule.target),
          each: rule.target.includes('[*]'),
          source: rule.source === undefined ? undefined : v2(rule.source, where),
          sources: rule.sources?.map((s) => v2(s, where)),
          when: rule.when === undefined ? undefined : v2(rule.when, where),
          whenIn: rule.whenIn ? new Set(rule.whenIn) : undefined,
        };
      }),
    })),
  };
}

/** The value at a path, in the current segment occurrence (forEach) and field repetition ([*]); `''` when absent. */
function readAt(msg: V2FhirMessage, p: V2Path, seg: { name: string; occurrence: number } | undefined, repetition: number | undefined): string {
  // Segment views, not path strings: no path is formatted and parsed again per message.
  const occurrence = p.segmentIndex ?? (seg && p.segment === seg.name ? seg.occurrence : 1);
  const segment = msg.segment(p.segment, occurrence);
  if (!segment || p.field === undefined) return '';
  const v = segment.get(p.field, p.component, p.subcomponent, p.repetition ?? repetition ?? 1);
  return v === undefined || v === '""' ? '' : v.trim();
}

const TS = /^(\d{4})(\d{2})?(\d{2})?(?:(\d{2})(\d{2})?(\d{2})?(\.\d{1,4})?)?([+-]\d{4})?$/;

/**
 * HL7 DT/DTM/TS → FHIR `date` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) or `dateTime` (a time gets
 * seconds and an offset: the value's own, else `timezone`). `undefined` when it is no date.
 * @see https://hl7.org/fhir/R4/datatypes.html#dateTime
 */
export function hl7DateToFhir(value: string, kind: 'date' | 'dateTime', timezone = 'Z'): string | undefined {
  const m = TS.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) return undefined;
  if (d !== undefined && (Number(d) < 1 || Number(d) > 31)) return undefined;
  const date = [y, mo, d].filter((x) => x !== undefined).join('-');
  if (kind === 'date' || h === undefined) return date;
  if (d === undefined || Number(h) > 23 || Number(mi ?? 0) > 59 || Number(s ?? 0) > 59) return undefined;
  const offset = tz === undefined ? timezone : tz === '+0000' || tz === '-0000' ? 'Z' : `${tz.slice(0, 3)}:${tz.slice(3)}`;
  return `${date}T${h}:${mi ?? '00'}:${s ?? '00'}${frac ?? ''}${offset}`;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const RANGE = /^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$/;
const BOUND = /^\s*([<>]=?)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** Low or high end of an HL7 reference range (`3.5-5.0`, `<10`, `>=2`). */
export function rangeEnd(value: string, end: 'low' | 'high'): number | undefined {
  const r = RANGE.exec(value);
  if (r) return Number(end === 'low' ? r[1] : r[2]);
  const b = BOUND.exec(value);
  if (b) return (b[1].startsWith('>') ? 'low' : 'high') === end ? Number(b[2]) : undefined;
  return undefined;
}

interface Instance {
  compiled: CompiledResource;
  /** 1-based occurrence of the resource's segment (forEach). */
  occurrence?: number;
  resource: Json;
  fullUrl: string;
}

/** Set `value` at `steps` (with `[*]` = `rep`, 0-based), creating objects and arrays on the way. */
function setAt(obj: Json, steps: Step[], rep: number, value: unknown): void {
  let cur: Json = obj;
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    if (step.index === undefined) {
      if (last) cur[step.name] = value;
      else cur = (cur[step.name] ??= {}) as Json;
      return;
    }
    const arr = (cur[step.name] ??= []) as unknown[];
    const at = step.index === '*' ? rep : step.index;
    if (last) arr[at] = value;
    else cur = (arr[at] ??= {}) as Json;
  });
}

/** Drop holes in arrays (a repetition that gave nothing) and objects left empty. */
function compact(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(compact).filter((x) => x !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) {
      const c = compact(x);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v === '' ? undefined : v;
}

/** `identifier=system|value` of a resource's first identifier with both, or undefined. */
function identifierQuery(resource: Json): string | undefined {
  const first = (resource['identifier'] as Json[] | undefined)?.find((i) => typeof i['system'] === 'string' && typeof i['value'] === 'string');
  return first ? `identifier=${encodeURIComponent(first['system'] as string)}|${encodeURIComponent(first['value'] as string)}` : undefined;
}

/**
 * Run a compiled map on a message: one Bundle (the map's type) with an entry per resource made.
 * No eval: the rules are interpreted, the functions a closed set.
 */
export function runV2FhirMap(compiled: CompiledV2FhirMap, msg: V2FhirMessage): V2FhirResult {
  const { map } = compiled;
  const warnings: string[] = [];
  const instances: Instance[] = [];
  const byId = new Map<string, Instance[]>();

  for (const res of compiled.resources) {
    const { def } = res;
    const count = def.segment ? msg.segments(def.segment).length : 1;
    if (count === 0) continue;
    const occurrences = def.forEach ? Array.from({ length: count }, (_, i) => i + 1) : [def.segment ? 1 : undefined];
    const made: Instance[] = [];
    for (const occurrence of occurrences) {
      const inst: Instance = { compiled: res, occurrence, resource: { resourceType: def.resourceType }, fullUrl: `urn:uuid:${compiled.newId()}` };
      made.push(inst);
      instances.push(inst);
    }
    byId.set(def.id, made);
  }

  const read = (p: V2Path, inst: Instance, rep: number | undefined) =>
    readAt(msg, p, inst.compiled.def.segment && inst.occurrence !== undefined ? { name: inst.compiled.def.segment, occurrence: inst.occurrence } : undefined, rep);

  const value = (c: CompiledRule, inst: Instance, rep: number | undefined): unknown => {
    const r = c.rule;
    const src = c.source ? read(c.source, inst, rep) : '';
    const warn = (what: string) => {
      warnings.push(`${inst.compiled.def.id}.${r.target}: ${what} "${src}" from ${r.source} skipped`);
      return undefined;
    };
    switch (r.fn) {
      case 'copy':
        return src || r.value;
      case 'date':
      case 'dateTime':
        return src ? (hl7DateToFhir(src, r.fn, map.timezone) ?? warn(`not an HL7 ${r.fn === 'date' ? 'date' : 'time'}`)) : undefined;
      case 'number':
        return src ? (NUMBER.test(src) ? Number(src) : warn('not a number')) : undefined;
      case 'rangeLow':
      case 'rangeHigh':
        return src ? rangeEnd(src, r.fn === 'rangeLow' ? 'low' : 'high') : undefined;
      case 'lookup': {
        const table = map.tables[r.table ?? ''] ?? {};
        return (src ? table[src] : undefined) ?? r.value;
      }
      case 'concat':
        return (c.sources ?? []).map((p) => read(p, inst, rep)).filter(Boolean).join(r.separator ?? ' ') || undefined;
      case 'constant':
        return r.value === 'true' ? true : r.value === 'false' ? false : r.value;
      case 'reference':
        return undefined; // second pass, once every resource has its identifiers
    }
  };

  const applies = (c: CompiledRule, inst: Instance, rep: number | undefined) => {
    if (!c.when) return true;
    const w = read(c.when, inst, rep);
    return w !== '' && (!c.whenIn || c.whenIn.has(w));
  };

  /** The repetitions a `[*]` rule runs over: those of its source (or `when`, or first concat source) field. */
  const repetitions = (c: CompiledRule, inst: Instance): number[] => {
    const p = c.source ?? c.when ?? c.sources?.[0];
    if (!p || p.field === undefined) return [1];
    const seg = inst.compiled.def.segment === p.segment && inst.occurrence !== undefined ? msg.segment(p.segment, inst.occurrence) : msg.segment(p.segment, p.segmentIndex ?? 1);
    return Array.from({ length: seg ? Math.max(1, seg.repetitionCount(p.field)) : 0 }, (_, i) => i + 1);
  };

  for (const inst of instances) {
    for (const c of inst.compiled.rules) {
      if (c.rule.fn === 'reference') continue;
      for (const rep of c.each ? repetitions(c, inst) : [undefined]) {
        if (!applies(c, inst, rep)) continue;
        const v = value(c, inst, rep);
        if (v !== undefined && v !== '') setAt(inst.resource, c.target, (rep ?? 1) - 1, v);
      }
    }
    inst.resource = (compact(inst.resource) as Json | undefined) ?? { resourceType: inst.compiled.def.resourceType };
  }

  const referenceTo = (target: Instance): Json => {
    const q = map.referenceStyle === 'conditional' && target.compiled.def.conditional !== 'none' ? identifierQuery(target.resource) : undefined;
    return { reference: q ? `${target.compiled.def.resourceType}?${q}` : target.fullUrl };
  };
  for (const inst of instances) {
    for (const c of inst.compiled.rules) {
      if (c.rule.fn !== 'reference' || !applies(c, inst, undefined)) continue;
      const targets = byId.get(c.rule.resource ?? '') ?? [];
      if (c.each) targets.forEach((t, i) => setAt(inst.resource, c.target, i, referenceTo(t)));
      else if (targets[0]) setAt(inst.resource, c.target, 0, referenceTo(targets[0]));
    }
  }

  const entries = instances.map((inst) => {
    const entry: Json = { fullUrl: inst.fullUrl, resource: inst.resource };
    if (map.bundleType === 'collection') return entry;
    const type = inst.compiled.def.resourceType;
    const key = inst.compiled.def.conditional === 'none' ? undefined : identifierQuery(inst.resource);
    if (key && inst.compiled.def.conditional === 'update') entry['request'] = { method: 'PUT', url: `${type}?${key}` };
    else if (key) entry['request'] = { method: 'POST', url: type, ifNoneExist: key };
    else entry['request'] = { method: 'POST', url: type };
    return entry;
  });
  return { bundle: { resourceType: 'Bundle', type: map.bundleType, entry: entries }, warnings };
}
