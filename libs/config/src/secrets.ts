/**
 * Secret settings (bearer tokens, header values, passwords): marked in the item type's zod
 * schema with {@link secret}, which `z.toJSONSchema` carries into the JSON Schema as
 * `"secret": true`. Both sides read that one mark: the manager (to redact, keep and encrypt the
 * values) and the portal (to show a password field). Plugin types are known to the manager only
 * by their JSON Schema, so everything here works from JSON Schema.
 *
 * Isomorphic: no `node:*` (encryption lives in the manager).
 */
import { z } from 'zod';
import type { JsonSchema } from './json-schema';

/**
 * What the API shows instead of a secret that is set. Sent back unchanged, it means "keep the
 * stored value"; any other string replaces it.
 */
export const SECRET_PLACEHOLDER = '••• set';

/** A path segment that matches every key of a record or every index of a list. */
export const ANY_KEY = '*';

/** Where secrets sit inside an item's settings: keys, with {@link ANY_KEY} for records and lists. */
export type SecretPath = readonly string[];

/** Marks a settings field as secret: write-only through the API, encrypted at rest. */
export function secret<T extends z.ZodType>(schema: T): T {
  return schema.meta({ secret: true });
}

/**
 * Binds an item type's secrets to the settings that say where they are sent (`url`, `host`):
 * when one of those changes, `••• set` no longer keeps the stored secrets and they must be
 * entered again — or anyone allowed to edit the item could point it, with its stored
 * credentials, at a server of their own. Shows in the JSON Schema as `"secretsBoundTo"`.
 */
export function bindSecretsTo<T extends z.ZodType>(settings: T, fields: readonly string[]): T {
  return settings.meta({ secretsBoundTo: [...fields] });
}

/** The settings an item type's secrets are bound to ({@link bindSecretsTo}), from its JSON Schema. */
export function secretsBoundTo(schema: JsonSchema): string[] {
  const fields = (schema as Record<string, unknown>)['secretsBoundTo'];
  return Array.isArray(fields) ? fields.filter((f): f is string => typeof f === 'string') : [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON Schema a `$ref` points at (`#` or `#/$defs/Name`), if it is local. */
function deref(ref: string, root: Record<string, unknown>): unknown {
  if (ref === '#') return root;
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const defs = root['$defs'];
  return m && isRecord(defs) ? defs[m[1]!] : undefined;
}

/**
 * The paths of the fields marked `"secret": true` in a settings JSON Schema, walking
 * properties, records (`additionalProperties`), lists (`items`), unions and local `$ref`s
 * (each `$ref` followed at most {@link MAX_RECURSION} times along one path, so recursive
 * schemas end: a secret nested deeper in a recursive structure is not found — keep secrets out
 * of recursive settings).
 */
export function secretPaths(schema: JsonSchema): SecretPath[] {
  const out = new Map<string, SecretPath>();
  const root: Record<string, unknown> = { ...schema };
  const walk = (s: unknown, path: string[], refs: readonly string[]): void => {
    if (!isRecord(s) || path.length > 32) return;
    const ref = s['$ref'];
    if (typeof ref === 'string') {
      if (refs.filter((r) => r === ref).length >= MAX_RECURSION) return;
      walk(deref(ref, root), path, [...refs, ref]);
    }
    if (s['secret'] === true) {
      out.set(JSON.stringify(path), path);
      return;
    }
    const props = s['properties'];
    if (isRecord(props)) for (const [k, sub] of Object.entries(props)) walk(sub, [...path, k], refs);
    if (isRecord(s['additionalProperties'])) walk(s['additionalProperties'], [...path, ANY_KEY], refs);
    if (isRecord(s['items'])) walk(s['items'], [...path, ANY_KEY], refs);
    for (const key of ['anyOf', 'oneOf', 'allOf']) {
      const list = s[key];
      if (Array.isArray(list)) for (const sub of list) walk(sub, path, refs);
    }
  };
  walk(schema, [], []);
  return [...out.values()];
}

/** How often one `$ref` is followed along one path by {@link secretPaths}. */
export const MAX_RECURSION = 3;

const zodJsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

function jsonSchemaOf(settings: z.ZodType): JsonSchema {
  let schema = zodJsonSchemas.get(settings);
  if (!schema) {
    schema = z.toJSONSchema(settings, { io: 'input', unrepresentable: 'any' });
    zodJsonSchemas.set(settings, schema);
  }
  return schema;
}

/** {@link secretPaths} of a zod settings schema. */
export function secretPathsOfSchema(settings: z.ZodType): SecretPath[] {
  return secretPaths(jsonSchemaOf(settings));
}

/** {@link secretsBoundTo} of a zod settings schema. */
export function secretsBoundToOfSchema(settings: z.ZodType): string[] {
  return secretsBoundTo(jsonSchemaOf(settings));
}

/** Where a secret value sits in a spec. */
export interface SecretLocation {
  /** Index of the item in `items`. */
  index: number;
  /** The item's name. */
  item: string;
  /** Path inside the item's settings (`['headers', 'Authorization']`). */
  path: (string | number)[];
  /** Path from the spec's root (`['items', 0, 'settings', 'headers', 'Authorization']`). */
  specPath: (string | number)[];
}

/** The secret paths of an item type; undefined or empty when it has none (or is unknown). */
export type SecretPathLookup = (type: string) => readonly SecretPath[] | undefined;

function mapAt(
  value: unknown,
  pattern: SecretPath,
  i: number,
  path: (string | number)[],
  fn: (v: string, path: (string | number)[]) => unknown,
): unknown {
  if (i === pattern.length) return typeof value === 'string' ? fn(value, path) : value;
  const seg = pattern[i]!;
  if (Array.isArray(value)) {
    if (seg !== ANY_KEY) return value;
    return value.map((x, k) => mapAt(x, pattern, i + 1, [...path, k], fn));
  }
  if (!isRecord(value)) return value;
  if (seg === ANY_KEY) return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, mapAt(x, pattern, i + 1, [...path, k], fn)]));
  if (!Object.hasOwn(value, seg)) return value;
  return { ...value, [seg]: mapAt(value[seg], pattern, i + 1, [...path, seg], fn) };
}

