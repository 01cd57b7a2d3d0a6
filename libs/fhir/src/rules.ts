import { type FieldAccessor, type RouterTestResult, fhirCondition, fhirRouterSettings, testRouter } from '@hie/config';
import { parseFhirJson } from './parse';
import { compileFhirPath, evaluateFhirPath, fhirPathIsTrue } from './fhirpath';

/** What a `fhir.router` condition reads: a resource, and where expressions that fail on it are told. */
export interface FhirRuleInput {
  resource: unknown;
  /** Filled with `"<expression>: <error>"` for each expression that failed (no patient data); the router notes them in the trace. */
  problems?: string[];
}

/** Longest problem text kept per failed expression. */
const MAX_PROBLEM_TEXT = 300;

/** A FHIRPath result item as text: strings and numbers as they are, anything else as JSON. */
function asText(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'number' || typeof item === 'boolean') return String(item);
  return JSON.stringify(item) ?? '';
}

/**
 * The `fhir.router` dialect of @hie/config's rule engine: a path is a FHIRPath expression (R4
 * model), its values are the items of the result as text (a comparison holds when any item does),
 * and `true` takes the expression itself as the condition (singleton evaluation: empty is false).
 * Expressions are compiled when the rules are (a syntax error throws `fhir.path_invalid`). One that
 * fails on a message does not match: the comparison is false and the failure goes to `problems`.
 *
 * @see https://hl7.org/fhirpath/N1/
 */
export const FHIR_FIELDS: FieldAccessor<FhirRuleInput> = {
  read: ({ resource }, path) => evaluateFhirPath(resource, path).map(asText),
  check: (path) => void compileFhirPath(path),
  ops: { true: (path) => ({ resource }) => fhirPathIsTrue(resource, path) },
  onError({ problems }, path, error) {
    problems?.push(`${path}: ${error instanceof Error ? error.message : String(error)}`.slice(0, MAX_PROBLEM_TEXT));
    return false;
  },
};

/**
 * "Test this rule" for `fhir.router`: the rules as the editor holds them, on a sample FHIR JSON
 * resource, by the engine's own code. Never throws: a sample that is not FHIR JSON gives `error`.
 */
export function testFhirRules(settings: unknown, sample: string): RouterTestResult | { error: string } {
  let resource: unknown;
  try {
    resource = parseFhirJson(sample);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  return testRouter(settings, { settings: fhirRouterSettings, condition: fhirCondition }, { resource }, FHIR_FIELDS);
}
