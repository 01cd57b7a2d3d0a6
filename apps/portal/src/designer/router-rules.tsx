'use client';
/**
 * The structured rule editor of both routers, with no JSON to type: name, a condition tree
 * (AND / OR groups, nesting, NOT, `in` lists), the action (send, transform with the transform
 * editor for HL7, discard; priority; stop), and "Test this rule" against the sample, evaluated by
 * the engine's own code. What differs between `hl7.router` (HL7 paths such as PID-3[2].1, with a
 * warning and one-click fixes for the whole-field trap `MSH-9 = ADT^A01`) and `fhir.router`
 * (FHIRPath, `is true`) is its {@link RuleDialect}. JSON stays one click away.
 */
import { useEffect, useId, useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type ConditionResult, type RouterTestResult, replaceCondition } from '@hie/config';
import { JsonEditor } from '../components/json-editor';
import { useTRPCClient } from '../lib/trpc';
import { ConditionEditor } from './condition-editor';
import { testHl7Rules } from './editor-model';
import { HL7_DIALECT, type RuleDialect, describeAction, describeOutcome, isCondition, isRecord as isRec, rulesExample } from './rule-dialect';
import { useSample } from './sample';
import { SampleBox } from './sample-box';
import { TransformEditor } from './transform-editor';

type Rec = Record<string, unknown>;

export const TRANSFORM_EXAMPLE = [
  { op: 'set', path: 'MSH-5', value: 'RIS' },
  { op: 'copy', from: 'PID-3.1', to: 'PID-2' },
  { op: 'map', path: 'PV1-2', table: { I: 'INPATIENT', O: 'OUTPATIENT' } },
  { op: 'date', path: 'PID-7', from: 'YYYYMMDD', to: 'YYYY-MM-DD' },
];

interface Props {
  value: unknown;
  onChange: (v: unknown) => void;
  disabled: boolean;
  errors: string[];
  /** Items this router is connected to (its possible targets). */
  targets: string[];
  /** The router's other settings, for the whole-router test on the sample. */
  router?: { mode?: unknown; otherwise?: unknown };
  /** The router's rule language. @defaultValue {@link HL7_DIALECT} */
  dialect?: RuleDialect;
  /** The project, to test FHIR rules with the manager. */
  projectId?: string;
}

export function RouterRulesEditor({ value, onChange, disabled, errors, targets, router, dialect = HL7_DIALECT, projectId }: Props) {
  const rules: Rec[] = Array.isArray(value) ? value.map((r) => (isRec(r) ? r : {})) : [];
  const [asJson, setAsJson] = useState(false);
  const tested = useRulesTest(dialect, projectId, { ...router, rules: value });
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
      <RouterTest outcome={describeOutcome(dialect, tested)} />
      {asJson ? (
        <JsonEditor id={`${uid}-json`} value={rules} onChange={(v) => onChange(v ?? [])} disabled={disabled} example={rulesExample(dialect, targets)} invalid={errors.length > 0} rows={12} />
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
              result={tested && !('error' in tested) ? (tested.conditions[i] ?? undefined) : undefined}
              sampleError={tested && 'error' in tested ? tested.error : undefined}
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
                  { name: `Rule ${rules.length + 1}`, when: { ...dialect.firstCondition }, then: { action: 'send', to: targets.slice(0, 1) } },
                ])
              }
            >
              + Add rule
            </button>
          </div>
        </div>
      )}
      <ErrorList errors={errors} />
    </fieldset>
  );
}

/** A widget's problems, one per line. */
export function ErrorList({ errors }: { errors: string[] }) {
  if (errors.length === 0) return null;
  return (
    <div className="error-text" role="alert" style={{ marginTop: 6 }}>
      {errors.map((e, i) => (
        <div key={i}>{e}</div>
      ))}
    </div>
  );
}

interface RuleProps {
  index: number;
  rule: Rec;
  count: number;
  targets: string[];
  dialect: RuleDialect;
  /** This rule's condition on the sample (`undefined`: not valid yet, or no sample). */
  result?: ConditionResult;
  /** Why the sample could not be read. */
  sampleError?: string;
  disabled: boolean;
  onChange: (r: Rec) => void;
  onMove: (d: number) => void;
  onRemove: () => void;
}

