import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_V2_FHIR_MAPS, hl7v2ToFhirSettings, v2FhirMap } from '@hie/config';
import { validateFhir } from '@hie/fhir';
import { parseMessage } from '@hie/hl7';
import { corpusDir } from '../testing/helpers';
import { compileV2FhirMap, hl7DateToFhir, rangeEnd, runV2FhirMap as runMap } from './v2-fhir-map';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The map's result, its Bundle typed loosely for the assertions. */
const runV2FhirMap = (...args: Parameters<typeof runMap>) => {
  const r = runMap(...args);
  return { ...r, bundle: r.bundle as Json };
};

const adt = compileV2FhirMap(BUILTIN_V2_FHIR_MAPS.adt);
const oru = compileV2FhirMap(BUILTIN_V2_FHIR_MAPS['oru-r01']);
const errors = (bundle: unknown) => validateFhir(bundle).filter((i) => i.severity === 'error');
const resources = (bundle: Json, type: string): Json[] => bundle.entry.filter((e: Json) => e.resource.resourceType === type).map((e: Json) => e.resource);

/** The vendored corpus (testdata/hl7, the same files as ../shared/corpus/hl7) by message type. */
const corpus = readdirSync(corpusDir).filter((f) => f.endsWith('.hl7'));
const adtFiles = corpus.filter((f) => /__ADT_A0[1348]__/.test(f));
const oruFiles = corpus.filter((f) => /__ORU_R01__/.test(f));

const A01 = [
  'MSH|^~\\&|ADT|HOSP|HIE|HOSP|202401151230||ADT^A01^ADT_A01|CTRL1|P|2.5',
  'EVN|A01|202401151230',
  'PID|1||MRN123^^^HOSP^MR~999-99-9999^^^SSA^SS||DOE^JANE^Q^^DR||19800229|F|||1 Main St^Apt 2^Springfield^IL^62701^USA^H||555-1234^PRN',
  'NK1|1|DOE^JOHN|SPO^Spouse|1 Main St^^Springfield^IL^62701|555-9876',
  'PV1|1|I|WARD1^101^A||||1234^SMITH^ANNE^^^DR|||||||7|||||V100^^^HOSP|||||||||||||||||||||||||202401151200+0100',
  'IN1|1|PLAN1|PAYER9|Acme Insurance||||GRP7||||20240101|20241231||||SEL|||||||||||||||||||POL-55',
].join('\r');

// The R4 definitions load on the first validation (seconds).
beforeAll(() => void validateFhir({ resourceType: 'Patient' }), 60_000);

