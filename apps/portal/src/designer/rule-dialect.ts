/**
 * What differs between the routers' rules in the rule editor, and nothing else: `hl7.router`
 * reads HL7 paths (`PID-3[2].1`) and warns about the whole-field trap (`MSH-9 = ADT^A01`);
 * `fhir.router` reads FHIRPath expressions and has `true` (the expression as the condition) but no
 * HL7 transform action. The editor (router-rules.tsx) and the condition tree (condition-editor.tsx)
 * are the same for both.
 */
import { type ConditionTrap, type RouterTestResult, enumLabel, findConditionTraps } from '@hie/config';
import type { Comparison, ConditionValue } from './condition-editor';
import { parseSample } from './editor-model';
import type { SampleKind } from './sample';

/** An operator a comparison row offers. */
export interface RuleOperator {
  value: string;
  label: string;
  /** Takes no value (`exists`, FHIRPath `true`). */
  noValue?: boolean;
}

export interface RuleDialect {
  itemType: 'hl7.router' | 'fhir.router';
  /** The sample rules are tested on. */
  sample: SampleKind;
  /** What the sample must be, in "The sample is not …". */
  sampleName: string;
  /** Word for the field control, in its accessible name: "field path", "FHIRPath". */
  fieldLabel: string;
  fieldPlaceholder: string;
  /** FHIRPath expressions are long: the field takes the row. */
  wideField: boolean;
  operators: readonly RuleOperator[];
  /** What a new comparison (in a group) starts as. */
  blank: Comparison;
  /** The condition of a new rule. */
  firstCondition: Comparison;
  /** Whether rules may transform (HL7 v2 operations) before sending. */
  transform: boolean;
  /** Comparisons that fall into a known trap, with fixes (HL7's whole composite field). */
  traps(when: ConditionValue, sample: string): ConditionTrap[];
}

const SHARED_OPERATORS: readonly RuleOperator[] = [
  { value: '=', label: 'equals' },
  { value: '!=', label: 'does not equal' },
  { value: 'in', label: 'is one of' },
  { value: 'contains', label: 'contains' },
  { value: 'startsWith', label: 'starts with' },
  { value: 'matches', label: 'matches regex' },
  { value: 'exists', label: 'exists', noValue: true },
];

export const HL7_DIALECT: RuleDialect = {
  itemType: 'hl7.router',
  sample: 'hl7',
  sampleName: 'an HL7 message',
  fieldLabel: 'field path',
  fieldPlaceholder: 'MSH-9.1',
  wideField: false,
  operators: SHARED_OPERATORS,
  blank: { path: 'MSH-9.1', op: '=', value: '' },
  firstCondition: { path: 'MSH-9.1', op: '=', value: 'ADT' },
  transform: true,
  traps(when, sample) {
    const parsed = parseSample(sample);
    return findConditionTraps(when, 'msg' in parsed ? parsed.msg : undefined);
  },
};

/** `fhir.router`: a comparison on what a FHIRPath expression (R4) gives, any item matching. */
export const FHIR_DIALECT: RuleDialect = {
  itemType: 'fhir.router',
  sample: 'fhir',
  sampleName: 'FHIR JSON',
  fieldLabel: 'FHIRPath',
  fieldPlaceholder: 'Patient.gender',
  wideField: true,
  operators: [{ value: 'true', label: 'is true', noValue: true }, ...SHARED_OPERATORS],
  blank: { path: '', op: '=', value: '' },
  firstCondition: { path: 'Patient.gender', op: '=', value: 'female' },
  transform: false,
  traps: () => [],
};

/** The dialect of a router item type; `undefined` for other types. */
export function ruleDialect(itemType: string): RuleDialect | undefined {
  return itemType === 'hl7.router' ? HL7_DIALECT : itemType === 'fhir.router' ? FHIR_DIALECT : undefined;
}

/** Whether an operator takes a value in this dialect (`exists`, `true` do not). */
export function takesValue(dialect: RuleDialect, op: string): boolean {
  return dialect.operators.find((o) => o.value === op)?.noValue !== true;
}

/** The rules the JSON editor shows as an example. */
export function rulesExample(dialect: RuleDialect, targets: string[]) {
  return [
    {
      name: dialect.itemType === 'hl7.router' ? 'ADT to downstream' : 'Female patients',
      when: dialect.firstCondition,
      then: { action: 'send', to: targets.length ? targets : ['<target item>'] },
    },
    { name: 'Everything else', then: { action: 'discard', reason: 'not routed' } },
  ];
}

type Rec = Record<string, unknown>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isComparison(c: unknown): c is Comparison {
  return isRecord(c) && typeof c.path === 'string' && typeof c.op === 'string';
}

/** A condition the structured editor can show (anything else stays in the JSON editor). */
export function isCondition(c: unknown): c is ConditionValue {
  if (isComparison(c)) return !('values' in c) || Array.isArray(c.values);
  if (!isRecord(c)) return false;
  const keys = Object.keys(c);
  if (keys.length !== 1) return false;
  if (Array.isArray(c.and)) return c.and.length > 0 && c.and.every(isCondition);
  if (Array.isArray(c.or)) return c.or.length > 0 && c.or.every(isCondition);
  return 'not' in c && isCondition(c.not);
}

/** What one action would do, in words. */
export function describeAction(action: string, to: readonly string[]): string {
  if (action === 'discard') return 'it would be discarded';
  const where = to.length ? to.join(', ') : 'no target yet';
  return action === 'transform' ? `it would be transformed and sent to ${where}` : `it would be sent to ${where}`;
}

/** What the whole router does with the sample, in words (`good`: some rule matched). */
export function describeOutcome(dialect: RuleDialect, result: RouterTestResult | { error: string } | undefined): { text: string; good: boolean } {
  if (result === undefined) return { text: 'testing…', good: false };
  if ('error' in result) return { text: `The sample is not ${dialect.sampleName}: ${result.error}`, good: false };
  const o = result.outcome;
  if ('problem' in o) return { text: o.problem, good: false };
  if (o.matched.length === 0) return { text: `No rule matches the sample: otherwise ${enumLabel(o.otherwise ?? 'discard').toLowerCase()}.`, good: false };
  return { text: o.matched.map((r) => `rule “${r.name}”: ${describeAction(r.then.action, r.then.to ?? [])}`).join('; then '), good: true };
}
