import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasErrors, loadFhirR4, toOperationOutcome, validateFhir, type FhirIssue } from './index';

const EXAMPLES = new URL('../testdata/r4-examples/', import.meta.url);
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

function example(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, EXAMPLES), 'utf8')) as Record<string, unknown>;
}

function errors(issues: FhirIssue[]): FhirIssue[] {
  return issues.filter((i) => i.severity === 'error');
}

// Indexing the R4 definitions takes seconds on a busy machine: once, before the first test.
beforeAll(() => loadFhirR4(), 120_000);

/** The resource types the issue asks for, each covered by at least one vendored example. */
const REQUIRED_TYPES = ['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'Bundle'];

describe('validateFhir on the official R4 examples', () => {
  it('has an example of every required resource type', () => {
    const types = new Set(files.map((f) => example(f).resourceType));
    for (const t of REQUIRED_TYPES) expect(types.has(t), t).toBe(true);
  });

  it.each(files)('%s validates clean', (file) => {
    expect(errors(validateFhir(example(file)))).toEqual([]);
  });
});

describe('validateFhir on mutated copies', () => {
  it('wrong type: Patient.active as a string', () => {
    const p = example('Patient-glossy.json');
    p.active = 'yes';
    expect(errors(validateFhir(p))).toContainEqual(expect.objectContaining({ path: 'Patient.active', code: 'structure' }));
  });

  it('wrong type: a bad date in Patient.birthDate', () => {
    const p = example('Patient-xcda.json');
    p.birthDate = '24/09/1932';
    expect(errors(validateFhir(p))).toContainEqual(expect.objectContaining({ path: 'Patient.birthDate', message: 'Invalid date format' }));
  });

  it('missing required: Observation.status and Observation.code', () => {
    const o = example('Observation-bmi.json');
    delete o.status;
    delete o.code;
    const found = errors(validateFhir(o));
    expect(found).toContainEqual(expect.objectContaining({ path: 'Observation.status', code: 'required' }));
    expect(found).toContainEqual(expect.objectContaining({ path: 'Observation.code', code: 'required' }));
  });

  it('missing required: Encounter.class', () => {
    const e = example('Encounter-example.json');
    delete e.class;
    expect(errors(validateFhir(e))).toContainEqual(expect.objectContaining({ path: 'Encounter.class', code: 'required' }));
  });

  it('bad cardinality: an array where one value is allowed, a single value where an array is expected', () => {
    const d = example('DiagnosticReport-ultrasound.json');
    d.code = [d.code];
    d.performer = { reference: 'Practitioner/example' };
    const found = errors(validateFhir(d));
    expect(found).toContainEqual(expect.objectContaining({ path: 'DiagnosticReport.code', code: 'structure' }));
    expect(found).toContainEqual(expect.objectContaining({ path: 'DiagnosticReport.performer', code: 'structure' }));
  });

  it('bad required code: Patient.gender and Encounter.status outside their value sets', () => {
    const p = example('Patient-glossy.json');
    p.gender = 'M';
    expect(errors(validateFhir(p))).toEqual([
      expect.objectContaining({ path: 'Patient.gender', code: 'code-invalid', message: expect.stringContaining('administrative-gender') as string }),
    ]);
    const e = example('Encounter-example.json');
    e.status = 'admitted';
    expect(errors(validateFhir(e))).toContainEqual(expect.objectContaining({ path: 'Encounter.status', code: 'code-invalid' }));
  });

  it('bad required code inside a Coding: Observation.valueQuantity.comparator, a nested required binding', () => {
    const o = example('Observation-bmi.json');
    (o.valueQuantity as Record<string, unknown>).comparator = '~';
    expect(errors(validateFhir(o))).toContainEqual(expect.objectContaining({ path: 'Observation.valueQuantity.comparator', code: 'code-invalid' }));
  });

  it('bad required code in a data type: Narrative.status', () => {
    const e = example('Encounter-example.json');
    (e.text as Record<string, unknown>).status = 'written';
    expect(errors(validateFhir(e))).toContainEqual(expect.objectContaining({ path: 'Encounter.text.status', code: 'code-invalid' }));
  });

  it('an unknown element', () => {
    const p = example('Patient-xcda.json');
    p.nickname = 'Hank';
    expect(errors(validateFhir(p))).toContainEqual(expect.objectContaining({ path: 'Patient.nickname' }));
  });

  it('issues inside a Bundle carry the entry path', () => {
    const b = example('Bundle-bundle-transaction.json') as { entry: { resource?: Record<string, unknown> }[] };
    b.entry[2]!.resource!.birthDate = 'yesterday';
    b.entry[1]!.resource!.gender = 'unknown-ish';
    const found = errors(validateFhir(b));
    expect(found).toContainEqual(expect.objectContaining({ path: 'Bundle.entry[2].resource.birthDate' }));
    expect(found).toContainEqual(expect.objectContaining({ path: 'Bundle.entry[1].resource.gender', code: 'code-invalid' }));
  });

  it('a transaction entry without request, and a message Bundle that does not start with a MessageHeader', () => {
    const t = example('Bundle-bundle-transaction.json') as { entry: Record<string, unknown>[] };
    delete t.entry[3]!.request;
    expect(errors(validateFhir(t))).toContainEqual(expect.objectContaining({ path: 'Bundle.entry[3].request', code: 'required' }));

    const m = example('Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json') as { entry: unknown[] };
    m.entry.reverse();
    expect(errors(validateFhir(m))).toContainEqual(expect.objectContaining({ path: 'Bundle.entry[0].resource' }));
  });

  it('request on a collection entry is refused at that entry', () => {
    const c = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: example('Patient-xcda.json'), request: { method: 'POST', url: 'Patient' } }] };
    expect(errors(validateFhir(c))).toContainEqual(expect.objectContaining({ path: 'Bundle.entry[0].request' }));
  });

  it('not a resource at all: no throw, an issue', () => {
    expect(validateFhir(null)).toEqual([expect.objectContaining({ severity: 'error', code: 'structure' })]);
    expect(validateFhir({ id: 'x' })).toEqual([expect.objectContaining({ severity: 'error', code: 'required' })]);
    expect(hasErrors(validateFhir({ resourceType: 'Pateint' }))).toBe(true);
  });
});

describe('toOperationOutcome', () => {
  it('puts each issue path in expression', () => {
    const p = example('Patient-glossy.json');
    p.gender = 'M';
    const outcome = toOperationOutcome(validateFhir(p));
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: ['Patient.gender'] }));
    expect(validateFhir(outcome)).toEqual([]);
  });

  it('an empty list is the spec\'s single informational issue', () => {
    expect(toOperationOutcome([]).issue).toEqual([expect.objectContaining({ severity: 'information', code: 'informational' })]);
  });
});
