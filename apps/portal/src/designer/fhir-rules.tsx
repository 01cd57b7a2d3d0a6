'use client';
/**
 * A structured editor for router rules (`hl7.router`, and `fhir.router` with the `fhir`
 * dialect): name, a field comparison (or "always", or an advanced and/or/not condition in JSON),
 * and the action with its targets picked from the router's connections. Everything the form
 * cannot show is still reachable as JSON.
 */
import { useId, useState } from 'react';
import { JsonEditor } from '../components/json-editor';

const OPS = ['=', '!=', 'in', 'contains', 'startsWith', 'matches', 'exists'] as const;
const OP_LABELS: Record<string, string> = {
  true: 'is true',
  '=': 'equals',
  '!=': 'does not equal',
  in: 'is one of',
  contains: 'contains',
  startsWith: 'starts with',
  matches: 'matches regex',
  exists: 'exists',
};

type Rec = Record<string, unknown>;

/** What differs between the routers' rules: the path language, its operators and actions. */
export interface RuleDialect {
  /** Label of the path input. */
  pathLabel: string;
  /** Placeholder and the path a new comparison starts with. */
  pathExample: string;
  /** The comparison a new rule starts with. */
  newWhen: Rec;
  /** The second condition the "advanced" mode adds to a comparison. */
  advancedExtra: Rec;
  ops: readonly string[];
  /** `transform` exists for HL7 v2 only. */
  transform: boolean;
  /** The "Condition" select's label for a comparison. */
  compareLabel: string;
}

export const HL7_RULES: RuleDialect = {
  pathLabel: 'Field',
  pathExample: 'MSH-9.1',
  newWhen: { path: 'MSH-9.1', op: '=', value: 'ADT' },
  advancedExtra: { path: 'MSH-9.2', op: 'in', values: ['A01', 'A08'] },
  ops: OPS,
  transform: true,
  compareLabel: 'When a field…',
};

/** `fhir.router`: FHIRPath (R4) expressions; `true` takes the expression itself as the condition. */
export const FHIR_RULES: RuleDialect = {
  pathLabel: 'FHIRPath',
  pathExample: 'Bundle.entry.resource.ofType(Observation).code.coding.code',
  newWhen: { path: "Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'", op: 'true' },
  advancedExtra: { path: "Bundle.type", op: 'in', values: ['transaction', 'collection'] },
  ops: ['true', ...OPS],
  transform: false,
  compareLabel: 'When a FHIRPath…',
};

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isComparison(c: unknown): c is { path: string; op: string; value?: string; values?: string[] } {
  return isRec(c) && typeof c.path === 'string' && typeof c.op === 'string';
}

export const TRANSFORM_EXAMPLE = [
  { op: 'set', path: 'MSH-5', value: 'RIS' },
  { op: 'copy', from: 'PID-3.1', to: 'PID-2' },
  { op: 'map', path: 'PV1-2', table: { I: 'INPATIENT', O: 'OUTPATIENT' } },
  { op: 'date', path: 'PID-7', from: 'YYYYMMDD', to: 'YYYY-MM-DD' },
];

export function routerRulesExample(targets: string[], dialect: RuleDialect = HL7_RULES) {
  return [
    {
      name: dialect === HL7_RULES ? 'ADT to downstream' : 'Glucose results',
      when: dialect.newWhen,
      then: { action: 'send', to: targets.length ? targets : ['<target item>'] },
    },
    { name: 'Everything else', then: { action: 'discard', reason: 'not routed' } },
  ];
}

interface Props {
  value: unknown;
  onChange: (v: unknown) => void;
  disabled: boolean;
  errors: string[];
  /** Items this router is connected to (its possible targets). */
  targets: string[];
  /** The router's rule language. @defaultValue {@link HL7_RULES} */
  dialect?: RuleDialect;
}