describe('built-in v2 → FHIR maps on the vendored corpus', () => {
  it('finds ADT and ORU files to map', () => {
    expect(adtFiles.length).toBeGreaterThanOrEqual(8);
    expect(adtFiles.filter((f) => readFileSync(path.join(corpusDir, f), 'latin1').match(/(^|[\r\n])PID\|/)).length).toBeGreaterThanOrEqual(7);
    expect(oruFiles.length).toBeGreaterThanOrEqual(5);
  });

  it.each(adtFiles)('ADT %s → a transaction Bundle with Patient and Encounter that validates', (file) => {
    const msg = parseMessage(readFileSync(path.join(corpusDir, file)));
    const { bundle } = runV2FhirMap(adt, msg);
    expect(errors(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    // One file is MSH and EVN only: nothing to map, and an empty Bundle.
    expect(resources(bundle, 'Patient')).toHaveLength(Math.min(1, msg.segments('PID').length));
    expect(resources(bundle, 'Encounter')).toHaveLength(Math.min(1, msg.segments('PV1').length));
    expect(resources(bundle, 'RelatedPerson')).toHaveLength(msg.segments('NK1').length);
    expect(resources(bundle, 'Coverage')).toHaveLength(msg.segments('IN1').length);
  });

  it.each(oruFiles)('ORU %s → DiagnosticReport and Observations that validate', (file) => {
    const msg = parseMessage(readFileSync(path.join(corpusDir, file)));
    const { bundle } = runV2FhirMap(oru, msg);
    expect(errors(bundle)).toEqual([]);
    expect(resources(bundle, 'DiagnosticReport')).toHaveLength(1);
    const observations = resources(bundle, 'Observation');
    expect(observations).toHaveLength(msg.segments('OBX').length);
    // The report lists every observation by its entry's fullUrl.
    const urls = bundle.entry.filter((e: Json) => e.resource.resourceType === 'Observation').map((e: Json) => e.fullUrl);
    expect(resources(bundle, 'DiagnosticReport')[0].result.map((r: Json) => r.reference)).toEqual(urls);
  });
});

describe('the ADT map', () => {
  it('maps PID, PV1, NK1 and IN1 with conditional requests keyed by identifier', () => {
    const { bundle, warnings } = runV2FhirMap(adt, parseMessage(A01));
    expect(warnings).toEqual([]);
    expect(errors(bundle)).toEqual([]);
    const [patient] = resources(bundle, 'Patient');
    expect(patient).toMatchObject({
      identifier: [
        { value: 'MRN123', system: 'urn:hie:identifier', type: { coding: [{ code: 'MR' }] } },
        { value: '999-99-9999', type: { coding: [{ code: 'SS' }] } },
      ],
      name: [{ family: 'DOE', given: ['JANE', 'Q'], prefix: ['DR'] }],
      birthDate: '1980-02-29',
      gender: 'female',
      address: [{ line: ['1 Main St', 'Apt 2'], city: 'Springfield', state: 'IL', postalCode: '62701', use: 'home' }],
      telecom: [{ value: '555-1234', system: 'phone', use: 'home' }],
    });
    const entries = bundle.entry as Json[];
    expect(entries[0].request).toEqual({ method: 'PUT', url: 'Patient?identifier=urn%3Ahie%3Aidentifier|MRN123' });
    const [encounter] = resources(bundle, 'Encounter');
    expect(encounter).toMatchObject({
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: entries[0].fullUrl },
      identifier: [{ value: 'V100' }],
      period: { start: '2024-01-15T12:00:00+01:00' },
      participant: [{ individual: { display: 'DR ANNE SMITH' } }],
    });
    expect(resources(bundle, 'RelatedPerson')[0]).toMatchObject({ patient: { reference: entries[0].fullUrl }, relationship: [{ coding: [{ code: 'SPO' }] }] });
    expect(resources(bundle, 'Coverage')[0]).toMatchObject({
      status: 'active',
      beneficiary: { reference: entries[0].fullUrl },
      payor: [{ display: 'Acme Insurance' }],
      period: { start: '2024-01-01', end: '2024-12-31' },
      relationship: { coding: [{ code: 'self' }] },
    });
  });

  it('A03 finishes the encounter; no NK1 or IN1 means no RelatedPerson or Coverage', () => {
    const a03 = A01.replace('ADT^A01^ADT_A01', 'ADT^A03^ADT_A03').split('\r').filter((s) => !/^(NK1|IN1)/.test(s)).join('\r');
    const { bundle } = runV2FhirMap(adt, parseMessage(a03));
    expect(resources(bundle, 'Encounter')[0].status).toBe('finished');
    expect(bundle.entry.map((e: Json) => e.resource.resourceType)).toEqual(['Patient', 'Encounter']);
  });

  it('conditional reference style writes Patient?identifier=system|value', () => {
    const map = compileV2FhirMap({ ...BUILTIN_V2_FHIR_MAPS.adt, referenceStyle: 'conditional' });
    const { bundle } = runV2FhirMap(map, parseMessage(A01));
    expect(resources(bundle, 'Encounter')[0].subject).toEqual({ reference: 'Patient?identifier=urn%3Ahie%3Aidentifier|MRN123' });
  });
});

describe('the ORU map', () => {
  it('makes quantities with UCUM units, reference ranges and interpretations from OBX', () => {
    const oruMsg = [
      'MSH|^~\\&|LAB|HOSP|HIE|HOSP|20240115||ORU^R01|C2|P|2.5',
      'PID|1||MRN9^^^HOSP^MR||ROE^RICHARD||19700101|M',
      'OBR|1|PL1|FL1|24331-1^Lipid panel^LN|||202401151000|||||||||||||||||F',
      'OBX|1|NM|2093-3^Cholesterol^LN||210|mg/dL^^UCUM|<200|H|||F|||202401151000',
      'OBX|2|ST|8251-1^Note^LN||fasting sample||||||F',
      'OBX|3|NM|2571-8^Triglyceride^LN||abc|mg/dL|35-160|N|||F',
    ].join('\r');
    const { bundle, warnings } = runV2FhirMap(oru, parseMessage(oruMsg));
    expect(errors(bundle)).toEqual([]);
    const [report] = resources(bundle, 'DiagnosticReport');
    expect(report).toMatchObject({ status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '24331-1' }] }, effectiveDateTime: '2024-01-15T10:00:00Z' });
    const [chol, note, tg] = resources(bundle, 'Observation');
    expect(chol).toMatchObject({
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2093-3', display: 'Cholesterol' }] },
      valueQuantity: { value: 210, unit: 'mg/dL', code: 'mg/dL', system: 'http://unitsofmeasure.org' },
      referenceRange: [{ high: { value: 200 }, text: '<200' }],
      interpretation: [{ coding: [{ code: 'H' }] }],
    });
    expect(note.valueString).toBe('fasting sample');
    expect(note.valueQuantity).toBeUndefined();
    // "abc" is no number: skipped and said so, the rest of the observation stays.
    expect(tg.valueQuantity).toEqual({ unit: 'mg/dL', code: 'mg/dL', system: 'http://unitsofmeasure.org' });
    expect(tg.referenceRange).toEqual([{ low: { value: 35 }, high: { value: 160 }, text: '35-160' }]);
    expect(warnings).toEqual(['observation.valueQuantity.value: not a number "abc" from OBX-5 skipped']);
    expect(bundle.entry[0].request).toEqual({ method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn%3Ahie%3Aidentifier|MRN9' });
  });
});

