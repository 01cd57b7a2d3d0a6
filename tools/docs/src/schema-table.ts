/**
 * Markdown tables of settings from JSON Schema (as `z.toJSONSchema` makes it): one row per field,
 * nested objects flattened to dotted names, with type, default, limits and description.
 */
import type { JsonSchema } from '@hie/config';

/** One documented field. */
export interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  defaultValue?: string;
  limits: string[];
  description: string;
  secret: boolean;
}

type Schema = JsonSchema & Record<string, unknown>;

const asSchema = (v: unknown): Schema | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Schema) : undefined);

/** Follows a local `$ref` (`#/$defs/x`) against the document root. */
function deref(s: Schema, root: Schema): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return s;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = asSchema(node)?.[part];
  return { ...(asSchema(node) ?? {}), ...s, $ref: undefined } as Schema;
}

const alternatives = (s: Schema): Schema[] | undefined => {
  const alts = s.anyOf ?? s.oneOf;
  return Array.isArray(alts) ? alts.map((a) => asSchema(a) ?? {}) : undefined;
};

/** A short human type: `string`, `integer`, `"a" \| "b"`, `string[]`, `object`. */
export function typeOf(input: Schema, root: Schema): string {
  const s = deref(input, root);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = alternatives(s);
  if (alts) return [...new Set(alts.map((a) => typeOf(a, root)))].join(' \\| ');
  if (s.type === 'array') {
    const items = asSchema(s.items);
    const inner = items ? typeOf(items, root) : 'any';
    return inner.includes(' ') ? `(${inner})[]` : `${inner}[]`;
  }
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  if (typeof s.type === 'string') return s.format ? `${s.type} (${String(s.format)})` : s.type;
  return 'any';
}

function limitsOf(s: Schema): string[] {
  const out: string[] = [];
  const add = (key: string, label: string) => {
    if (typeof s[key] === 'number') out.push(`${label} ${String(s[key])}`);
  };
  add('minimum', '≥');
  add('exclusiveMinimum', '>');
  add('maximum', '≤');
  add('exclusiveMaximum', '<');
  add('minLength', 'length ≥');
  add('maxLength', 'length ≤');
  add('minItems', 'items ≥');
  add('maxItems', 'items ≤');
  return out;
}

/** The fields of an object schema, depth first; nested objects become `parent.child` rows. */
export function fieldRows(schema: JsonSchema, prefix = '', root: Schema = schema as Schema, depth = 0): FieldRow[] {
  const s = deref(schema as Schema, root);
  const props = asSchema(s.properties);
  if (!props) return [];
  const required = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  const rows: FieldRow[] = [];
  for (const [key, raw] of Object.entries(props)) {
    const field = deref(asSchema(raw) ?? {}, root);
    const name = prefix ? `${prefix}.${key}` : key;
    const nested = asSchema(field.properties) && depth < 3;
    rows.push({
      name,
      type: nested ? 'object' : typeOf(field, root),
      required: required.has(key) && field.default === undefined,
      defaultValue: field.default === undefined ? undefined : JSON.stringify(field.default),
      limits: limitsOf(field),
      description: typeof field.description === 'string' ? field.description : '',
      secret: field.secret === true || field.writeOnly === true,
    });
    if (nested) rows.push(...fieldRows(field as JsonSchema, name, root, depth + 1));
  }
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();

/** A Markdown table of the rows (or a line saying there are none). */
export function fieldTable(rows: FieldRow[]): string {
  if (rows.length === 0) return '_No settings._\n';
  const lines = ['| Setting | Type | Default | Limits | Description |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const flags = [r.required ? '**required**' : '', r.secret ? '🔒 secret (write-only)' : ''].filter(Boolean).join(' ');
    const desc = [flags, cell(r.description)].filter(Boolean).join(' ');
    // Types already escape their own `|`; the rest may hold user text.
    lines.push(`| \`${r.name}\` | ${r.type.replace(/(?<!\\)\|/g, '\\|')} | ${r.defaultValue === undefined ? '' : `\`${cell(r.defaultValue)}\``} | ${r.limits.join(', ')} | ${desc} |`);
  }
  return `${lines.join('\n')}\n`;
}
