import type { RouteDecision } from '@hie/config';
import type { MessageEnvelope } from '@hie/envelope';
import type { ItemContext } from '../item-type';
import { EngineError } from '../runtime/errors';

/** What a router does with each matched rule: its actions are the router's own. */
export type RuleAction<R> = (rule: R) => void;

/**
 * The end shared by `hl7.router` and `fhir.router` once @hie/config's `compileRouter` decided:
 * act on each matched rule, note in the trace which rule(s) matched (the sandbox reads them as
 * `matchedRule(s)`), else apply `otherwise`.
 *
 * @throws EngineError `router.no_match` (user) when nothing matched and `otherwise` is `fail`
 */
export function actOnDecision<R extends { name: string }>(envelope: MessageEnvelope, decision: RouteDecision<R>, mctx: ItemContext, act: RuleAction<R>): void {
  const matched = decision.matched.map((r) => r.name);
  for (const rule of decision.matched) act(rule);
  // The trace says which rule sent the message where (all of them in all_match mode).
  if (matched.length === 1) mctx.note({ rule: matched[0]! });
  else if (matched.length > 1) mctx.note({ rule: matched[0]!, rules: matched });
  if (matched.length > 0) return;
  const otherwise = decision.otherwise ?? 'discard';
  mctx.note({ otherwise });
  if (otherwise === 'send_all') mctx.send(envelope);
  else if (otherwise === 'fail') throw new EngineError('router.no_match', 'no routing rule matched', 'user');
  else mctx.discard('no rule matched');
}
