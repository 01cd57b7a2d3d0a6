import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type FhirCondition, compileCondition, compileRouter, explainCondition, fhirRouterSettings } from '@hie/config';
import { FHIR_FIELDS, testFhirRules } from './rules';

/** A real R4 example: Patient "glossy" (male, not deceased). */
const glossy: unknown = JSON.parse(readFileSync(new URL('../testdata/r4-examples/Patient-glossy.json', import.meta.url), 'utf8'));
/** A literal Bundle: two given names, so `name.given` is not a single boolean. */
const bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [{ resource: { resourceType: 'Patient', gender: 'male', name: [{ given: ['Peter', 'James'] }] } }],
};

const holds = (c: FhirCondition, resource: unknown = glossy) => compileCondition(c, FHIR_FIELDS)({ resource, problems: [] });

describe('FHIRPath rules on the shared rule engine', () => {
  it('compares each item of the result as text; != holds when none equals; true is singleton evaluation', () => {
    const given = 'Bundle.entry.resource.ofType(Patient).name.given';
    expect(holds({ path: given, op: '=', value: 'James' }, bundle)).toBe(true);
    expect(holds({ path: given, op: '!=', value: 'James' }, bundle)).toBe(false);
    expect(holds({ path: given, op: 'in', values: ['Paul', 'Peter'] }, bundle)).toBe(true);
    expect(holds({ path: 'Bundle.type', op: 'matches', value: '^coll' }, bundle)).toBe(true);
    expect(holds({ path: "Bundle.entry.resource.ofType(Patient).gender = 'male'", op: 'true' }, bundle)).toBe(true);
    expect(holds({ and: [{ path: 'Patient.gender', op: 'exists' }, { not: { path: 'Patient.deceased', op: 'exists' } }] })).toBe(true);
  });

  it('an expression that fails on a message does not match, and says why in problems', () => {
    const problems: string[] = [];
    const test = compileCondition({ path: 'Bundle.entry.resource.ofType(Patient).name.given', op: 'true' }, FHIR_FIELDS);
    expect(test({ resource: bundle, problems })).toBe(false);
    expect(problems).toEqual([expect.stringMatching(/2 items/)]);
  });

  it('refuses an expression that does not compile when the rules are compiled', () => {
    expect(() => compileCondition({ path: 'Patient.name.((', op: 'exists' }, FHIR_FIELDS)).toThrow(/invalid FHIRPath/);
  });

  it('all_match stops at a rule marked stop', () => {
    const settings = fhirRouterSettings.parse({
      mode: 'all_match',
      rules: [
        { name: 'patients', when: { path: 'Patient.gender', op: 'exists' }, then: { action: 'send', to: ['A'] }, stop: true },
        { name: 'all', then: { action: 'send', to: ['B'] } },
      ],
    });
    const decide = compileRouter(settings, FHIR_FIELDS);
    expect(decide({ resource: glossy }).matched.map((r) => r.name)).toEqual(['patients']);
    expect(decide({ resource: bundle }).matched.map((r) => r.name)).toEqual(['all']);
  });

  it('explains what each comparison read', () => {
    const r = explainCondition({ path: 'Bundle.entry.resource.ofType(Patient).name.given', op: '=', value: 'James' }, { resource: bundle }, FHIR_FIELDS);
    expect(r).toMatchObject({ matched: true, actual: 'Peter, James' });
    const bad = explainCondition({ path: 'Bundle.entry.resource.ofType(Patient).name.given', op: 'true' }, { resource: bundle }, FHIR_FIELDS);
    expect(bad).toMatchObject({ matched: false, error: expect.stringMatching(/2 items/) as string });
  });
});

describe('testFhirRules (the editor\'s "test this rule")', () => {
  const rules = [
    { name: 'male', when: { path: 'Patient.gender', op: '=', value: 'male' }, then: { action: 'send', to: ['A'] } },
    { name: 'half typed', when: { path: '', op: '=' }, then: { action: 'send', to: ['B'] } },
  ];

  it('explains every valid condition, and says the whole router cannot run while one is not', () => {
    const r = testFhirRules({ rules }, JSON.stringify(glossy));
    expect(r).toMatchObject({ conditions: [{ matched: true, actual: 'male' }, null], outcome: { problem: expect.any(String) as string } });
  });

  it('gives the router\'s decision when the rules are valid, and an error for a sample that is not FHIR', () => {
    expect(testFhirRules({ rules: rules.slice(0, 1) }, JSON.stringify(glossy))).toMatchObject({ outcome: { matched: [{ name: 'male', then: { action: 'send', to: ['A'] } }] } });
    expect(testFhirRules({ rules: rules.slice(0, 1) }, JSON.stringify(bundle))).toMatchObject({ outcome: { matched: [], otherwise: 'discard' } });
    expect(testFhirRules({ rules }, 'MSH|^~\\&|')).toHaveProperty('error');
  });
});
