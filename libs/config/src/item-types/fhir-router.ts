import { z } from 'zod';
import { COMPARISON_OPS, comparisonOf, conditionOf, discardAction, routerSettingsOf, ruleStop, sendAction, type ConditionOf } from './hl7-router';

/** Longest FHIRPath a rule may hold (the engine's FHIRPath compiler refuses longer ones too). */
export const MAX_RULE_FHIRPATH_LENGTH = 1000;

/**
 * A `fhir.router` comparison: a FHIRPath expression (R4 model) and how to test its result.
 * `true` takes the expression as a condition (FHIRPath singleton evaluation: empty is false);
 * the other operators compare each item of the result as text, and match when any item does
 * (`!=`: when none equals the value).
 *
 * @see https://hl7.org/fhirpath/N1/
 */
export const fhirComparison = comparisonOf(
  z
    .string()
    .min(1)
    .max(MAX_RULE_FHIRPATH_LENGTH)
    .describe("FHIRPath expression (R4), e.g. Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'"),
  ['true', ...COMPARISON_OPS],
);
export type FhirComparison = z.output<typeof fhirComparison>;

/** A `fhir.router` condition: a FHIRPath comparison, or and/or/not of conditions. Data, never code. */
export type FhirCondition = ConditionOf<FhirComparison>;
export const fhirCondition: z.ZodType<FhirCondition> = conditionOf(fhirComparison);

export const fhirRouteRule = z
  .object({
    name: z.string().min(1).describe('Rule name (shown in traces)'),
    when: fhirCondition.optional().describe('Condition; a rule without one always matches'),
    // transform is HL7 v2 operations: not meaningful on a FHIR body.
    then: z.discriminatedUnion('action', [sendAction, discardAction]),
    stop: ruleStop,
  })
  .strict();
export type FhirRouteRule = z.output<typeof fhirRouteRule>;

/** Settings of `fhir.router`: the rules model of `hl7.router`, with FHIRPath instead of HL7 paths. */
export const fhirRouterSettings = routerSettingsOf(fhirRouteRule);
export type FhirRouterSettings = z.output<typeof fhirRouterSettings>;