export function RouterRulesEditor({ value, onChange, disabled, errors, targets, dialect = HL7_RULES }: Props) {
  const rules: Rec[] = Array.isArray(value) ? value.map((r) => (isRec(r) ? r : {})) : [];
  const [asJson, setAsJson] = useState(false);
  const uid = useId();
  const set = (next: Rec[]) => onChange(next);
  const setRule = (i: number, r: Rec) => set(rules.map((x, j) => (j === i ? r : x)));
  const move = (i: number, d: number) => {
    const next = [...rules];
    const [x] = next.splice(i, 1);
    next.splice(i + d, 0, x!);
    set(next);
  };
  return (
    <fieldset data-testid="router-rules">
      <legend>Rules</legend>
      <p className="help" style={{ margin: '0 0 8px' }}>
        Evaluated in order. A rule without a condition always matches. Targets are the items this router is connected to.
      </p>
      <div className="row" style={{ marginBottom: 8 }}>
        <label className="field inline" style={{ fontWeight: 400 }}>
          <input type="checkbox" checked={asJson} onChange={(e) => setAsJson(e.target.checked)} /> Edit rules as JSON
        </label>
      </div>
      {asJson ? (
        <JsonEditor id={`${uid}-json`} value={rules} onChange={(v) => onChange(v ?? [])} disabled={disabled} example={routerRulesExample(targets, dialect)} invalid={errors.length > 0} rows={12} />
      ) : (
        <div className="stack">
          {rules.length === 0 ? <span className="muted small">No rules yet: every message goes to the “otherwise” behaviour.</span> : null}
          {rules.map((rule, i) => (
            <RuleCard
              key={i}
              index={i}
              rule={rule}
              count={rules.length}
              targets={targets}
              dialect={dialect}
              disabled={disabled}
              onChange={(r) => setRule(i, r)}
              onMove={(d) => move(i, d)}
              onRemove={() => set(rules.filter((_, j) => j !== i))}
            />
          ))}
          <div>
            <button
              type="button"
              className="small"
              disabled={disabled}
              onClick={() =>
                set([
                  ...rules,
                  { name: `Rule ${rules.length + 1}`, when: dialect.newWhen, then: { action: 'send', to: targets.slice(0, 1) } },
                ])
              }
            >
              + Add rule
            </button>
          </div>
        </div>
      )}
      {errors.length > 0 ? (
        <div className="error-text" role="alert" style={{ marginTop: 6 }}>
          {errors.map((e, i) => (
            <div key={i}>{e}</div>
          ))}
        </div>
      ) : null}
    </fieldset>
  );
}

interface RuleProps {
  index: number;
  rule: Rec;
  count: number;
  targets: string[];
  dialect: RuleDialect;
  disabled: boolean;
  onChange: (r: Rec) => void;
  onMove: (d: number) => void;
  onRemove: () => void;
}

