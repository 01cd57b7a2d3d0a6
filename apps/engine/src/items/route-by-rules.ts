import { type ConditionOf, compileUserRegex } from '@hie/config';
import type { MessageEnvelope } from '@hie/envelope';
import type { ItemContext } from '../item-type';
import { EngineError } from '../runtime/errors';

/** A router rule ready to run: its name, its compiled test and its action (data). */
export interface RunnableRule<M, A> {
  name: string;
  test: (parsed: M) => boolean;
  then: A;
}

/** What every router's settings hold besides its rules. */
export interface RouterBehaviour {
  mode: 'first_match' | 'all_match';
  otherwise: 'discard' | 'send_all' | 'fail';
}

/**
 * The rule loop shared by `hl7.router` and `fhir.router`: test the rules in order, act on each
 * match (`first_match` stops at the first), note in the trace which rule(s) matched, else apply
 * `otherwise`.
 *
 * @throws EngineError `router.no_match` (user) when nothing matched and `otherwise` is `fail`
 */
export function routeByRules<M, A>(
  envelope: MessageEnvelope,
  parsed: M,
  rules: readonly RunnableRule<M, A>[],
  behaviour: RouterBehaviour,
  mctx: ItemContext,
  act: (rule: RunnableRule<M, A>) => void,
): void {
  const matched: string[] = [];
  for (const rule of rules) {
    if (!rule.test(parsed)) continue;
    matched.push(rule.name);
    act(rule);
    if (behaviour.mode === 'first_match') break;
  }
  // The trace says which rule sent the message where (all of them in all_match mode).
  if (matched.length === 1) mctx.note({ rule: matched[0]! });
  else if (matched.length > 1) mctx.note({ rule: matched[0]!, rules: matched });
  if (matched.length > 0) return;
  mctx.note({ otherwise: behaviour.otherwise });
  if (behaviour.otherwise === 'send_all') mctx.send(envelope);
  else if (behaviour.otherwise === 'fail') throw new EngineError('router.no_match', 'no routing rule matched', 'user');
  else mctx.discard('no rule matched');
}

/** Longest value a `matches` condition looks at: bounds regex work per message. */
const MAX_MATCH_INPUT = 64 * 1024;

/**
 * Turns a condition tree (data) into a predicate, the leaves compiled by `leaf`. No eval: and,
 * or, not and a closed set of comparisons.
 */
export function compileConditionTree<C extends object, M>(c: ConditionOf<C> | undefined, leaf: (comparison: C) => (m: M) => boolean): (m: M) => boolean {
  if (!c) return () => true;
  if ('and' in c) {
    const parts = c.and.map((x) => compileConditionTree(x, leaf));
    return (m) => parts.every((p) => p(m));
  }
  if ('or' in c) {
    const parts = c.or.map((x) => compileConditionTree(x, leaf));
    return (m) => parts.some((p) => p(m));
  }
  if ('not' in c) {
    const inner = compileConditionTree(c.not, leaf);
    return (m) => !inner(m);
  }
  return leaf(c);
}

/** A comparison's operator and operand, as in the routers' settings. */
export interface TextComparison {
  op: string;
  value?: string;
  values?: string[];
}

/**
 * The test one text value must pass for `=`, `in`, `contains`, `startsWith` and `matches` (RE2,
 * linear time: a pattern like `((a+))+$` cannot backtrack on any input). `!=` and `exists` depend
 * on how many values a path has, so each router handles them.
 *
 * @throws EngineError `router.invalid_regex` (user) for a pattern RE2 cannot compile
 */
export function textTest(c: TextComparison): (text: string) => boolean {
  const value = c.value ?? '';
  switch (c.op) {
    case 'in': {
      const set = new Set(c.values ?? (c.value ? c.value.split(',').map((s) => s.trim()) : []));
      return (t) => set.has(t);
    }
    case 'contains':
      return (t) => t.includes(value);
    case 'startsWith':
      return (t) => t.startsWith(value);
    case 'matches': {
      const compiled = compileUserRegex(value);
      if (!compiled.ok) throw new EngineError('router.invalid_regex', `invalid regex "${value}": ${compiled.reason}`, 'user');
      const re = compiled.regex;
      return (t) => re.test(t.slice(0, MAX_MATCH_INPUT));
    }
    default:
      return (t) => t === value;
  }
}