/**
 * A copy of `settings` where every string at one of `paths` is replaced by `fn`'s answer
 * (`settings` is not changed).
 */
export function mapSettingsSecrets(settings: unknown, paths: readonly SecretPath[], fn: (value: string, path: (string | number)[]) => unknown): unknown {
  let out = settings;
  for (const pattern of paths) out = mapAt(out, pattern, 0, [], fn);
  return out;
}

/**
 * A copy of `spec` where every string at a secret path of an item's settings is replaced by
 * `fn`'s answer. Everything else is kept as it is (the same objects); `spec` is not changed.
 */
export function mapSecrets<T>(spec: T, secretsOf: SecretPathLookup, fn: (value: string, at: SecretLocation) => unknown): T {
  if (!isRecord(spec) || !Array.isArray(spec['items'])) return spec;
  const items = spec['items'].map((item: unknown, index) => {
    if (!isRecord(item) || typeof item['type'] !== 'string' || !isRecord(item['settings'])) return item;
    const paths = secretsOf(item['type']);
    if (!paths || paths.length === 0) return item;
    const name = typeof item['name'] === 'string' ? item['name'] : '';
    const settings = mapSettingsSecrets(item['settings'], paths, (v, path) => fn(v, { index, item: name, path, specPath: ['items', index, 'settings', ...path] }));
    return { ...item, settings };
  });
  return { ...spec, items };
}

/** The spec with every secret that is set (a non-empty string) shown as {@link SECRET_PLACEHOLDER}. */
export function redactSecrets<T>(spec: T, secretsOf: SecretPathLookup): T {
  return mapSecrets(spec, secretsOf, (v) => (v === '' ? v : SECRET_PLACEHOLDER));
}

/** The value at `path` inside `value` (undefined when a step is missing). */
export function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (Array.isArray(v) && typeof key === 'number') v = v[key];
    else if (isRecord(v) && typeof key === 'string' && Object.hasOwn(v, key)) v = v[key];
    else return undefined;
  }
  return v;
}