function RuleCard({ index, rule, count, targets, dialect, disabled, onChange, onMove, onRemove }: RuleProps) {
  const uid = useId();
  const n = index + 1;
  const when = rule.when;
  const condMode: 'always' | 'compare' | 'advanced' = when === undefined ? 'always' : isComparison(when) ? 'compare' : 'advanced';
  const then = isRec(rule.then) ? rule.then : { action: 'send', to: [] };
  const action = typeof then.action === 'string' ? then.action : 'send';
  const to: string[] = Array.isArray(then.to) ? then.to.filter((t): t is string => typeof t === 'string') : [];
  const allTargets = Array.from(new Set([...targets, ...to]));
  const setThen = (t: Rec) => onChange({ ...rule, then: t });
  return (
    <fieldset data-testid={`rule-${n}`}>
      <legend>Rule {n}</legend>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${uid}-name`}>Name</label>
          <input id={`${uid}-name`} aria-label={`Rule ${n} name`} value={typeof rule.name === 'string' ? rule.name : ''} disabled={disabled} onChange={(e) => onChange({ ...rule, name: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={`${uid}-cond`}>Condition</label>
          <select
            id={`${uid}-cond`} aria-label={`Rule ${n} condition`}
            value={condMode}
            disabled={disabled}
            onChange={(e) => {
              const m = e.target.value;
              if (m === 'always') {
                const { when: _w, ...rest } = rule;
                onChange(rest);
              } else if (m === 'compare') onChange({ ...rule, when: dialect.newWhen });
              else onChange({ ...rule, when: { and: [isComparison(when) ? when : dialect.newWhen, dialect.advancedExtra] } });
            }}
          >
            <option value="always">Always matches</option>
            <option value="compare">{dialect.compareLabel}</option>
            <option value="advanced">Advanced (and / or / not, JSON)</option>
          </select>
        </div>
        {condMode === 'compare' && isComparison(when) ? (
          <div className="rule-compare">
            <div className="field">
              <label htmlFor={`${uid}-path`}>{dialect.pathLabel}</label>
              <input id={`${uid}-path`} aria-label={`Rule ${n} field path`} value={when.path} placeholder={dialect.pathExample} disabled={disabled} onChange={(e) => onChange({ ...rule, when: { ...when, path: e.target.value } })} />
            </div>
            <div className="field">
              <label htmlFor={`${uid}-op`}>Operator</label>
              <select
                id={`${uid}-op`} aria-label={`Rule ${n} operator`}
                value={when.op}
                disabled={disabled}
                onChange={(e) => {
                  const op = e.target.value;
                  const next: Rec = { path: when.path, op };
                  if (op === 'in') next.values = when.values ?? (when.value ? [when.value] : []);
                  else if (op !== 'exists' && op !== 'true') next.value = when.value ?? when.values?.[0] ?? '';
                  onChange({ ...rule, when: next });
                }}
              >
                {dialect.ops.map((o) => (
                  <option key={o} value={o}>
                    {OP_LABELS[o]}
                  </option>
                ))}
              </select>
            </div>
            {when.op !== 'exists' && when.op !== 'true' ? (
              <div className="field">
                <label htmlFor={`${uid}-val`}>Value</label>
                {when.op === 'in' ? (
                  <input
                    id={`${uid}-val`} aria-label={`Rule ${n} value`}
                    value={(when.values ?? []).join(', ')}
                    placeholder="A01, A04, A08"
                    disabled={disabled}
                    onChange={(e) => onChange({ ...rule, when: { path: when.path, op: 'in', values: e.target.value.split(',').map((s) => s.trim()).filter(Boolean) } })}
                  />
                ) : (
                  <input id={`${uid}-val`} aria-label={`Rule ${n} value`} value={when.value ?? ''} disabled={disabled} onChange={(e) => onChange({ ...rule, when: { ...when, value: e.target.value } })} />
                )}
              </div>
            ) : null}
          </div>
        ) : null}
        {condMode === 'advanced' ? (
          <div className="field">
            <label htmlFor={`${uid}-adv`}>Condition (JSON)</label>
            <JsonEditor id={`${uid}-adv`} ariaLabel={`Rule ${n} condition (JSON)`} value={when} onChange={(v) => onChange({ ...rule, when: v })} disabled={disabled} rows={6} />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor={`${uid}-action`}>Action</label>
          <select
            id={`${uid}-action`} aria-label={`Rule ${n} action`}
            value={action}
            disabled={disabled}
            onChange={(e) => {
              const a = e.target.value;
              if (a === 'discard') setThen({ action: 'discard', reason: 'discarded by rule' });
              else if (a === 'transform') setThen({ action: 'transform', operations: [], to });
              else setThen({ action: 'send', to });
            }}
          >
            <option value="send">Send to…</option>
            {dialect.transform || action === 'transform' ? <option value="transform">Transform, then send to…</option> : null}
            <option value="discard">Discard</option>
          </select>
        </div>
        {action === 'transform' ? (
          <div className="field">
            <label htmlFor={`${uid}-ops`}>Transform operations (JSON)</label>
            <JsonEditor id={`${uid}-ops`} ariaLabel={`Rule ${n} transform operations (JSON)`} value={then.operations ?? []} onChange={(v) => setThen({ ...then, operations: v ?? [] })} disabled={disabled} example={TRANSFORM_EXAMPLE} rows={6} />
          </div>
        ) : null}
        {action === 'send' || action === 'transform' ? (
          <div className="field" role="group" aria-label={`Rule ${n} targets`}>
            <span className="label">Send to</span>
            {allTargets.length === 0 ? (
              <span className="error-text">Connect this router to an item on the canvas, then pick it here.</span>
            ) : (
              allTargets.map((t) => (
                <label key={t} className="field inline" style={{ fontWeight: 400 }}>
                  <input
                    type="checkbox"
                    checked={to.includes(t)}
                    disabled={disabled}
                    onChange={(e) => setThen({ ...then, to: e.target.checked ? [...to, t] : to.filter((x) => x !== t) })}
                  />
                  <span className="sr-only">Rule {n} send to </span>
                  {t}
                  {!targets.includes(t) ? <span className="error-text"> (not connected)</span> : null}
                </label>
              ))
            )}
          </div>
        ) : null}
        {action === 'discard' ? (
          <div className="field">
            <label htmlFor={`${uid}-reason`}>Discard reason</label>
            <input id={`${uid}-reason`} aria-label={`Rule ${n} discard reason`} value={typeof then.reason === 'string' ? then.reason : ''} disabled={disabled} onChange={(e) => setThen({ ...then, reason: e.target.value })} />
          </div>
        ) : null}
        <div className="row">
          <button type="button" className="small" disabled={disabled || index === 0} onClick={() => onMove(-1)} aria-label={`Move rule ${n} up`}>
            ↑
          </button>
          <button type="button" className="small" disabled={disabled || index === count - 1} onClick={() => onMove(1)} aria-label={`Move rule ${n} down`}>
            ↓
          </button>
          <button type="button" className="small danger" disabled={disabled} onClick={onRemove}>
            Remove rule {n}
          </button>
        </div>
      </div>
    </fieldset>
  );
}
