import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFhirPath, evaluateFhirPath, fhirPathIsTrue, MAX_FHIRPATH_LENGTH } from './index';

const EXAMPLES = new URL('../testdata/r4-examples/', import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, EXAMPLES), 'utf8'));

const lab = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { resource: { resourceType: 'Patient', id: 'p1', birthDate: '1970-01-01' } },
    { resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] }, valueQuantity: { value: 5.4, unit: 'mmol/L' } } },
  ],
};

describe('evaluateFhirPath', () => {
  it('evaluates with the R4 model (ofType, choice types)', () => {
    expect(evaluateFhirPath(lab, "Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'")).toEqual([true]);
    expect(evaluateFhirPath(lab, "Bundle.entry.resource.ofType(Observation).code.coding.code = '718-7'")).toEqual([false]);
    // `value` resolves `valueQuantity` only with the model
    expect(evaluateFhirPath(lab, 'Bundle.entry.resource.ofType(Observation).value.value')).toEqual([5.4]);
    expect(evaluateFhirPath(load('Patient-glossy.json'), 'Patient.name.family')).toEqual(['Levin']);
  });

  it('returns dates as plain strings', () => {
    expect(evaluateFhirPath(lab, 'Bundle.entry.resource.ofType(Patient).birthDate')).toEqual(['1970-01-01']);
  });

  it('refuses a syntax error, an empty and an overlong expression with fhir.path_invalid', () => {
    expect(() => evaluateFhirPath(lab, 'Bundle.entry.((')).toThrow(expect.objectContaining({ code: 'fhir.path_invalid' }));
    expect(() => evaluateFhirPath(lab, '  ')).toThrow(expect.objectContaining({ code: 'fhir.path_invalid' }));
    const long = `Bundle.id = '${'x'.repeat(MAX_FHIRPATH_LENGTH)}'`;
    expect(() => evaluateFhirPath(lab, long)).toThrow(expect.objectContaining({ code: 'fhir.path_invalid' }));
  });

  it('compiles an expression once', () => {
    expect(compileFhirPath('Patient.id')).toBe(compileFhirPath('Patient.id'));
  });
});

describe('fhirPathIsTrue', () => {
  it('follows singleton evaluation: empty is false, one boolean is itself, one other item is true', () => {
    expect(fhirPathIsTrue(lab, "Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'")).toBe(true);
    expect(fhirPathIsTrue(lab, 'Bundle.entry.resource.ofType(Encounter)')).toBe(false);
    expect(fhirPathIsTrue(lab, "Bundle.type = 'batch'")).toBe(false);
    expect(fhirPathIsTrue(lab, 'Bundle.entry.resource.ofType(Patient).id')).toBe(true);
  });

  it('refuses several items with fhir.path_eval', () => {
    expect(() => fhirPathIsTrue(lab, 'Bundle.entry')).toThrow(expect.objectContaining({ code: 'fhir.path_eval' }));
  });
});

describe('patterns in FHIRPath run on a linear-time engine (RE2)', () => {
  const patient = { resourceType: 'Patient', id: `${'a'.repeat(5000)}!`, name: [{ family: 'Smith-Jones' }] };
  it('matches() and replaceMatches() answer at once on input that makes a backtracking engine hang', () => {
    expect(evaluateFhirPath(patient, "Patient.id.matches('^(a+)+$')")).toEqual([false]);
    expect(evaluateFhirPath(patient, "Patient.id.replaceMatches('(a+)+!', 'x')")).toEqual(['x']);
  });
  it('keep FHIRPath semantics: any match, groups in replacements, . across lines', () => {
    expect(evaluateFhirPath(patient, "Patient.name.family.matches('Smith-')")).toEqual([true]);
    expect(evaluateFhirPath(patient, "Patient.name.family.replaceMatches('([A-Za-z]+)-([A-Za-z]+)', '$2 $1')")).toEqual(['Jones Smith']);
    expect(evaluateFhirPath({ resourceType: 'Patient', id: 'a' }, "'x\ny'.matches('x.y')")).toEqual([true]);
  });
  it('refuses a pattern RE2 cannot run (a lookahead) with fhir.path_eval', () => {
    expect(() => evaluateFhirPath(patient, "Patient.id.matches('a(?=!)')")).toThrow(expect.objectContaining({ code: 'fhir.path_eval' }));
  });
});
