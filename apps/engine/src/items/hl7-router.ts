import { type Condition, hl7RouterSettings } from '@hie/config';
import type { Hl7Message } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { transformEnvelope } from './hl7-transform';
import { compileConditionTree, routeByRules, textTest } from './route-by-rules';

type Compiled = (msg: Hl7Message) => boolean;

/** Turn a condition (data) into a predicate. No eval: a closed set of operators. */
export function compileCondition(c: Condition | undefined): Compiled {
  return compileConditionTree(c, ({ path, op, value, values }): Compiled => {
    if (op === 'exists') {
      return (m) => {
        const v = m.get(path);
        return v !== undefined && v !== '';
      };
    }
    if (op === '!=') return (m) => (m.get(path) ?? '') !== (value ?? '');
    const test = textTest({ op, value, values });
    return (m) => test(m.get(path) ?? '');
  });
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
        routeByRules(envelope, envelope.parse<Hl7Message>(), rules, settings, mctx, (rule) => {
          const a = rule.then;
          if (a.action === 'send') mctx.send(envelope, { to: a.to, priority: a.priority });
          else if (a.action === 'transform') mctx.send(transformEnvelope(envelope, a.operations), { to: a.to, priority: a.priority });
          else mctx.discard(`${rule.name}: ${a.reason}`);
        });
      },
    };
  },
});
