import { type Condition, compileUserRegex, hl7RouterSettings } from '@hie/config';
import type { Hl7Message } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { transformEnvelope } from './hl7-transform';

/** Longest value a `matches` condition looks at: bounds regex work per message. */
const MAX_MATCH_INPUT = 64 * 1024;

type Compiled = (msg: Hl7Message) => boolean;

/** Turn a condition (data) into a predicate. No eval: a closed set of operators. */
export function compileCondition(c: Condition | undefined): Compiled {
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
      const set = new Set(c.values ?? (c.value ? c.value.split(',').map((s) => s.trim()) : []));
      return (m) => set.has(m.get(path) ?? '');
    }
    case 'contains':
      return (m) => (m.get(path) ?? '').includes(value);
    case 'startsWith':
      return (m) => (m.get(path) ?? '').startsWith(value);
    case 'matches': {
      // RE2 (linear time): a pattern like ((a+))+$ cannot backtrack on any input.
      const compiled = compileUserRegex(value);
      if (!compiled.ok) throw new EngineError('router.invalid_regex', `invalid regex "${value}": ${compiled.reason}`, 'user');
      const re = compiled.regex;
      return (m) => re.test((m.get(path) ?? '').slice(0, MAX_MATCH_INPUT));
    }
  }
}

/**
 * `hl7.router`: rules as data. Each rule has a condition on HL7 paths and an action — send to
 * targets, transform then send, or discard. `first_match` stops at the first matching rule.
 */
export const hl7Router = defineItemType({
  type: 'hl7.router',
  version: 1,
  kind: 'process',
  description: 'Route HL7 v2 by rules on message fields',
  settings: hl7RouterSettings,
  module: import.meta.url,
  create(settings) {
    const rules = settings.rules.map((r) => ({ ...r, test: compileCondition(r.when) }));
    // Every rule target is a connection of this router: validateProduction refuses the rest.
    return {
      onMessage(envelope, mctx) {
        const msg = envelope.parse<Hl7Message>();
        const matched: string[] = [];
        for (const rule of rules) {
          if (!rule.test(msg)) continue;
          matched.push(rule.name);
          const a = rule.then;
          if (a.action === 'send') mctx.send(envelope, { to: a.to, priority: a.priority });
          else if (a.action === 'transform') mctx.send(transformEnvelope(envelope, a.operations), { to: a.to, priority: a.priority });
          else mctx.discard(`${rule.name}: ${a.reason}`);
          if (settings.mode === 'first_match') break;
        }
        // The trace says which rule sent the message where (all of them in all_match mode).
        if (matched.length === 1) mctx.note({ rule: matched[0] });
        else if (matched.length > 1) mctx.note({ rule: matched[0], rules: matched });
        if (matched.length > 0) return;
        mctx.note({ otherwise: settings.otherwise });
        if (settings.otherwise === 'send_all') mctx.send(envelope);
        else if (settings.otherwise === 'fail') throw new EngineError('router.no_match', 'no routing rule matched', 'user');
        else mctx.discard('no rule matched');
      },
    };
  },
});
