'use client';
/**
 * A condition tree editor with no JSON: comparisons, AND / OR groups nested to any depth, NOT,
 * `in` lists. Generic over how a field is addressed (an HL7 path here, a FHIRPath for FHIR rules):
 * the caller names the field (`fieldLabel`, `fieldPlaceholder`) and may pass the result of a test
 * run (`result`, shaped like the condition) to show what each comparison read and whether it held.
 */
import type { ReactNode } from 'react';
import { HL7_DIALECT, type RuleOperator } from './rule-dialect';

/** A comparison on one field; `values` for `in`. */
export interface Comparison {
  path: string;
  op: string;
  value?: string;
  values?: string[];
}
/** A condition: a comparison, or and / or / not of conditions (the shape of @hie/config's `Condition`). */
export type ConditionValue = Comparison | { and: ConditionValue[] } | { or: ConditionValue[] } | { not: ConditionValue };

/** A test run's result for one node (the shape of @hie/config's `ConditionResult`). */
export interface NodeResult {
  matched: boolean;
  actual?: string;
  error?: string;
  parts?: NodeResult[];
}

export interface ConditionEditorProps {
  value: ConditionValue;
  onChange: (next: ConditionValue) => void;
  disabled: boolean;
  /** Accessible name prefix of every control, e.g. `Rule 1` → "Rule 1 field path", "Rule 1 condition 2 value". */
  label: string;
  /** Word for the field control: "field path" (HL7) or "FHIRPath". */
  fieldLabel?: string;
  fieldPlaceholder?: string;
  /** FHIRPath expressions are long: the field input takes the row's free width. */
  fieldWide?: boolean;
  /** The operators offered. @defaultValue HL7's */
  operators?: readonly RuleOperator[];
  /** What a new comparison starts as. */
  blank?: Comparison;
  result?: NodeResult;
}

/** Splits an "is one of" text into values: commas or new lines. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The condition editor: one node, recursive. */
export function ConditionEditor(props: ConditionEditorProps) {
  return <Node {...props} prefix={props.label} depth={0} />;
}

interface NodeProps extends ConditionEditorProps {
  prefix: string;
  depth: number;
  onRemove?: () => void;
}

function Node(p: NodeProps & ExtraProps): ReactNode {
  const { value: c } = p;
  const blank = p.blank ?? { path: '', op: '=', value: '' };
  if ('not' in c) {
    return (
      <Node
        {...p}
        value={c.not}
        negated
        onChange={(inner) => p.onChange({ not: inner })}
        onUnnegate={() => p.onChange(c.not)}
        outerChange={p.onChange}
        result={p.result?.parts?.[0]}
        outer={p.result}
      />
    );
  }
  if ('and' in c || 'or' in c) return <Group {...p} value={c} />;
  return <ComparisonRow {...p} value={c} blank={blank} />;
}

interface ExtraProps {
  negated?: boolean;
  onUnnegate?: () => void;
  /** The result of the enclosing NOT, when negated. */
  outer?: NodeResult;
  /** Replaces the enclosing NOT itself, when negated. */
  outerChange?: (next: ConditionValue) => void;
}

function Verdict({ result }: { result?: NodeResult }) {
  if (!result) return null;
  if (result.error) return <span className="verdict bad" title={result.error}>✗ {result.error}</span>;
  return <span className={`verdict ${result.matched ? 'good' : 'bad'}`}>{result.matched ? '✓ matches' : '✗ no match'}</span>;
}

