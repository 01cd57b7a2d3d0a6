'use client';
/**
 * Forms generated from JSON Schema (what `z.toJSONSchema` produces for the item types' and
 * the common settings' zod schemas). A new item type needs no UI code: strings, numbers,
 * booleans, enums, nested objects, lists of primitives, key/value records and lists of simple
 * objects get real controls; anything else (unions, recursive conditions) gets a JSON editor
 * with inline parse errors. Unset fields show their default; clearing a field removes the key
 * so the default applies.
 */
import { createContext, useContext, useId, useState, type ReactNode } from 'react';
import { enumLabel, formatPath, SECRET_PLACEHOLDER } from '@hie/config';
import { JsonEditor } from './json-editor';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  /** A secret setting (zod `secret()`): write-only, shown as "••• set" by the API. */
  secret?: boolean;
}

export type Path = (string | number)[];

/** A widget replacing the generated control at one path. */
export type Widget = (props: { value: unknown; onChange: (v: unknown) => void; disabled: boolean; errors: string[]; label: string }) => ReactNode;

interface FormCtx {
  root: JsonSchema;
  /** Errors by path text, relative to the item (e.g. `settings.port`). */
  errors: Map<string, string[]>;
  /** Prepended to form paths to look errors up (e.g. ['settings']). */
  errorBase: Path;
  disabled: boolean;
  idPrefix: string;
  labels: Record<string, string>;
  widgets: Record<string, Widget>;
  examples: Record<string, unknown>;
  /** Search text: only fields whose label, key or help contain it are shown. */
  filter: string;
  onChange: (path: Path, value: unknown) => void;
}

const Ctx = createContext<FormCtx | null>(null);
function useForm(): FormCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('schema field outside <SchemaForm>');
  return c;
}

const ACRONYMS: Record<string, string> = {
  tls: 'TLS',
  http: 'HTTP',
  https: 'HTTPS',
  url: 'URL',
  ack: 'ACK',
  id: 'ID',
  hl7: 'HL7',
  mllp: 'MLLP',
  ca: 'CA',
  ms: '(ms)',
  json: 'JSON',
  fhir: 'FHIR',
};

/** `idleTimeoutMs` → "Idle timeout (ms)", `caFile` → "CA file". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .split(/\s+/)
    .map((w) => w.toLowerCase());
  const out = words.map((w) => ACRONYMS[w] ?? w);
  const text = out.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "Queue: the item's inbound queue." → { title: 'Queue', help: "the item's inbound queue." } */
function splitDescription(d: string | undefined): { title?: string; help?: string } {
  if (!d) return {};
  const m = /^([A-Z][A-Za-z ]{1,30}): (.*)$/s.exec(d);
  if (m) return { title: m[1], help: m[2]!.charAt(0).toUpperCase() + m[2]!.slice(1) };
  return { help: d };
}

