/**
 * How `hl7.router` rules are evaluated: pure and isomorphic, so the engine routes with it and the
 * portal's "test this rule" runs the very same code in the browser. Conditions are data, never
 * code: a closed set of operators, user patterns through RE2 (linear time).
 */
import { HieError } from '../errors';
import type { Condition, Hl7RouterSettings, RouteRule } from '../item-types/hl7-router';
import { compileUserRegex } from '../item-types/user-regex';

/** What a condition reads: a parsed HL7 message (`Hl7Message` of @hie/hl7 fits). */
export interface FieldReader {
  /** The value at an HL7 path (`PID-3[2].1`), `undefined` when it does not exist. */
  get(path: string): string | undefined;
}

/** Longest value a `matches` condition looks at: bounds regex work per message. */
export const MAX_MATCH_INPUT = 64 * 1024;

/** A compiled condition. */
export type Predicate = (msg: FieldReader) => boolean;

type Comparison = Extract<Condition, { path: string }>;

/** The values of an `in` comparison (`values`, or the older comma-separated `value`). */
export function inValues(c: Comparison): string[] {
  return c.values ?? (c.value ? c.value.split(',').map((s) => s.trim()) : []);
}

function compileComparison(c: Comparison): Predicate {
  const { path, op } = c;
  const value = c.value ?? '';
  switch (op) {
    case 'exists':
      return (m) => {
        const v = m.get(path);
        return v !== undefined && v !== '';
      };
    case '=':
      return (m) => (m.get(path) ?? '') === value;
    case '!=':
      return (m) => (m.get(path) ?? '') !== value;
    case 'in': {
      const set = new Set(inValues(c));
      return (m) => set.has(m.get(path) ?? '');
    }
    case 'contains':
      return (m) => (m.get(path) ?? '').includes(value);
    case 'startsWith':
      return (m) => (m.get(path) ?? '').startsWith(value);
    case 'matches': {
      const compiled = compileUserRegex(value);
      if (!compiled.ok) throw new HieError('router.invalid_regex', `invalid regex "${value}": ${compiled.reason}`, { kind: 'user' });
      const re = compiled.regex;
      return (m) => re.test((m.get(path) ?? '').slice(0, MAX_MATCH_INPUT));
    }
  }
}

/**
 * Turns a condition (data) into a predicate; no condition always matches.
 * @throws HieError `router.invalid_regex` (kind user) for a `matches` pattern RE2 refuses
 */
export function compileCondition(c: Condition | undefined): Predicate {
  if (!c) return () => true;
  if ('and' in c) {
    const parts = c.and.map(compileCondition);
    return (m) => parts.every((p) => p(m));
  }
  if ('or' in c) {
    const parts = c.or.map(compileCondition);
    return (m) => parts.some((p) => p(m));
  }
  if ('not' in c) {
    const inner = compileCondition(c.not);
    return (m) => !inner(m);
  }
  return compileComparison(c);
}

/** One node of an evaluated condition: what it read and whether it held (for "test this rule"). */
export interface ConditionResult {
  matched: boolean;
  /** For a comparison: the value read at its path (`undefined`: not in the message). */
  actual?: string;
  /** For a comparison: the path read. */
  path?: string;
  /** For a group: each part's result. */
  parts?: ConditionResult[];
  /** Why it could not be evaluated (an invalid path or pattern). */
  error?: string;
}

/** Evaluates a condition against a message and explains every node; never throws. */
export function explainCondition(c: Condition | undefined, msg: FieldReader): ConditionResult {
  if (!c) return { matched: true };
  if ('and' in c || 'or' in c) {
    const list = 'and' in c ? c.and : c.or;
    const parts = list.map((x) => explainCondition(x, msg));
    const matched = 'and' in c ? parts.every((p) => p.matched) : parts.some((p) => p.matched);
    return { matched, parts };
  }
  if ('not' in c) {
    const inner = explainCondition(c.not, msg);
    return { matched: !inner.matched && inner.error === undefined, parts: [inner] };
  }
  try {
    const actual = msg.get(c.path);
    return { matched: compileComparison(c)(msg), actual, path: c.path };
  } catch (e) {
    return { matched: false, path: c.path, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Which rules of a router apply to a message, in order (what the engine then acts on). */
export interface RouteDecision {
  /** The matching rules that act, in order: one in `first_match` mode, up to a `stop` rule in `all_match`. */
  matched: RouteRule[];
  /** When no rule matched: the router's `otherwise`. */
  otherwise?: Hl7RouterSettings['otherwise'];
}

/** A router compiled once: `decide(msg)` per message. */
export function compileRouter(settings: Pick<Hl7RouterSettings, 'mode' | 'rules' | 'otherwise'>): (msg: FieldReader) => RouteDecision {
  const rules = settings.rules.map((r) => ({ rule: r, test: compileCondition(r.when) }));
  return (msg) => {
    const matched: RouteRule[] = [];
    for (const { rule, test } of rules) {
      if (!test(msg)) continue;
      matched.push(rule);
      if (settings.mode === 'first_match' || rule.stop === true) break;
    }
    return matched.length > 0 ? { matched } : { matched, otherwise: settings.otherwise };
  };
}