function RuleCard({ index, rule, count, targets, dialect, result, sampleError, disabled, onChange, onMove, onRemove }: RuleProps) {
  const uid = useId();
  const [sample] = useSample(dialect.sample);
  const [testing, setTesting] = useState(false);
  const n = index + 1;
  const when = isCondition(rule.when) ? rule.when : undefined;
  const condMode: 'always' | 'when' | 'advanced' = rule.when === undefined ? 'always' : when ? 'when' : 'advanced';
  const then = isRec(rule.then) ? rule.then : { action: 'send', to: [] };
  const action = typeof then.action === 'string' ? then.action : 'send';
  const to: string[] = Array.isArray(then.to) ? then.to.filter((t): t is string => typeof t === 'string') : [];
  const allTargets = Array.from(new Set([...targets, ...to]));
  const setThen = (t: Rec) => onChange({ ...rule, then: t });
  // The trap check reads the sample too: "MSH-9 = ADT" is flagged when the sample's MSH-9 has components.
  const traps = useMemo(() => (when ? dialect.traps(when, sample) : []), [dialect, when, sample]);
  const shown = testing && condMode !== 'advanced' ? result : undefined;
  const priority = typeof then.priority === 'number' ? then.priority : undefined;
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
            id={`${uid}-cond`}
            aria-label={`Rule ${n} condition`}
            value={condMode}
            disabled={disabled}
            onChange={(e) => {
              const m = e.target.value;
              if (m === 'always') {
                const { when: _w, ...rest } = rule;
                onChange(rest);
              } else if (m === 'when') onChange({ ...rule, when: when ?? { ...dialect.firstCondition } });
              else onChange({ ...rule, when: rule.when ?? { and: [{ ...dialect.firstCondition }] } });
            }}
          >
            <option value="always">Always matches</option>
            <option value="when">When…</option>
            <option value="advanced">Advanced (JSON)</option>
          </select>
        </div>
        {condMode === 'when' && when ? (
          <ConditionEditor
            value={when}
            onChange={(c) => onChange({ ...rule, when: c })}
            disabled={disabled}
            label={`Rule ${n}`}
            fieldLabel={dialect.fieldLabel}
            fieldPlaceholder={dialect.fieldPlaceholder}
            fieldWide={dialect.wideField}
            operators={dialect.operators}
            blank={dialect.blank}
            result={shown}
          />
        ) : null}
        {condMode === 'advanced' ? (
          <div className="field">
            <label htmlFor={`${uid}-adv`}>Condition (JSON)</label>
            <JsonEditor id={`${uid}-adv`} ariaLabel={`Rule ${n} condition (JSON)`} value={rule.when} onChange={(v) => onChange({ ...rule, when: v })} disabled={disabled} rows={6} />
          </div>
        ) : null}
        {traps.map((t, i) => (
          <div key={i} className="banner warning small" role="status" data-testid={`rule-${n}-trap`}>
            <div>{t.message}</div>
            <div className="row" style={{ marginTop: 4 }}>
              {t.fixes.map((f) => (
                <button key={f.label} type="button" className="small" disabled={disabled} onClick={() => when && onChange({ ...rule, when: replaceCondition(when, t.at, f.condition) })}>
                  {f.label}
                </button>
              ))}
            </div>
          </div>
        ))}
        {condMode !== 'advanced' ? (
          <div className="row">
            <button type="button" className="small" aria-pressed={testing} onClick={() => setTesting(!testing)}>
              {testing ? 'Hide test' : 'Test this rule'}
            </button>
            {testing ? (
              <span data-testid={`rule-${n}-test`} role="status" className="small">
                {sampleError !== undefined ? (
                  <span className="error-text">
                    The sample is not {dialect.sampleName}: {sampleError}
                  </span>
                ) : shown === undefined ? (
                  <span className="muted">Complete the condition to test it.</span>
                ) : shown.matched ? (
                  <span className="verdict good">The sample matches: {describeAction(action, to)}</span>
                ) : (
                  <span className="verdict bad">The sample does not match this rule</span>
                )}
              </span>
            ) : null}
          </div>
        ) : null}
        {testing ? <SampleBox kind={dialect.sample} /> : null}
        <div className="field">
          <label htmlFor={`${uid}-action`}>Then</label>
          <select
            id={`${uid}-action`}
            aria-label={`Rule ${n} action`}
            value={action}
            disabled={disabled}
            onChange={(e) => {
              const a = e.target.value;
              if (a === 'discard') setThen({ action: 'discard', reason: 'discarded by rule' });
              else if (a === 'transform') setThen({ action: 'transform', operations: [], to, ...(priority !== undefined ? { priority } : {}) });
              else setThen({ action: 'send', to, ...(priority !== undefined ? { priority } : {}) });
            }}
          >
            <option value="send">Send to…</option>
            {dialect.transform || action === 'transform' ? <option value="transform">Transform, then send to…</option> : null}
            <option value="discard">Discard</option>
          </select>
        </div>
        {action === 'transform' ? (
          <TransformEditor label={`Rule ${n} transform`} value={then.operations ?? []} onChange={(ops) => setThen({ ...then, operations: ops })} disabled={disabled} />
        ) : null}
        {action === 'send' || action === 'transform' ? (
          <>
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
            <div className="field">
              <label htmlFor={`${uid}-prio`}>Priority of what it sends</label>
              <select
                id={`${uid}-prio`}
                aria-label={`Rule ${n} priority`}
                value={priority === undefined ? '' : String(priority)}
                disabled={disabled}
                onChange={(e) => {
                  const { priority: _p, ...rest } = then;
                  setThen(e.target.value === '' ? rest : { ...rest, priority: Number(e.target.value) });
                }}
              >
                <option value="">From the item’s priority settings</option>
                {Array.from({ length: 10 }, (_, i) => (
                  <option key={i} value={i}>
                    {i}
                    {i === 0 ? ' (lowest)' : i === 9 ? ' (highest)' : ''}
                  </option>
                ))}
              </select>
            </div>
          </>
        ) : null}
        {action === 'discard' ? (
          <div className="field">
            <label htmlFor={`${uid}-reason`}>Discard reason</label>
            <input id={`${uid}-reason`} aria-label={`Rule ${n} discard reason`} value={typeof then.reason === 'string' ? then.reason : ''} disabled={disabled} onChange={(e) => setThen({ ...then, reason: e.target.value })} />
          </div>
        ) : null}
        <div className="field inline">
          <input
            id={`${uid}-stop`}
            type="checkbox"
            checked={rule.stop === true}
            disabled={disabled}
            onChange={(e) => {
              const { stop: _s, ...rest } = rule;
              onChange(e.target.checked ? { ...rest, stop: true } : rest);
            }}
          />
          <label htmlFor={`${uid}-stop`} style={{ fontWeight: 400 }}>
            Stop here when this rule matches <span className="muted small">(for “every matching rule” mode)</span>
          </label>
        </div>
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

/** The sample under test, and what the rules do with it: the engine's code, in the browser for HL7, by the manager for FHIR. */
function useRulesTest(dialect: RuleDialect, projectId: string | undefined, settings: Rec): RouterTestResult | { error: string } | undefined {
  const [sample] = useSample(dialect.sample);
  const local = dialect.sample === 'hl7';
  const hl7 = useMemo(() => (local ? testHl7Rules(settings, sample) : undefined), [local, settings, sample]);
  const client = useTRPCClient();
  // One request when typing pauses, not one per key. A POST (the API's mutation): the sample is
  // patient data and must not travel in a URL.
  const input = useSettled({ projectId: projectId ?? '', sample, settings }, 300);
  const fhir = useQuery({
    queryKey: ['production.testFhirRules', input],
    queryFn: () => client.production.testFhirRules.mutate(input),
    enabled: !local && input.projectId !== '' && input.sample.trim() !== '',
    placeholderData: keepPreviousData,
    retry: false,
  });
  if (local) return hl7;
  if (sample.trim() === '') return { error: 'it is empty' };
  if (fhir.error) return { error: fhir.error.message };
  return fhir.data;
}

/** `value` once it has not changed for `ms` (compared as JSON). */
function useSettled<T>(value: T, ms: number): T {
  const json = JSON.stringify(value);
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(JSON.parse(json) as T), ms);
    return () => clearTimeout(t);
  }, [json, ms]);
  return settled;
}

/** What the whole router does with the sample. */
function RouterTest({ outcome }: { outcome: { text: string; good: boolean } }) {
  return (
    <div className="row small" style={{ marginBottom: 8 }}>
      <span data-testid="router-test" role="status" className={`verdict ${outcome.good ? 'good' : 'bad'}`}>
        With the sample: {outcome.text}
      </span>
    </div>
  );
}