export function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && s.$ref; i++) {
    const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
    const target = m ? root.$defs?.[m[1]!] : undefined;
    if (!target) break;
    const { $ref: _ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  // Nullable: anyOf [X, {type: 'null'}] → X.
  const union = s.anyOf ?? s.oneOf;
  if (union && union.length === 2) {
    const nonNull = union.filter((u) => u.type !== 'null');
    if (nonNull.length === 1) {
      const { anyOf: _a, oneOf: _o, ...rest } = s;
      return resolve({ ...nonNull[0], ...rest }, root);
    }
  }
  return s;
}

function typeOf(s: JsonSchema): string | undefined {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null');
  return s.type;
}

type Kind = 'enum' | 'const' | 'boolean' | 'number' | 'string' | 'object' | 'record' | 'list' | 'objectList' | 'json';

function isPrimitiveKind(k: Kind) {
  return k === 'enum' || k === 'boolean' || k === 'number' || k === 'string';
}

export function kindOf(schema: JsonSchema | undefined, root: JsonSchema, depth = 0): Kind {
  const s = resolve(schema, root);
  if (s.enum) return 'enum';
  if (s.const !== undefined) return 'const';
  if (s.oneOf || s.anyOf || s.allOf) return 'json';
  const t = typeOf(s);
  if (t === 'boolean') return 'boolean';
  if (t === 'integer' || t === 'number') return 'number';
  if (t === 'string') return 'string';
  if (t === 'object') {
    if (s.properties && Object.keys(s.properties).length > 0) {
      if (depth > 3) return 'json';
      return 'object';
    }
    const ap = s.additionalProperties;
    if (ap && typeof ap === 'object' && isPrimitiveKind(kindOf(ap, root, depth + 1))) return 'record';
    return 'json';
  }
  if (t === 'array') {
    const ik = kindOf(s.items, root, depth + 1);
    if (isPrimitiveKind(ik) && ik !== 'boolean') return 'list';
    if (ik === 'object') {
      const item = resolve(s.items, root);
      const simple = Object.values(item.properties ?? {}).every((p) => {
        const k = kindOf(p, root, depth + 2);
        return isPrimitiveKind(k) || k === 'list' || k === 'const';
      });
      if (simple) return 'objectList';
    }
    return 'json';
  }
  return 'json';
}

function errorsAt(ctx: FormCtx, path: Path, prefix = false): string[] {
  const key = formatPath([...ctx.errorBase, ...path]);
  if (!prefix) return ctx.errors.get(key) ?? [];
  const out: string[] = [];
  for (const [k, msgs] of ctx.errors) {
    if (k === key) out.push(...msgs);
    else if (k.startsWith(key + '.') || k.startsWith(key + '[')) out.push(...msgs.map((m) => `${k.slice(key.length).replace(/^\./, '')}: ${m}`));
  }
  return out;
}

function controlId(ctx: FormCtx, path: Path): string {
  return `${ctx.idPrefix}-${formatPath(path).replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

function labelFor(ctx: FormCtx, path: Path, fallback: string): string {
  return ctx.labels[formatPath(path)] ?? fallback;
}

export function FieldErrors({ id, errors }: { id: string; errors: string[] }) {
  if (errors.length === 0) return null;
  return (
    <div id={id} className="error-text" role="alert">
      {errors.map((e, i) => (
        <div key={i}>{e}</div>
      ))}
    </div>
  );
}

function Help({ text, def }: { text?: string; def?: unknown }) {
  if (!text && def === undefined) return null;
  const showDef = def !== undefined && (typeof def !== 'object' || (Array.isArray(def) && def.length > 0));
  return (
    <span className="help">
      {text}
      {showDef ? <> {text ? '· ' : ''}Default: <code>{Array.isArray(def) ? def.join(', ') : String(def)}</code></> : null}
    </span>
  );
}

interface FieldProps {
  schema: JsonSchema;
  path: Path;
  value: unknown;
  label: string;
  required?: boolean;
}

function Field(props: FieldProps) {
  const ctx = useForm();
  const widget = ctx.widgets[formatPath(props.path)];
  if (widget) {
    return (
      <div className="field">
        {widget({
          value: props.value,
          onChange: (v) => ctx.onChange(props.path, v),
          disabled: ctx.disabled,
          errors: errorsAt(ctx, props.path, true),
          label: props.label,
        })}
      </div>
    );
  }
  const kind = kindOf(props.schema, ctx.root);
  switch (kind) {
    case 'enum':
      return <EnumField {...props} />;
    case 'boolean':
      return <BooleanField {...props} />;
    case 'number':
      return <NumberField {...props} />;
    case 'string':
      return <StringField {...props} />;
    case 'object':
      return <ObjectField {...props} />;
    case 'record':
      return <RecordField {...props} />;
    case 'list':
      return <ListField {...props} />;
    case 'objectList':
      return <ObjectListField {...props} />;
    case 'const':
      return null;
    default:
      return <JsonField {...props} />;
  }
}

function EnumField({ schema, path, value, label, required }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const id = controlId(ctx, path);
  const errors = errorsAt(ctx, path);
  const options = s.enum ?? [];
  const current = value ?? s.default;
  const { help } = splitDescription(s.description);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={current === undefined ? '' : String(current)}
        disabled={ctx.disabled}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={errors.length ? `${id}-err` : undefined}
        onChange={(e) => {
          const opt = options.find((o) => String(o) === e.target.value);
          ctx.onChange(path, e.target.value === '' ? undefined : opt);
        }}
      >
        {current === undefined || !required ? (
          current === undefined ? <option value="">— choose —</option> : null
        ) : null}
        {options.map((o) => (
          <option key={String(o)} value={String(o)}>
            {enumLabel(o)}
            {o === s.default ? ' (default)' : ''}
          </option>
        ))}
      </select>
      <Help text={help} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

function BooleanField({ schema, path, value, label }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const id = controlId(ctx, path);
  const errors = errorsAt(ctx, path);
  const checked = typeof value === 'boolean' ? value : s.default === true;
  const { help } = splitDescription(s.description);
  return (
    <div className="field">
      <div className="field inline">
        <input
          id={id}
          type="checkbox"
          checked={checked}
          disabled={ctx.disabled}
          aria-invalid={errors.length > 0 || undefined}
          onChange={(e) => ctx.onChange(path, e.target.checked)}
        />
        <label htmlFor={id}>{label}</label>
      </div>
      <Help text={help} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

function NumberField({ schema, path, value, label, required }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const id = controlId(ctx, path);
  const [draft, setDraft] = useState<string | null>(null);
  const [localError, setLocalError] = useState<string | null>(null);
  const integer = typeOf(s) === 'integer';
  const shown = draft ?? (typeof value === 'number' ? String(value) : value === undefined ? '' : String(value));
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const errors = [...(localError ? [localError] : []), ...errorsAt(ctx, path)];
  const range =
    s.minimum !== undefined || max !== undefined
      ? `${s.minimum !== undefined ? `min ${s.minimum}` : ''}${s.minimum !== undefined && max !== undefined ? ', ' : ''}${max !== undefined ? `max ${max}` : ''}`
      : undefined;
  const { help } = splitDescription(s.description);
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && s.default === undefined ? <span aria-hidden="true"> *</span> : null}
      </label>
      <input
        id={id}
        // Text, not "number": a number setting may hold an environment variable (`${LAB_PORT}`).
        type="text"
        inputMode={integer ? 'numeric' : 'decimal'}
        step={integer ? 1 : 'any'}
        min={s.minimum}
        max={max}
        value={shown}
        placeholder={s.default !== undefined ? String(s.default) : undefined}
        aria-required={(required && s.default === undefined) || undefined}
        disabled={ctx.disabled}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={errors.length ? `${id}-err` : undefined}
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          if (text.trim() === '') {
            setLocalError(null);
            ctx.onChange(path, undefined);
            return;
          }
          if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text.trim())) {
            // Resolved, and checked as a number, at deploy (see Environments).
            setLocalError(null);
            ctx.onChange(path, text.trim());
            return;
          }
          const n = Number(text);
          if (!Number.isFinite(n)) {
            setLocalError('Enter a number or a variable such as ${PORT}');
            return;
          }
          setLocalError(integer && !Number.isInteger(n) ? 'Must be a whole number' : null);
          ctx.onChange(path, n);
        }}
        onBlur={() => setDraft(null)}
      />
      <Help text={[help, range].filter(Boolean).join(' · ') || undefined} def={s.default} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

/**
 * A password input for a secret setting. The API never sends a stored secret, only "••• set":
 * the input then shows it as its placeholder and, left alone (or emptied again), sends it back
 * unchanged, which the manager reads as "keep the stored value". Typing replaces it; Clear
 * removes it.
 */
function SecretInput(props: {
  id?: string;
  value: unknown;
  onChange: (v: string | undefined) => void;
  disabled: boolean;
  placeholder?: string;
  className?: string;
  'aria-label'?: string;
  'aria-required'?: boolean;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}) {
  const { value, onChange, placeholder, ...rest } = props;
  // Whether a value is stored: decided once, so emptying the input restores "keep it".
  const [stored, setStored] = useState(value === SECRET_PLACEHOLDER);
  const isSet = value === SECRET_PLACEHOLDER;
  return (
    <span className="row nowrap">
      <input
        {...rest}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        value={isSet || typeof value !== 'string' ? '' : value}
        placeholder={isSet ? SECRET_PLACEHOLDER : placeholder}
        onChange={(e) => onChange(e.target.value === '' ? (stored ? SECRET_PLACEHOLDER : undefined) : e.target.value)}
      />
      {stored || (typeof value === 'string' && value !== '') ? (
        <button
          type="button"
          className="small"
          disabled={props.disabled}
          aria-label={`Clear ${props['aria-label'] ?? 'secret'}`}
          onClick={() => {
            setStored(false);
            onChange(undefined);
          }}
        >
          Clear
        </button>
      ) : null}
    </span>
  );
}

function StringField({ schema, path, value, label, required }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const id = controlId(ctx, path);
  const errors = errorsAt(ctx, path);
  const long = (s.maxLength ?? 0) > 200 || /description|segment|body|template/i.test(String(path[path.length - 1]));
  const { help } = splitDescription(s.description);
  const common = {
    id,
    value: typeof value === 'string' ? value : value === undefined ? '' : String(value),
    placeholder: typeof s.default === 'string' && s.default !== '' ? s.default : undefined,
    disabled: ctx.disabled,
    'aria-required': (required && s.default === undefined) || undefined,
    'aria-invalid': errors.length > 0 || undefined,
    'aria-describedby': errors.length ? `${id}-err` : undefined,
  };
  const set = (text: string) => ctx.onChange(path, text === '' ? undefined : text);
  // Unmarked fields that look secret (plugins without the mark) are at least not shown on screen.
  const secret = /password|token|secret/i.test(String(path[path.length - 1]));
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && s.default === undefined ? <span aria-hidden="true"> *</span> : null}
      </label>
      {s.secret === true ? (
        <SecretInput {...common} aria-label={label} value={value} onChange={(v) => ctx.onChange(path, v)} />
      ) : long ? (
        <textarea {...common} rows={3} onChange={(e) => set(e.target.value)} />
      ) : (
        <input {...common} type={secret ? 'password' : 'text'} autoComplete="off" spellCheck={false} onChange={(e) => set(e.target.value)} />
      )}
      <Help text={help} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

function ObjectField({ schema, path, value, label }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const { title, help } = splitDescription(s.description);
  const legend = labelFor(ctx, path, title ?? label);
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const errors = errorsAt(ctx, path);
  return (
    <fieldset>
      <legend>{legend}</legend>
      {help ? <p className="help" style={{ margin: '0 0 8px' }}>{help}</p> : null}
      <div className="form-grid">
        <Properties schema={s} path={path} value={obj} parentLabel={legend} />
      </div>
      <FieldErrors id={`${controlId(ctx, path)}-err`} errors={errors} />
    </fieldset>
  );
}

/**
 * Whether a field (or, for an object, any field inside it) matches a search: its label, key or
 * help text contains the words. An empty search matches everything.
 */
export function fieldMatches(schema: JsonSchema | undefined, root: JsonSchema, path: Path, label: string, query: string, labels: Record<string, string> = {}): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  const s = resolve(schema, root);
  const key = String(path[path.length - 1] ?? '');
  const hay = `${label} ${key} ${humanize(key)} ${s.description ?? ''} ${(s.enum ?? []).map(enumLabel).join(' ')}`.toLowerCase();
  if (q.split(/\s+/).every((w) => hay.includes(w))) return true;
  if (kindOf(s, root) === 'object') {
    return Object.entries(s.properties ?? {}).some(([k, sub]) => {
      const p = [...path, k];
      return fieldMatches(sub, root, p, labels[formatPath(p)] ?? humanize(k), q, labels);
    });
  }
  return false;
}

function Properties({ schema, path, value, parentLabel, exclude, include }: { schema: JsonSchema; path: Path; value: Record<string, unknown>; parentLabel?: string; exclude?: string[]; include?: string[] }) {
  const ctx = useForm();
  const required = new Set(schema.required ?? []);
  // Inside an object whose own name matched the search, every field shows.
  const parentMatched = path.length > 0 && ctx.filter !== '' && fieldMatches({ description: resolve(schema, ctx.root).description }, ctx.root, path, parentLabel ?? '', ctx.filter);
  return (
    <>
      {Object.entries(schema.properties ?? {})
        .filter(([key]) => !exclude?.includes(key) && (!include || include.includes(key)))
        .map(([key, sub]) => {
          const p = [...path, key];
          const fallback = key === 'enabled' && parentLabel ? `${parentLabel} enabled` : humanize(key);
          const label = labelFor(ctx, p, fallback);
          if (!parentMatched && !fieldMatches(sub, ctx.root, p, label, ctx.filter, ctx.labels)) return null;
          return <Field key={key} schema={sub} path={p} value={value[key]} label={label} required={required.has(key)} />;
        })}
    </>
  );
}

function ListField({ schema, path, value, label }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const itemSchema = resolve(s.items, ctx.root);
  const id = controlId(ctx, path);
  const list: unknown[] = Array.isArray(value) ? value : Array.isArray(s.default) ? s.default : [];
  const numeric = typeOf(itemSchema) === 'integer' || typeOf(itemSchema) === 'number';
  const errors = errorsAt(ctx, path, true);
  const set = (next: unknown[]) => ctx.onChange(path, next);
  const { help } = splitDescription(s.description);
  return (
    <div className="field" role="group" aria-labelledby={`${id}-label`}>
      <span className="label" id={`${id}-label`}>
        {label}
      </span>
      {list.length === 0 ? <span className="muted small">None</span> : null}
      {list.map((v, i) => (
        <div className="row nowrap" key={i}>
          {itemSchema.enum ? (
            <select
              aria-label={`${label} ${i + 1}`}
              value={String(v)}
              disabled={ctx.disabled}
              onChange={(e) => set(list.map((x, j) => (j === i ? e.target.value : x)))}
            >
              {itemSchema.enum.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {enumLabel(o)}
                </option>
              ))}
            </select>
          ) : (
            <input
              className="grow"
              aria-label={`${label} ${i + 1}`}
              type={numeric ? 'number' : 'text'}
              value={v === undefined || v === null ? '' : String(v)}
              disabled={ctx.disabled}
              onChange={(e) => set(list.map((x, j) => (j === i ? (numeric ? Number(e.target.value) : e.target.value) : x)))}
            />
          )}
          <button type="button" className="small icon" aria-label={`Remove ${label} ${i + 1}`} disabled={ctx.disabled} onClick={() => set(list.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <div>
        <button
          type="button"
          className="small"
          disabled={ctx.disabled}
          onClick={() => set([...list, itemSchema.enum ? itemSchema.enum[0] : numeric ? 0 : ''])}
        >
          + Add
        </button>
      </div>
      <Help text={help} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

function RecordField({ schema, path, value, label }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const id = controlId(ctx, path);
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const entries = Object.entries(obj);
  const errors = errorsAt(ctx, path, true);
  const set = (next: [string, unknown][]) => ctx.onChange(path, Object.fromEntries(next));
  const { help } = splitDescription(s.description);
  const secretValues = typeof s.additionalProperties === 'object' && resolve(s.additionalProperties, ctx.root).secret === true;
  return (
    <div className="field" role="group" aria-labelledby={`${id}-label`}>
      <span className="label" id={`${id}-label`}>
        {label}
      </span>
      {entries.length === 0 ? <span className="muted small">None</span> : null}
      {entries.map(([k, v], i) => (
        <div className="row nowrap" key={i}>
          <input
            aria-label={`${label} key ${i + 1}`}
            value={k}
            placeholder="key"
            disabled={ctx.disabled}
            style={{ width: '40%' }}
            onChange={(e) => set(entries.map((en, j) => (j === i ? [e.target.value, en[1]] : en)))}
          />
          {secretValues ? (
            <SecretInput
              aria-label={`${label} value ${i + 1}`}
              className="grow"
              value={v}
              placeholder="value"
              disabled={ctx.disabled}
              onChange={(text) => set(entries.map((en, j) => (j === i ? [en[0], text ?? ''] : en)))}
            />
          ) : (
            <input
              aria-label={`${label} value ${i + 1}`}
              className="grow"
              value={v === undefined || v === null ? '' : String(v)}
              placeholder="value"
              disabled={ctx.disabled}
              onChange={(e) => set(entries.map((en, j) => (j === i ? [en[0], e.target.value] : en)))}
            />
          )}
          <button type="button" className="small icon" aria-label={`Remove ${label} ${k}`} disabled={ctx.disabled} onClick={() => set(entries.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <div>
        <button
          type="button"
          className="small"
          disabled={ctx.disabled || '' in obj}
          onClick={() => set([...entries, ['', '']])}
        >
          + Add entry
        </button>
      </div>
      <Help text={help} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

function ObjectListField({ schema, path, value, label }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const itemSchema = resolve(s.items, ctx.root);
  const list: unknown[] = Array.isArray(value) ? value : [];
  const errors = errorsAt(ctx, path);
  const set = (next: unknown[]) => ctx.onChange(path, next);
  const move = (i: number, d: number) => {
    const next = [...list];
    const [x] = next.splice(i, 1);
    next.splice(i + d, 0, x);
    set(next);
  };
  const { help } = splitDescription(s.description);
  return (
    <fieldset>
      <legend>{label}</legend>
      {help ? <p className="help" style={{ margin: '0 0 8px' }}>{help}</p> : null}
      <div className="stack">
        {list.length === 0 ? <span className="muted small">None yet.</span> : null}
        {list.map((v, i) => (
          <fieldset key={i}>
            <legend>
              {label} #{i + 1}
            </legend>
            <div className="form-grid">
              <Properties
                schema={itemSchema}
                path={[...path, i]}
                value={v && typeof v === 'object' ? (v as Record<string, unknown>) : {}}
                parentLabel={`${label} #${i + 1}`}
              />
            </div>
            <div className="row" style={{ marginTop: 8 }}>
              <button type="button" className="small" disabled={ctx.disabled || i === 0} onClick={() => move(i, -1)} aria-label={`Move ${label} #${i + 1} up`}>
                ↑
              </button>
              <button
                type="button"
                className="small"
                disabled={ctx.disabled || i === list.length - 1}
                onClick={() => move(i, 1)}
                aria-label={`Move ${label} #${i + 1} down`}
              >
                ↓
              </button>
              <button type="button" className="small danger" disabled={ctx.disabled} onClick={() => set(list.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          </fieldset>
        ))}
        <div>
          <button type="button" className="small" disabled={ctx.disabled} onClick={() => set([...list, {}])}>
            + Add {label.toLowerCase()}
          </button>
        </div>
      </div>
      <FieldErrors id={`${controlId(ctx, path)}-err`} errors={errors} />
    </fieldset>
  );
}

