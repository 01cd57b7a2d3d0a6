/**
 * How router rules are evaluated — `hl7.router` on HL7 paths and `fhir.router` on FHIRPath, one
 * engine for both: pure and isomorphic, so the engine routes with it and the portal's "test this
 * rule" runs the very same code in the browser. Conditions are data, never code: a closed set of
 * operators, user patterns through RE2 (linear time). What differs between the routers is only how
 * a path is read, a {@link FieldAccessor}.
 */
import type { z } from 'zod';
import { HieError } from '../errors';
import type { ConditionOf, Hl7RouterSettings } from '../item-types/hl7-router';
import { compileUserRegex } from '../item-types/user-regex';

/** What an HL7 condition reads: a parsed HL7 message (`Hl7Message` of @hie/hl7 fits). */
export interface FieldReader {
  /** The value at an HL7 path (`PID-3[2].1`), `undefined` when it does not exist. */
  get(path: string): string | undefined;
}

/** A comparison of any router dialect: a path (HL7 path, FHIRPath), an operator and its operand. */
export interface RuleComparison {
  path: string;
  op: string;
  value?: string;
  values?: string[];
}

/** A condition of any router dialect. */
export type RuleCondition = ConditionOf<RuleComparison>;

/**
 * How one rule dialect reads a message `M`. The operators every dialect shares (`=`, `!=`, `in`,
 * `contains`, `startsWith`, `matches`, `exists`) work on the text values {@link read} returns: a
 * comparison holds when any value passes (`!=`: when none equals the value), `exists` when a value
 * is not empty.
 */
export interface FieldAccessor<M> {
  /** The text value(s) at a path, none when it reads nothing. HL7: the one value; FHIRPath: each item of the result. */
  read(msg: M, path: string): readonly string[];
  /**
   * For a dialect whose paths read at most one value (HL7): that value, `undefined` when missing.
   * Comparisons then read through it (no list per message), and a missing value compares as empty
   * (an HL7 field that is not there is empty), not as no value (a FHIRPath empty collection).
   */
  readOne?(msg: M, path: string): string | undefined;
  /** Checks a path once, when the condition is compiled (FHIRPath syntax). @throws HieError */
  check?(path: string): void;
  /** Operators only this dialect has (`true` for FHIRPath), each a predicate builder on a path. */
  ops?: Readonly<Record<string, (path: string) => (msg: M) => boolean>>;
  /** What a comparison is when reading its path throws; without it the error propagates. */
  onError?(msg: M, path: string, error: unknown): boolean;
}

/** HL7 v2 paths (`PID-3[2].1`) on a parsed message. */
export const HL7_FIELDS: FieldAccessor<FieldReader> = {
  read(msg, path) {
    const v = msg.get(path);
    return v === undefined ? [] : [v];
  },
  readOne: (msg, path) => msg.get(path),
};

/** Longest value a `matches` condition looks at: bounds regex work per message. */
export const MAX_MATCH_INPUT = 64 * 1024;

/** A compiled condition. */
export type Predicate<M = FieldReader> = (msg: M) => boolean;

/** The values of an `in` comparison (`values`, or the older comma-separated `value`). */
export function inValues(c: RuleComparison): string[] {
  return c.values ?? (c.value ? c.value.split(',').map((s) => s.trim()) : []);
}

/** The test one text value must pass, for the operators that hold when any value passes. */
function textTest(c: RuleComparison): ((text: string) => boolean) | undefined {
  const value = c.value ?? '';
  switch (c.op) {
    case '=':
      return (t) => t === value;
    case 'in': {
      const set = new Set(inValues(c));
      return (t) => set.has(t);
    }
    case 'contains':
      return (t) => t.includes(value);
    case 'startsWith':
      return (t) => t.startsWith(value);
    case 'matches': {
      const compiled = compileUserRegex(value);
      if (!compiled.ok) throw new HieError('router.invalid_regex', `invalid regex "${value}": ${compiled.reason}`, { kind: 'user' });
      const re = compiled.regex;
      return (t) => re.test(t.slice(0, MAX_MATCH_INPUT));
    }
    default:
      return undefined;
  }
}

function compileComparison<M>(c: RuleComparison, fields: FieldAccessor<M>): Predicate<M> {
  const { path, op } = c;
  fields.check?.(path);
  const one = fields.readOne;
  let test: Predicate<M>;
  const own = fields.ops && Object.prototype.hasOwnProperty.call(fields.ops, op) ? fields.ops[op] : undefined;
  const text = op === '!=' ? undefined : textTest(c);
  if (own) test = own(path);
  else if (op === 'exists') {
    test = one ? (m) => (one(m, path) ?? '') !== '' : (m) => fields.read(m, path).some((v) => v !== '');
  } else if (op === '!=') {
    const value = c.value ?? '';
    test = one ? (m) => (one(m, path) ?? '') !== value : (m) => !fields.read(m, path).some((v) => v === value);
  } else if (text) test = one ? (m) => text(one(m, path) ?? '') : (m) => fields.read(m, path).some(text);
  else throw new HieError('router.invalid_operator', `operator "${op}" is not supported here`, { kind: 'user' });
  const onError = fields.onError;
  if (!onError) return test;
  return (m) => {
    try {
      return test(m);
    } catch (e) {
      return onError(m, path, e);
    }
  };
}

/**
 * Turns a condition (data) into a predicate over what `fields` reads; no condition always matches.
 * @throws HieError `router.invalid_regex` (kind user) for a `matches` pattern RE2 refuses, `router.invalid_operator`
 * for an operator the dialect does not have, and what the dialect's `check` throws
 */