function Group(p: NodeProps & ExtraProps & { value: { and: ConditionValue[] } | { or: ConditionValue[] } }) {
  const all = 'and' in p.value;
  const list = 'and' in p.value ? p.value.and : p.value.or;
  const wrap = (items: ConditionValue[]): ConditionValue => (all ? { and: items } : { or: items });
  const set = (items: ConditionValue[]) => p.onChange(wrap(items));
  const childPrefix = (i: number) => (p.depth === 0 ? `${p.label} condition ${i + 1}` : `${p.prefix}.${i + 1}`);
  const blank = p.blank ?? { path: '', op: '=', value: '' };
  return (
    <div className={`cond-group ${all ? 'and' : 'or'}`} role="group" aria-label={`${p.prefix} group`}>
      <div className="row nowrap">
        <NegateToggle {...p} />
        <select
          aria-label={`${p.prefix} combine`}
          value={all ? 'and' : 'or'}
          disabled={p.disabled}
          onChange={(e) => p.onChange(e.target.value === 'and' ? { and: list } : { or: list })}
        >
          <option value="and">All of these (AND)</option>
          <option value="or">Any of these (OR)</option>
        </select>
        <Verdict result={p.negated ? p.outer : p.result} />
        <span className="grow" />
        <RemoveButton {...p} />
      </div>
      <div className="cond-children">
        {list.map((child, i) => (
          <Node
            key={i}
            {...p}
            value={child}
            prefix={childPrefix(i)}
            depth={p.depth + 1}
            result={p.result?.parts?.[i]}
            negated={undefined}
            outer={undefined}
            onUnnegate={undefined}
            outerChange={undefined}
            onChange={(next) => set(list.map((x, j) => (j === i ? next : x)))}
            onRemove={() => {
              const rest = list.filter((_, j) => j !== i);
              // A group left with one part becomes that part: no needless nesting.
              if (rest.length === 1 && p.depth === 0 && !p.negated) p.onChange(rest[0]!);
              else if (rest.length > 0) set(rest);
              else p.onRemove?.();
            }}
          />
        ))}
      </div>
      <div className="row">
        <button type="button" className="small" aria-label={`Add condition to ${p.prefix}`} disabled={p.disabled} onClick={() => set([...list, { ...blank }])}>
          + Condition
        </button>
        <button type="button" className="small" aria-label={`Add group to ${p.prefix}`} disabled={p.disabled} onClick={() => set([...list, all ? { or: [{ ...blank }] } : { and: [{ ...blank }] }])}>
          + {all ? 'OR' : 'AND'} group
        </button>
      </div>
    </div>
  );
}

function RemoveButton({ prefix, disabled, onRemove }: { prefix: string; disabled: boolean; onRemove?: () => void }) {
  if (!onRemove) return null;
  return (
    <button type="button" className="small icon" aria-label={`Remove ${prefix}`} disabled={disabled} onClick={onRemove}>
      ✕
    </button>
  );
}

function NegateToggle(p: NodeProps & ExtraProps) {
  return (
    <label className="field inline small" style={{ fontWeight: 400 }} title="Negate: the condition holds when this does not">
      <input
        type="checkbox"
        aria-label={`${p.prefix} not`}
        checked={p.negated === true}
        disabled={p.disabled}
        onChange={(e) => (e.target.checked ? p.onChange({ not: p.value }) : p.onUnnegate?.())}
      />
      NOT
    </label>
  );
}

