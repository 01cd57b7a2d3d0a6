import { type FhirComparison, type FhirCondition, fhirRouterSettings } from '@hie/config';
import { compileFhirPath, evaluateFhirPath, fhirPathIsTrue, type Resource } from '@hie/fhir';
import { defineItemType } from '../item-type';
import { compileConditionTree, routeByRules, textTest } from './route-by-rules';

/** Problems of one message's rule evaluation, noted in its trace (expressions and errors, no patient data). */
type Problems = string[];
type Compiled = (resource: Resource, problems: Problems) => boolean;

/** Longest problem text kept in the trace per expression. */
const MAX_PROBLEM_TEXT = 300;

/** A FHIRPath result item as text: strings and numbers as they are, anything else as JSON. */
function asText(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'number' || typeof item === 'boolean') return String(item);
  return JSON.stringify(item) ?? '';
}

/**
 * A FHIRPath comparison → a predicate. An expression that fails on a message (a type error, a
 * function HIE does not evaluate, several items where one is needed) does not match: the rule is
 * skipped and the failure is added to `problems`, which the router notes in the trace.
 */
function compileComparison({ path, op, value, values }: FhirComparison): (input: { resource: Resource; problems: Problems }) => boolean {
  compileFhirPath(path); // checked by the settings schema at deploy; compiled (and cached) once here
  const guard =
    (evaluate: (resource: Resource) => boolean) =>
    ({ resource, problems }: { resource: Resource; problems: Problems }): boolean => {
      try {
        return evaluate(resource);
      } catch (e) {
        problems.push(`${path}: ${e instanceof Error ? e.message : String(e)}`.slice(0, MAX_PROBLEM_TEXT));
        return false;
      }
    };
  if (op === 'true') return guard((r) => fhirPathIsTrue(r, path));
  if (op === 'exists') return guard((r) => evaluateFhirPath(r, path).length > 0);
  if (op === '!=') {
    const expected = value ?? '';
    return guard((r) => !evaluateFhirPath(r, path).some((item) => asText(item) === expected));
  }
  const test = textTest({ op, value, values });
  return guard((r) => evaluateFhirPath(r, path).some((item) => test(asText(item))));
}

/** Turn a `fhir.router` condition (data) into a predicate. FHIRPath runs in the fhirpath library: no eval. */
export function compileFhirCondition(c: FhirCondition | undefined): Compiled {
  const test = compileConditionTree(c, compileComparison);
  return (resource, problems) => test({ resource, problems });
}

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
 * `fhir.router`: the rules model of `hl7.router` on FHIR R4 bodies (`application/fhir+json`).
 * Each rule has a condition on FHIRPath expressions (R4 model, e.g.
 * `Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'`) and an action — send
 * to targets or discard. Expressions are compiled once at deploy (a syntax error refuses the
 * production); one that fails on a message does not match and is noted in the trace.
 */
export const fhirRouter = defineItemType({
  type: 'fhir.router',
  version: 1,
  kind: 'process',
  description: 'Route FHIR R4 resources and Bundles by rules on FHIRPath expressions',
  settings: settingsWithFhirPath,
  module: import.meta.url,
  create(settings) {
    const rules = settings.rules.map((r) => ({ name: r.name, then: r.then, test: compileFhirCondition(r.when) }));
    return {
      onMessage(envelope, mctx) {
        const resource = envelope.parse<Resource>();
        const problems: Problems = [];
        const runnable = rules.map((r) => ({ ...r, test: (res: Resource) => r.test(res, problems) }));
        try {
          routeByRules(envelope, resource, runnable, settings, mctx, (rule) => {
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