describe('map functions', () => {
  it('converts HL7 dates and times to FHIR date and dateTime', () => {
    expect(hl7DateToFhir('19800229', 'date')).toBe('1980-02-29');
    expect(hl7DateToFhir('198002', 'date')).toBe('1980-02');
    expect(hl7DateToFhir('202401151230', 'date')).toBe('2024-01-15');
    expect(hl7DateToFhir('202401151230', 'dateTime')).toBe('2024-01-15T12:30:00Z');
    expect(hl7DateToFhir('20240115123045.12-0500', 'dateTime')).toBe('2024-01-15T12:30:45.12-05:00');
    expect(hl7DateToFhir('2024011512', 'dateTime', '+01:00')).toBe('2024-01-15T12:00:00+01:00');
    expect(hl7DateToFhir('20241315', 'date')).toBeUndefined();
    expect(hl7DateToFhir('Aug 15, 1942', 'date')).toBeUndefined();
  });

  it('reads reference range ends', () => {
    expect([rangeEnd('3.5-5.0', 'low'), rangeEnd('3.5-5.0', 'high')]).toEqual([3.5, 5]);
    expect([rangeEnd('<10', 'low'), rangeEnd('<10', 'high')]).toEqual([undefined, 10]);
    expect([rangeEnd('>=2', 'low'), rangeEnd('>=2', 'high')]).toEqual([2, undefined]);
    expect(rangeEnd('negative', 'low')).toBeUndefined();
  });

  it('runs a custom map: lookup, concat, constant, when', () => {
    const map = v2FhirMap.parse({
      name: 'custom',
      bundleType: 'collection',
      tables: { sex: { F: 'female' } },
      resources: [
        {
          id: 'p',
          resourceType: 'Patient',
          rules: [
            { target: 'gender', source: 'PID-8', fn: 'lookup', table: 'sex', value: 'unknown' },
            { target: 'name[0].text', fn: 'concat', sources: ['PID-5.2', 'PID-5.1'] },
            { target: 'active', fn: 'constant', value: 'true' },
            { target: 'language', fn: 'constant', value: 'en', when: 'PID-8', whenIn: ['M'] },
          ],
        },
      ],
    });
    const { bundle } = runV2FhirMap(compileV2FhirMap(map), parseMessage(A01));
    expect(bundle.entry).toEqual([{ fullUrl: expect.stringMatching(/^urn:uuid:/), resource: { resourceType: 'Patient', gender: 'female', name: [{ text: 'JANE DOE' }], active: true } }]);
  });

  it('refuses maps that refer to what is not there, and settings without their custom map', () => {
    const bad = v2FhirMap.safeParse({ name: 'x', resources: [{ id: 'a', resourceType: 'Patient', rules: [{ target: 'link[0].other', fn: 'reference', resource: 'nope' }, { target: 'gender', source: 'PID-8', fn: 'lookup', table: 'none' }] }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.message)).toEqual(['no resource "nope" in the map', 'no table "none" in the map']);
    expect(v2FhirMap.safeParse({ name: 'x', resources: [{ id: 'a', resourceType: 'Patient', rules: [{ target: 'Bad.path', source: 'PID-8' }] }] }).success).toBe(false);
    expect(v2FhirMap.safeParse({ name: 'x', resources: [{ id: 'a', resourceType: 'Patient', rules: [{ target: 'gender', source: 'pid 8' }] }] }).success).toBe(false);
    expect(hl7v2ToFhirSettings.safeParse({ map: 'custom' }).success).toBe(false);
  });
});