function ComparisonRow(p: NodeProps & ExtraProps & { value: Comparison; blank: Comparison }) {
  const c = p.value;
  const ops = p.operators ?? HL7_DIALECT.operators;
  const noValue = (op: string) => ops.find((o) => o.value === op)?.noValue === true;
  const set = (next: Comparison) => p.onChange(next);
  const shownResult = p.negated ? p.outer : p.result;
  return (
    <div className="cond-row" role="group" aria-label={`${p.prefix} comparison`}>
      <div className="row nowrap">
        <NegateToggle {...p} />
        <input
          aria-label={`${p.prefix} ${p.fieldLabel ?? 'field path'}`}
          className={p.fieldWide ? 'mono grow' : 'mono'}
          style={p.fieldWide ? { minWidth: 200 } : { width: 110 }}
          value={c.path}
          placeholder={p.fieldPlaceholder ?? 'MSH-9.1'}
          disabled={p.disabled}
          onChange={(e) => set({ ...c, path: e.target.value })}
        />
        <select
          aria-label={`${p.prefix} operator`}
          value={c.op}
          disabled={p.disabled}
          onChange={(e) => {
            const op = e.target.value;
            const next: Comparison = { path: c.path, op };
            if (op === 'in') next.values = c.values ?? (c.value ? splitList(c.value) : []);
            else if (!noValue(op)) next.value = c.value ?? c.values?.[0] ?? '';
            set(next);
          }}
        >
          {ops.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        {c.op === 'in' ? (
          <InList prefix={p.prefix} values={c.values ?? (c.value ? splitList(c.value) : [])} disabled={p.disabled} onChange={(values) => set({ path: c.path, op: 'in', values })} />
        ) : !noValue(c.op) ? (
          <input aria-label={`${p.prefix} value`} className="grow" value={c.value ?? ''} disabled={p.disabled} onChange={(e) => set({ ...c, value: e.target.value })} />
        ) : (
          <span className="grow" />
        )}
        <RemoveButton {...p} />
      </div>
      <div className="row nowrap small">
        {shownResult ? (
          <>
            <Verdict result={shownResult} />
            {p.result && !p.result.error ? (
              <span className="muted" data-testid="cond-actual">
                read {p.result.actual === undefined ? <em>nothing (not in the sample)</em> : <code>{p.result.actual === '' ? '""' : p.result.actual}</code>}
              </span>
            ) : null}
          </>
        ) : null}
        <span className="grow" />
        {p.depth === 0 ? (
          <>
            <button type="button" className="small ghost" aria-label={`${p.prefix}: and another condition`} disabled={p.disabled} onClick={() => (p.outerChange ?? p.onChange)({ and: [p.negated ? { not: c } : c, { ...p.blank }] })}>
              + AND
            </button>
            <button type="button" className="small ghost" aria-label={`${p.prefix}: or another condition`} disabled={p.disabled} onClick={() => (p.outerChange ?? p.onChange)({ or: [p.negated ? { not: c } : c, { ...p.blank }] })}>
              + OR
            </button>
          </>
        ) : null}
      </div>
    </div>
  );
}

/** An "is one of" list: values as removable chips plus an input (Enter or comma adds). */
function InList({ prefix, values, disabled, onChange }: { prefix: string; values: string[]; disabled: boolean; onChange: (v: string[]) => void }) {
  return (
    <span className="in-list grow" role="group" aria-label={`${prefix} values`}>
      {values.map((v, i) => (
        <span key={`${v}-${i}`} className="chip">
          <code>{v}</code>
          <button type="button" className="small icon ghost" aria-label={`Remove ${v} from ${prefix}`} disabled={disabled} onClick={() => onChange(values.filter((_, j) => j !== i))}>
            ✕
          </button>
        </span>
      ))}
      <input
        aria-label={`${prefix} value`}
        placeholder={values.length ? 'add…' : 'A01, A04, A08'}
        disabled={disabled}
        style={{ width: 110 }}
        onKeyDown={(e) => {
          const t = e.currentTarget;
          if (e.key === 'Enter' || e.key === ',') {
            e.preventDefault();
            const add = splitList(t.value);
            if (add.length) onChange([...values, ...add]);
            t.value = '';
          } else if (e.key === 'Backspace' && t.value === '' && values.length) onChange(values.slice(0, -1));
        }}
        onBlur={(e) => {
          const add = splitList(e.currentTarget.value);
          if (add.length) onChange([...values, ...add]);
          e.currentTarget.value = '';
        }}
        onPaste={(e) => {
          const text = e.clipboardData.getData('text');
          if (/[,\n]/.test(text)) {
            e.preventDefault();
            onChange([...values, ...splitList(text)]);
          }
        }}
      />
    </span>
  );
}
