// Rule evaluation lives in @hie/config so the portal's "test this rule" runs the same code.
import { compileRouter, hl7RouterSettings } from '@hie/config';
import type { Hl7Message } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { transformEnvelope } from './hl7-transform';

/**
 * `hl7.router`: rules as data. Each rule has a condition on HL7 paths and an action — send to
 * targets, transform then send, or discard. `first_match` stops at the first matching rule;
 * in `all_match` a rule marked `stop` ends the evaluation.
 */
export const hl7Router = defineItemType({
  type: 'hl7.router',
  version: 1,
  kind: 'process',
  description: 'Route HL7 v2 by rules on message fields',
  settings: hl7RouterSettings,
  module: import.meta.url,
  create(settings) {
    const decide = compileRouter(settings);
    // Every rule target is a connection of this router: validateProduction refuses the rest.
    return {
      onMessage(envelope, mctx) {
        const msg = envelope.parse<Hl7Message>();
        const decision = decide(msg);
        const matched = decision.matched.map((r) => r.name);
        for (const rule of decision.matched) {
          const a = rule.then;
          if (a.action === 'send') mctx.send(envelope, { to: a.to, priority: a.priority });
          else if (a.action === 'transform') mctx.send(transformEnvelope(envelope, a.operations), { to: a.to, priority: a.priority });
          else mctx.discard(`${rule.name}: ${a.reason}`);
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
