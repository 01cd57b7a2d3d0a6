import { type FhirCondition, compileRouter, fhirRouterSettings } from '@hie/config';
import { FHIR_FIELDS, type FhirRuleInput, compileFhirPath, type Resource } from '@hie/fhir';
import { defineItemType } from '../item-type';
import { actOnDecision } from './router-outcome';

/** Every FHIRPath in a condition tree, with its place in the settings (`['rules', 0, 'when', 'and', 1, 'path']`). */
function conditionPaths(c: FhirCondition | undefined, at: (string | number)[], out: { at: (string | number)[]; expression: string }[]): void {
  if (!c) return;
  if ('and' in c) c.and.forEach((x, i) => conditionPaths(x, [...at, 'and', i], out));
  else if ('or' in c) c.or.forEach((x, i) => conditionPaths(x, [...at, 'or', i], out));
  else if ('not' in c) conditionPaths(c.not, [...at, 'not'], out);
  else out.push({ at: [...at, 'path'], expression: c.path });
}

/**
 * The shared settings schema plus what only the engine can check: every expression compiles as
 * FHIRPath, so a syntax error refuses the production at deploy (`config.invalid` with the field's path).
 */
const settingsWithFhirPath = fhirRouterSettings.superRefine((settings, ctx) => {
  settings.rules.forEach((rule, r) => {
    const found: { at: (string | number)[]; expression: string }[] = [];
    conditionPaths(rule.when, ['rules', r, 'when'], found);
    for (const { at, expression } of found) {
      try {
        compileFhirPath(expression);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: at, message: e instanceof Error ? e.message : String(e) });
      }
    }
  });
});

/**
 * `fhir.router`: `hl7.router`'s rules on FHIR R4 bodies (`application/fhir+json`), evaluated by
 * the same engine (@hie/config `compileRouter`, with @hie/fhir's FHIRPath dialect). Each rule has a
 * condition on FHIRPath expressions (R4 model, e.g.
 * `Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'`) and an action — send
 * to targets or discard; in `all_match` a rule marked `stop` ends the evaluation. Expressions
 * are compiled once at deploy (a syntax error refuses the production); one that fails on a
 * message does not match and is noted in the trace.
 */
export const fhirRouter = defineItemType({
  type: 'fhir.router',
  version: 1,
  kind: 'process',
  description: 'Route FHIR R4 resources and Bundles by rules on FHIRPath expressions',
  settings: settingsWithFhirPath,
  module: import.meta.url,
  create(settings) {
    const decide = compileRouter(settings, FHIR_FIELDS);
    return {
      onMessage(envelope, mctx) {
        const problems: string[] = [];
        const input: FhirRuleInput = { resource: envelope.parse<Resource>(), problems };
        try {
          actOnDecision(envelope, decide(input), mctx, (rule) => {
            const a = rule.then;
            if (a.action === 'send') mctx.send(envelope, { to: a.to, priority: a.priority });
            else mctx.discard(`${rule.name}: ${a.reason}`);
          });
        } finally {
          if (problems.length > 0) mctx.note({ problems });
        }
      },
    };
  },
});