export function compileCondition<M>(c: RuleCondition | undefined, fields: FieldAccessor<M>): Predicate<M> {
  if (!c) return () => true;
  if ('and' in c) {
    const parts = c.and.map((x) => compileCondition(x, fields));
    return (m) => parts.every((p) => p(m));
  }
  if ('or' in c) {
    const parts = c.or.map((x) => compileCondition(x, fields));
    return (m) => parts.some((p) => p(m));
  }
  if ('not' in c) {
    const inner = compileCondition(c.not, fields);
    return (m) => !inner(m);
  }
  return compileComparison(c, fields);
}

/** One node of an evaluated condition: what it read and whether it held (for "test this rule"). */
export interface ConditionResult {
  matched: boolean;
  /** For a comparison: the value read at its path, several joined by ", " (`undefined`: not in the message). */
  actual?: string;
  /** For a comparison: the path read. */
  path?: string;
  /** For a group: each part's result. */
  parts?: ConditionResult[];
  /** Why it could not be evaluated (an invalid path or pattern). */
  error?: string;
}

/** Evaluates a condition against a message and explains every node; never throws. */
export function explainCondition<M>(c: RuleCondition | undefined, msg: M, fields: FieldAccessor<M>): ConditionResult {
  if (!c) return { matched: true };
  if ('and' in c || 'or' in c) {
    const list = 'and' in c ? c.and : c.or;
    const parts = list.map((x) => explainCondition(x, msg, fields));
    const matched = 'and' in c ? parts.every((p) => p.matched) : parts.some((p) => p.matched);
    return { matched, parts };
  }
  if ('not' in c) {
    const inner = explainCondition(c.not, msg, fields);
    return { matched: !inner.matched && inner.error === undefined, parts: [inner] };
  }
  try {
    // Explained without the dialect's error handling: the person testing sees why a path failed.
    const strict: FieldAccessor<M> = { ...fields, onError: undefined };
    const matched = compileComparison(c, strict)(msg);
    const read = fields.read(msg, c.path);
    return { matched, actual: read.length === 0 ? undefined : read.join(', '), path: c.path };
  } catch (e) {
    return { matched: false, path: c.path, error: e instanceof Error ? e.message : String(e) };
  }
}

/** What every router rule has, whatever its dialect and actions. */
export interface RouterRule {
  name: string;
  when?: RuleCondition;
  stop?: boolean;
}

/** Which rules of a router apply to a message, in order (what the engine then acts on). */
export interface RouteDecision<R = RouterRule> {
  /** The matching rules that act, in order: one in `first_match` mode, up to a `stop` rule in `all_match`. */
  matched: R[];
  /** When no rule matched: the router's `otherwise`. */
  otherwise?: Hl7RouterSettings['otherwise'];
}

/** The settings a router is compiled from (`hl7.router`, `fhir.router`). */
export interface RouterDefinition<R extends RouterRule> {
  mode: Hl7RouterSettings['mode'];
  rules: readonly R[];
  otherwise: Hl7RouterSettings['otherwise'];
}

/** A router compiled once, over the dialect's `fields`: `decide(msg)` per message. */
export function compileRouter<R extends RouterRule, M>(settings: RouterDefinition<R>, fields: FieldAccessor<M>): (msg: M) => RouteDecision<R> {
  const rules = settings.rules.map((r) => ({ rule: r, test: compileCondition(r.when, fields) }));
  return (msg) => {
    const matched: R[] = [];
    for (const { rule, test } of rules) {
      if (!test(msg)) continue;
      matched.push(rule);
      if (settings.mode === 'first_match' || rule.stop === true) break;
    }
    return matched.length > 0 ? { matched } : { matched, otherwise: settings.otherwise };
  };
}

/** What a router does with a sample, for "test this rule" in the editor. */
export interface RouterTestResult {
  /** Each rule's condition on the sample, in order (`null`: that rule's condition is not valid yet; JSON keeps nulls). */
  conditions: (ConditionResult | null)[];
  /** The rules that act on the sample with their actions, or `otherwise`; `problem` when the rules cannot run yet. */
  outcome: { matched: { name: string; then: { action: string; to?: string[] } }[]; otherwise?: RouteDecision['otherwise'] } | { problem: string };
}

/** The schemas a router's rules are checked with (its settings, one condition). */
export interface RouterSchemas<R extends RouterRule> {
  settings: z.ZodType<RouterDefinition<R>>;
  condition: z.ZodType<RuleCondition>;
}

/**
 * Tests rules as an editor holds them (unchecked, maybe half typed) on a sample: each valid rule's
 * condition explained, and the router's decision when the whole settings are valid. Never throws.
 */
export function testRouter<R extends RouterRule & { then: { action: string; to?: string[] } }, M>(
  settings: unknown,
  schemas: RouterSchemas<R>,
  msg: M,
  fields: FieldAccessor<M>,
): RouterTestResult {
  const rules = isRecord(settings) && Array.isArray(settings.rules) ? settings.rules : [];
  const conditions = rules.map((rule: unknown): ConditionResult | null => {
    if (!isRecord(rule)) return null;
    if (rule.when === undefined) return { matched: true };
    const when = schemas.condition.safeParse(rule.when);
    return when.success ? explainCondition(when.data, msg, fields) : null;
  });
  const parsed = schemas.settings.safeParse(settings);
  if (!parsed.success) return { conditions, outcome: { problem: 'Fix the rules to see what the sample does.' } };
  try {
    const d = compileRouter(parsed.data, fields)(msg);
    const matched = d.matched.map((r) => ({ name: r.name, then: { action: r.then.action, ...(r.then.to ? { to: r.then.to } : {}) } }));
    return { conditions, outcome: d.otherwise ? { matched, otherwise: d.otherwise } : { matched } };
  } catch (e) {
    return { conditions, outcome: { problem: e instanceof Error ? e.message : String(e) } };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
