/**
 * The trap analysts fall into: a comparison on a whole field that holds components.
 * `MSH-9 equals ADT^A01` never matches `ADT^A01^ADT_A01` (MSH-9.3, the message structure, is
 * there in v2.4+), and `MSH-9 equals ADT` never matches `ADT^A01`. Each trap comes with fixes
 * a person can apply with one click: compare the components, or "starts with".
 */
import type { Condition, ConditionOf } from '../item-types/hl7-router';
import type { FieldReader, RuleComparison, RuleCondition } from './evaluate';

type Comparison = RuleComparison;

/** Where a node sits in a condition tree: child indexes through and/or (`not` is index 0). */
export type ConditionAt = number[];

export interface ConditionFix {
  /** Button text, e.g. `Compare MSH-9.1 and MSH-9.2`. */
  label: string;
  /** The comparison to put in place of the trapped one. */
  condition: Condition;
}

export interface ConditionTrap {
  at: ConditionAt;
  message: string;
  fixes: ConditionFix[];
}

/** `PID-3`, `PID-3[2]`, `OBX[2]-5`: a field (or one repetition) with no component named. */
const WHOLE_FIELD = /^[A-Z][A-Z0-9]{2}(\[\d+\])?-\d+(\[\d+\])?$/;

function isWholeField(path: string): boolean {
  return WHOLE_FIELD.test(path) && path !== 'MSH-1' && path !== 'MSH-2';
}

/** `ADT^A01` on MSH-9 → MSH-9.1 = ADT and MSH-9.2 = A01 (empty components left out). */
function byComponents(path: string, value: string): Condition {
  const parts = value
    .split('^')
    .map((v, i) => ({ path: `${path}.${i + 1}`, op: '=' as const, value: v }))
    .filter((p) => p.value !== '');
  if (parts.length === 1) return parts[0]!;
  return { and: parts };
}

function componentFix(c: Comparison, values: string[]): ConditionFix | undefined {
  const n = Math.max(...values.map((v) => v.split('^').length));
  const label = n > 1 ? `Compare ${Array.from({ length: n }, (_, i) => `${c.path}.${i + 1}`).join(' and ')}` : `Compare ${c.path}.1`;
  let condition: Condition;
  if (c.op === 'in') {
    const heads = new Set(values.map((v) => v.split('^')[0]));
    const tails = values.map((v) => v.split('^').slice(1).join('^'));
    // ADT^A01, ADT^A04 → MSH-9.1 = ADT and MSH-9.2 in [A01, A04]; mixed heads → one group per value.
    if (heads.size === 1 && n === 2 && tails.every((t) => t !== '')) {
      condition = { and: [{ path: `${c.path}.1`, op: '=', value: [...heads][0]! }, { path: `${c.path}.2`, op: 'in', values: tails }] };
    } else condition = { or: values.map((v) => byComponents(c.path, v)) };
  } else {
    const cmp = byComponents(c.path, c.value ?? '');
    condition = c.op === '!=' ? { not: cmp } : cmp;
  }
  return { label, condition };
}

function startsWithFix(c: Comparison, values: string[], sep: string): ConditionFix {
  const one = (v: string): Condition => ({ path: c.path, op: 'startsWith', value: v.includes('^') ? v : v + sep });
  const pretty = values.map((v) => (v.includes('^') ? v : v + sep)).join(', ');
  if (c.op === 'in') return { label: `Starts with ${pretty}`, condition: { or: values.map(one) } };
  if (c.op === '!=') return { label: `Does not start with ${pretty}`, condition: { not: one(values[0]!) } };
  return { label: `Starts with ${pretty}`, condition: one(values[0]!) };
}

function trapOf(c: Comparison, sample: FieldReader | undefined): Omit<ConditionTrap, 'at'> | undefined {
  if (!(c.op === '=' || c.op === '!=' || c.op === 'in') || !isWholeField(c.path)) return undefined;
  const values = c.op === 'in' ? (c.values ?? (c.value ? c.value.split(',').map((s) => s.trim()) : [])) : [c.value ?? ''];
  if (values.length === 0) return undefined;
  let actual: string | undefined;
  try {
    actual = sample?.get(c.path);
  } catch {
    actual = undefined;
  }
  const valueHasComponents = values.some((v) => v.includes('^'));
  const sampleHasComponents = actual !== undefined && actual.includes('^');
  if (!valueHasComponents && !sampleHasComponents) return undefined;
  const shown = c.op === 'in' ? values.join(', ') : values[0];
  const message = valueHasComponents
    ? `${c.path} is the whole field: "${shown}" does not match a message whose ${c.path} has more components (e.g. ADT^A01^ADT_A01).` +
      (actual !== undefined ? ` In the sample it is "${actual}".` : '')
    : `${c.path} is the whole field, "${actual}" in the sample: "${shown}" compares it with one component only.`;
  const fixes = [componentFix(c, values), startsWithFix(c, values, '^')].filter((f): f is ConditionFix => f !== undefined);
  return { message, fixes };
}

/**
 * Every comparison in a condition that compares a whole composite field with `=`, `!=` or `in`,
 * with fixes. Given a sample message, a value without components is flagged too when the
 * sample's field has components.
 */
export function findConditionTraps(c: RuleCondition | undefined, sample?: FieldReader, at: ConditionAt = []): ConditionTrap[] {
  if (!c) return [];
  if ('and' in c) return c.and.flatMap((x, i) => findConditionTraps(x, sample, [...at, i]));
  if ('or' in c) return c.or.flatMap((x, i) => findConditionTraps(x, sample, [...at, i]));
  if ('not' in c) return findConditionTraps(c.not, sample, [...at, 0]);
  const trap = trapOf(c, sample);
  return trap ? [{ at, ...trap }] : [];
}

/** The condition with the node at `at` replaced (immutable). */
export function replaceCondition<C extends RuleComparison>(c: ConditionOf<C>, at: ConditionAt, next: NoInfer<ConditionOf<C>>): ConditionOf<C> {
  if (at.length === 0) return next;
  const [i, ...rest] = at as [number, ...number[]];
  if ('and' in c) return { and: c.and.map((x, j) => (j === i ? replaceCondition(x, rest, next) : x)) };
  if ('or' in c) return { or: c.or.map((x, j) => (j === i ? replaceCondition(x, rest, next) : x)) };
  if ('not' in c) return { not: replaceCondition(c.not, rest, next) };
  return c;
}
