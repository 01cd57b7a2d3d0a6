import { describe, expect, it } from 'vitest';
import { COMPARISON_OPS, condition, fhirCondition } from '@hie/config';
import { DEFAULT_SAMPLE } from './editor-model';
import { FHIR_DIALECT, HL7_DIALECT, describeOutcome, isCondition, ruleDialect, rulesExample, takesValue } from './rule-dialect';

const schemaOf = { 'hl7.router': condition, 'fhir.router': fhirCondition } as const;

describe('rule dialects', () => {
  it('each router type has its dialect; other types none', () => {
    expect(ruleDialect('hl7.router')).toBe(HL7_DIALECT);
    expect(ruleDialect('fhir.router')).toBe(FHIR_DIALECT);
    expect(ruleDialect('hl7.transform')).toBeUndefined();
  });

  it('offers exactly the operators its router accepts', () => {
    expect(HL7_DIALECT.operators.map((o) => o.value)).toEqual([...COMPARISON_OPS]);
    expect(FHIR_DIALECT.operators.map((o) => o.value)).toEqual(['true', ...COMPARISON_OPS]);
    for (const d of [HL7_DIALECT, FHIR_DIALECT]) {
      for (const o of d.operators) {
        const c = { path: d.firstCondition.path, op: o.value, ...(o.value === 'in' ? { values: ['a'] } : takesValue(d, o.value) ? { value: 'a' } : {}) };
        expect(schemaOf[d.itemType].safeParse(c).success, `${d.itemType} ${o.value}`).toBe(true);
      }
    }
    // `true` is FHIRPath's: an HL7 rule refuses it.
    expect(condition.safeParse({ path: 'MSH-9.1', op: 'true' }).success).toBe(false);
    expect(takesValue(FHIR_DIALECT, 'true')).toBe(false);
    expect(takesValue(FHIR_DIALECT, 'exists')).toBe(false);
    expect(takesValue(HL7_DIALECT, '=')).toBe(true);
  });

  it('a new rule and the JSON example are valid rules of the router', () => {
    for (const d of [HL7_DIALECT, FHIR_DIALECT]) {
      expect(schemaOf[d.itemType].safeParse(d.firstCondition).success).toBe(true);
      expect(rulesExample(d, ['Out'])[0]).toMatchObject({ when: d.firstCondition, then: { to: ['Out'] } });
    }
  });

  it('warns about the MSH-9 trap on HL7 paths only', () => {
    const trapped = { path: 'MSH-9', op: '=', value: 'ADT^A01' };
    expect(HL7_DIALECT.traps(trapped, DEFAULT_SAMPLE)).toHaveLength(1);
    expect(FHIR_DIALECT.traps(trapped, '{}')).toEqual([]);
  });

  it('tells what the router does with the sample, in the words of its dialect', () => {
    expect(describeOutcome(FHIR_DIALECT, { error: 'not JSON' }).text).toBe('The sample is not FHIR JSON: not JSON');
    expect(describeOutcome(HL7_DIALECT, { error: 'no MSH' }).text).toBe('The sample is not an HL7 message: no MSH');
    expect(describeOutcome(FHIR_DIALECT, { conditions: [], outcome: { matched: [{ name: 'f', then: { action: 'send', to: ['A', 'B'] } }] } })).toEqual({
      text: 'rule “f”: it would be sent to A, B',
      good: true,
    });
    expect(describeOutcome(FHIR_DIALECT, { conditions: [], outcome: { matched: [], otherwise: 'fail' } }).good).toBe(false);
    expect(describeOutcome(FHIR_DIALECT, undefined).text).toBe('testing…');
  });

  it('shows in the structured editor only conditions it can draw', () => {
    expect(isCondition({ and: [{ path: 'Patient.gender', op: 'exists' }, { not: { path: 'Patient.active', op: 'true' } }] })).toBe(true);
    expect(isCondition({ and: [] })).toBe(false);
    expect(isCondition({ and: [{ path: 'a', op: '=' }], or: [] })).toBe(false);
  });
});
