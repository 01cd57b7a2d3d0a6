// Rule evaluation lives in @hie/config so the portal's "test this rule" runs the same code.
import { HL7_FIELDS, compileRouter, hl7RouterSettings } from '@hie/config';
import type { Hl7Message } from '@hie/hl7';
import { defineItemType } from '../item-type';
import { transformEnvelope } from './hl7-transform';
import { actOnDecision } from './router-outcome';

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
    const decide = compileRouter(settings, HL7_FIELDS);
    // Every rule target is a connection of this router: validateProduction refuses the rest.
    return {
      onMessage(envelope, mctx) {
        const decision = decide(envelope.parse<Hl7Message>());
        actOnDecision(envelope, decision, mctx, (rule) => {
          const a = rule.then;
          if (a.action === 'send') mctx.send(envelope, { to: a.to, priority: a.priority });
          else if (a.action === 'transform') mctx.send(transformEnvelope(envelope, a.operations), { to: a.to, priority: a.priority });
          else mctx.discard(`${rule.name}: ${a.reason}`);
        });
      },
    };
  },
});
