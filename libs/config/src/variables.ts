/**
 * Environment variables in item settings (IRIS System Default Settings, Mirth's configuration
 * map): any string inside an item's `settings` may hold `${NAME}` (an environment's value) or
 * `${secret:NAME}` (an environment's write-only secret).
 *
 * A spec is saved with its references unresolved: the setting a reference sits in is not
 * validated at save (its value is not known yet). At deploy the references are resolved with
 * the target environment's values and the resolved spec is validated like any other, so a
 * number setting such as `port` may hold `"${LAB_PORT}"`: a setting that is exactly one
 * reference takes the type its schema expects (`"2576"` → `2576`, `"true"` → `true`).
 * `${secret:…}` is allowed only in secret settings (it must never land where it is shown or sent
 * somewhere it does not belong).
 *
 * Isomorphic: the portal shows resolved values on hover with the same code.
 */
import { formatPath, type ConfigProblem } from './validate';
import type { JsonSchema } from './json-schema';
import { mapSecrets, type SecretPathLookup } from './secrets';

/** What a variable may be called: a letter or `_`, then letters, digits, `_` (at most 100). */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** One `${…}` in a setting. */
export interface VariableRef {
  name: string;
  /** `${secret:NAME}`. */
  secret: boolean;
}

// NAME as VARIABLE_NAME_PATTERN (the length is checked on the values' side).
const REFERENCE = /\$\{(secret:)?([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The references in a string. */
export function referencesIn(s: string): VariableRef[] {
  if (!s.includes('${')) return [];
  return [...s.matchAll(REFERENCE)].map((m) => ({ name: m[2]!, secret: m[1] !== undefined }));
}

/** `s` with each reference replaced by `fn`'s answer (`text`: the reference as written). */
export function replaceReferences(s: string, fn: (ref: VariableRef, text: string) => string): string {
  return s.replace(REFERENCE, (all: string, secret: string | undefined, name: string) => fn({ name, secret: secret !== undefined }, all));
}

/** The reference a string is made of, when it is exactly one `${…}` and nothing else. */
export function soleReference(s: string): VariableRef | undefined {
  const m = /^\$\{(secret:)?([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(s);
  return m ? { name: m[2]!, secret: m[1] !== undefined } : undefined;
}

/** Where a setting holding references sits in a spec. */
export interface ReferenceLocation {
  /** Index of the item in `items`. */
  index: number;
  item: string;
  /** Path inside the item's settings. */
  path: (string | number)[];
  /** Path from the spec's root. */
  specPath: (string | number)[];
  /** The setting's text. */
  value: string;
  refs: VariableRef[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function eachString(v: unknown, path: (string | number)[], fn: (s: string, path: (string | number)[]) => void): void {
  if (typeof v === 'string') fn(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => eachString(x, [...path, i], fn));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) eachString(x, [...path, k], fn);
}

/** Every item setting of `spec` that holds at least one reference. */
export function findReferences(spec: unknown): ReferenceLocation[] {
  const out: ReferenceLocation[] = [];
  const items = isRecord(spec) && Array.isArray(spec['items']) ? spec['items'] : [];
  items.forEach((item: unknown, index) => {
    if (!isRecord(item)) return;
    const name = typeof item['name'] === 'string' ? item['name'] : '';
    eachString(item['settings'], [], (value, path) => {
      const refs = referencesIn(value);
      if (refs.length > 0) out.push({ index, item: name, path, specPath: ['items', index, 'settings', ...path], value, refs });
    });
  });
  return out;
}

/** The names a spec refers to, each once, sorted (`secret:` ones apart). */
export function referencedVariables(spec: unknown): { plain: string[]; secret: string[] } {
  const plain = new Set<string>();
  const secret = new Set<string>();
  for (const at of findReferences(spec)) for (const r of at.refs) (r.secret ? secret : plain).add(r.name);
  return { plain: [...plain].sort(), secret: [...secret].sort() };
}

function problem(path: (string | number)[], code: string, message: string): ConfigProblem {
  return { path, pathText: formatPath(path), code, message };
}

/** Whether `path` lies at or under `prefix`. */
function under(path: readonly (string | number)[], prefix: readonly (string | number)[]): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => path[i] === k);
}

/**
 * Problems of the references themselves, found at save: `${secret:…}` outside a secret setting.
 */
export function referenceProblems(spec: unknown, secretsOf: SecretPathLookup): ConfigProblem[] {
  const secretPlaces = new Set<string>();
  mapSecrets(spec, secretsOf, (v, at) => {
    secretPlaces.add(formatPath(at.specPath));
    return v;
  });
  const problems: ConfigProblem[] = [];
  for (const at of findReferences(spec)) {
    const secret = at.refs.find((r) => r.secret);
    if (secret && !secretPlaces.has(formatPath(at.specPath))) {
      problems.push(
        problem(at.specPath, 'secret_reference', `\${secret:${secret.name}} may only be used in a secret setting (item "${at.item}", ${formatPath(at.path)})`),
      );
    }
  }
  return problems;
}

/**
 * The spec as it can be validated before its references are resolved: each setting holding a
 * reference is left out (its value is unknown until deploy). Pair it with
 * {@link dropReferenceProblems}.
 */
export function withoutReferences<T>(spec: T): T {
  const locations = findReferences(spec);
  if (locations.length === 0) return spec;
  const copy = structuredClone(spec) as Record<string, unknown>;
  for (const at of locations) {
    let parent: unknown = copy;
    for (const k of at.specPath.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[k];
    const last = at.specPath[at.specPath.length - 1]!;
    if (Array.isArray(parent)) parent[last as number] = undefined;
    else delete (parent as Record<string, unknown>)[last as string];
  }
  return copy as T;
}

/** `problems` without those about a setting that holds a reference (checked at deploy instead). */
export function dropReferenceProblems(spec: unknown, problems: ConfigProblem[]): ConfigProblem[] {
  const locations = findReferences(spec);
  if (locations.length === 0) return problems;
  return problems.filter((p) => !locations.some((at) => under(p.path, at.specPath)));
}

/** An environment's values, as resolution needs them. */
export interface VariableValues {
  /** The environment's name (for messages). */
  environment: string;
  plain: ReadonlyMap<string, string>;
  secret: ReadonlyMap<string, string>;
}

/** The JSON Schema of an item type's settings (undefined for an unknown type). */
export type SettingsSchemaLookup = (type: string) => JsonSchema | undefined;

/** The JSON Schema `type` at `path` inside `schema` (properties, records, lists, unions). */
export function schemaTypeAt(schema: JsonSchema | undefined, path: readonly (string | number)[]): string | undefined {
  let s: unknown = schema;
  for (const key of path) {
    s = stepInto(s, key);
    if (s === undefined) return undefined;
  }
  return typeOf(s);
}

function typeOf(s: unknown): string | undefined {
  if (!isRecord(s)) return undefined;
  if (typeof s['type'] === 'string') return s['type'];
  for (const k of ['anyOf', 'oneOf']) {
    const list = s[k];
    if (Array.isArray(list)) {
      const types = list.map(typeOf).filter((t): t is string => t !== undefined && t !== 'null');
      if (types.length > 0 && types.every((t) => t === types[0])) return types[0];
    }
  }
  return undefined;
}

function stepInto(s: unknown, key: string | number): unknown {
  if (!isRecord(s)) return undefined;
  if (typeof key === 'string' && isRecord(s['properties']) && Object.hasOwn(s['properties'], key)) return s['properties'][key];
  if (typeof key === 'number' && isRecord(s['items'])) return s['items'];
  if (typeof key === 'string' && isRecord(s['additionalProperties'])) return s['additionalProperties'];
  for (const k of ['anyOf', 'oneOf', 'allOf']) {
    const list = s[k];
    if (!Array.isArray(list)) continue;
    for (const sub of list) {
      const found = stepInto(sub, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** What {@link resolveReferences} answers. */
export type ResolveReferencesResult<T> = { ok: true; spec: T } | { ok: false; problems: ConfigProblem[] };

/**
 * `spec` with every reference replaced by the environment's value (the spec itself is not
 * changed). A setting that is exactly one reference takes the type its schema expects (number,
 * integer, boolean). Every missing variable is reported at once, naming the item, the setting
 * and the variable.
 */
export function resolveReferences<T>(spec: T, values: VariableValues, schemaOf?: SettingsSchemaLookup): ResolveReferencesResult<T> {
  const locations = findReferences(spec);
  if (locations.length === 0) return { ok: true, spec };
  const problems: ConfigProblem[] = [];
  const copy = structuredClone(spec) as Record<string, unknown> & { items: Record<string, unknown>[] };
  for (const at of locations) {
    const where = `item "${at.item}", setting ${formatPath(at.path)}`;
    const missing = at.refs.filter((r) => !(r.secret ? values.secret : values.plain).has(r.name));
    for (const r of missing) {
      const shown = r.secret ? `secret:${r.name}` : r.name;
      problems.push(problem(at.specPath, 'variable_missing', `${where}: variable ${shown} is not set in environment "${values.environment}"`));
    }
    if (missing.length > 0) continue;
    const text = replaceReferences(at.value, (r) => (r.secret ? values.secret : values.plain).get(r.name) ?? '');
    let value: unknown = text;
    const sole = soleReference(at.value);
    const type = sole ? schemaTypeAt(schemaOf?.(String(copy.items[at.index]?.['type'])), at.path) : undefined;
    if (type === 'number' || type === 'integer') {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      if (Number.isFinite(n)) value = n;
      else {
        problems.push(problem(at.specPath, 'variable_type', `${where}: variable ${sole!.name} must be a number here (it is not)`));
        continue;
      }
    } else if (type === 'boolean') {
      if (text === 'true' || text === 'false') value = text === 'true';
      else {
        problems.push(problem(at.specPath, 'variable_type', `${where}: variable ${sole!.name} must be true or false here`));
        continue;
      }
    }
    let parent: unknown = copy;
    for (const k of at.specPath.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[k];
    (parent as Record<string | number, unknown>)[at.specPath[at.specPath.length - 1]!] = value;
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, spec: copy as T };
}

/**
 * Problems of a resolved spec, each about a setting that held a reference, told where its value
 * came from (`… (from ${DOWNSTREAM_HOST} in environment "prod")`).
 */
export function explainResolvedProblems(spec: unknown, problems: ConfigProblem[], environment: string): ConfigProblem[] {
  const locations = findReferences(spec);
  return problems.map((p) => {
    const at = locations.find((l) => under(p.path, l.specPath));
    if (!at) return p;
    const names = at.refs.map((r) => (r.secret ? `\${secret:${r.name}}` : `\${${r.name}}`)).join(', ');
    return { ...p, message: `${p.message} (from ${names} in environment "${environment}")` };
  });
}