function JsonField({ schema, path, value, label }: FieldProps) {
  const ctx = useForm();
  const s = resolve(schema, ctx.root);
  const id = controlId(ctx, path);
  const errors = errorsAt(ctx, path, true);
  const example = ctx.examples[formatPath(path)];
  const { help } = splitDescription(s.description);
  return (
    <div className="field">
      <label htmlFor={id}>{label} (JSON)</label>
      <JsonEditor
        id={id}
        value={value === undefined ? s.default : value}
        onChange={(v) => ctx.onChange(path, v)}
        disabled={ctx.disabled}
        example={example}
        invalid={errors.length > 0}
      />
      <Help text={help} />
      <FieldErrors id={`${id}-err`} errors={errors} />
    </div>
  );
}

const EMPTY_ERRORS = new Map<string, string[]>();

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown> | undefined;
  onChange: (path: Path, value: unknown) => void;
  errors?: Map<string, string[]>;
  errorBase?: Path;
  disabled?: boolean;
  /** Labels by path text (relative to the form), e.g. `{ 'queue.size': 'Queue size' }`. */
  labels?: Record<string, string>;
  widgets?: Record<string, Widget>;
  examples?: Record<string, unknown>;
  exclude?: string[];
  /** Only these top-level properties (the inspector's groups). */
  include?: string[];
  /** Search text (see {@link fieldMatches}). */
  filter?: string;
  idPrefix?: string;
}

/** Renders the properties of an object schema as labelled controls. */
export function SchemaForm({ schema, value, onChange, errors, errorBase = [], disabled = false, labels = {}, widgets = {}, examples = {}, exclude, include, filter = '', idPrefix }: SchemaFormProps) {
  const autoId = useId();
  const ctx: FormCtx = {
    root: schema,
    errors: errors ?? EMPTY_ERRORS,
    errorBase,
    disabled,
    idPrefix: (idPrefix ?? autoId).replace(/[^A-Za-z0-9_-]/g, ''),
    labels,
    widgets,
    examples,
    filter,
    onChange,
  };
  const root = resolve(schema, schema);
  if (typeOf(root) !== 'object' || !root.properties) {
    return <p className="muted small">This type has no settings.</p>;
  }
  return (
    <Ctx.Provider value={ctx}>
      <div className="form-grid">
        <Properties schema={root} path={[]} value={value ?? {}} exclude={exclude} include={include} />
      </div>
    </Ctx.Provider>
  );
}
