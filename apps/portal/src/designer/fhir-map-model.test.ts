import { describe, expect, it } from 'vitest';
import { BUILTIN_V2_FHIR_MAPS } from '@hie/config';
import { DEFAULT_SAMPLE } from './editor-model';
import { fhirStepFromDrop, fhirTargetId, fhirTargets, fnForElement, mapWithSteps, previewFhirMap, sourceForRule, stepsOfMap } from './fhir-map-model';

const patientOnly = { name: 'mine', resources: [{ id: 'patient', resourceType: 'Patient', segment: 'PID', rules: [] }] };
const withObs = {
  name: 'labs',
  resources: [
    { id: 'patient', resourceType: 'Patient', segment: 'PID', rules: [{ target: 'gender', source: 'PID-8', fn: 'lookup', table: 'gender', value: 'unknown', when: 'PID-8' }] },
    { id: 'obs', resourceType: 'Observation', segment: 'OBX', forEach: true, rules: [{ target: 'code.text', source: 'OBX-3.2' }] },
  ],
  tables: { gender: { F: 'female' } },
};
const drop = (map: unknown, path: string, value: string, resource: string, element: string) => fhirStepFromDrop(map, { path, value }, { id: fhirTargetId(resource, element), label: element });

describe('hl7v2.to.fhir map editor model', () => {
  it('a field dropped on a FHIR element makes a rule of that resource, its function following the element', () => {
    expect(drop(patientOnly, 'PID-5.1', 'DOE', 'patient', 'name[0].family')).toEqual({ resource: 'patient', rule: { target: 'name[0].family', source: 'PID-5.1', fn: 'copy' } });
    expect(drop(patientOnly, 'PID-7', '19800101', 'patient', 'birthDate')?.rule).toMatchObject({ source: 'PID-7', fn: 'date' });
    // "another element…": the rule's target is typed after.
    expect(drop(patientOnly, 'PID-7', '19800101', 'patient', '')?.rule).toEqual({ target: '', source: 'PID-7', fn: 'copy' });
    expect(fnForElement('period.start')).toBe('dateTime');
    expect(fnForElement('effectiveDateTime')).toBe('dateTime');
    expect(fnForElement('referenceRange[0].low.value')).toBe('number');
    expect(fnForElement('identifier[*].value')).toBe('copy');
    // Not a FHIR target, or a resource the map lacks: no step.
    expect(fhirStepFromDrop(patientOnly, { path: 'PID-5.1', value: 'DOE' }, { id: 'copy:PID-2', label: 'PID-2' })).toBeUndefined();
    expect(drop(patientOnly, 'PID-5.1', 'DOE', 'encounter', 'status')).toBeUndefined();
  });

  it('a drop on an element a rule already sets makes a rule like it (function, table, default), without its condition', () => {
    expect(drop(withObs, 'NK1-15', 'M', 'patient', 'gender')).toEqual({ resource: 'patient', rule: { target: 'gender', source: 'NK1-15', fn: 'lookup', table: 'gender', value: 'unknown' } });
  });

  it('reads a forEach resource’s own segment from the current occurrence, and a [*] target from every repetition', () => {
    expect(drop(withObs, 'OBX[2]-5', '4.2', 'obs', 'valueQuantity.value')?.rule).toEqual({ target: 'valueQuantity.value', source: 'OBX-5', fn: 'number' });
    // Another segment keeps its occurrence; a fixed target keeps the repetition.
    expect(sourceForRule('OBR[2]-4.1', { forEach: true, segment: 'OBX' }, 'code.text')).toBe('OBR[2]-4.1');
    expect(sourceForRule('PID-3[2].1', { segment: 'PID' }, 'identifier[*].value')).toBe('PID-3.1');
    expect(sourceForRule('PID-3[2].1', { segment: 'PID' }, 'identifier[0].value')).toBe('PID-3[2].1');
  });

  it('offers per resource its suggested and already mapped elements, then another one', () => {
    const targets = fhirTargets(withObs);
    const patient = targets.filter((t) => t.group === 'Patient (patient)').map((t) => t.label);
    expect(patient.slice(0, 3)).toEqual(['identifier[*].value', 'name[0].family', 'name[0].given[0]']);
    expect(patient).toContain('gender');
    expect(patient.filter((l) => l === 'gender')).toHaveLength(1);
    expect(patient.at(-1)).toBe('another element…');
    expect(targets.filter((t) => t.group === 'Observation (obs)').map((t) => t.id)).toContain(fhirTargetId('obs', 'code.text'));
  });

  it('flattens the rules to steps and puts edited steps back in their resources, keeping the rest of the map', () => {
    const steps = stepsOfMap(withObs);
    expect(steps.map((s) => [s.resource, s.rule.target])).toEqual([
      ['patient', 'gender'],
      ['obs', 'code.text'],
    ]);
    const added = mapWithSteps(withObs, [steps[1]!, steps[0]!, { resource: 'patient', rule: { target: 'birthDate', source: 'PID-7', fn: 'date' } }, { resource: 'gone', rule: { target: 'active', fn: 'constant', value: 'true' } }]);
    expect(added.tables).toEqual(withObs.tables);
    expect((added.resources as { rules: { target: string }[] }[]).map((r) => r.rules.map((x) => x.target))).toEqual([['gender', 'birthDate', 'active'], ['code.text']]);
    expect(stepsOfMap(undefined)).toEqual([]);
  });

  it('previews the Bundle the engine would make of the sample, with stable entry ids', () => {
    const step = drop(patientOnly, 'PID-5.1', 'DOE', 'patient', 'name[0].family')!;
    const before = previewFhirMap(DEFAULT_SAMPLE, patientOnly);
    expect(before).toMatchObject({ ok: true, bundle: { entry: [{ resource: { resourceType: 'Patient' } }] } });
    const after = previewFhirMap(DEFAULT_SAMPLE, mapWithSteps(patientOnly, [step]));
    expect(after.ok && after.bundle).toMatchObject({ type: 'transaction', entry: [{ fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'DOE' }] } }] });
    expect(previewFhirMap(DEFAULT_SAMPLE, BUILTIN_V2_FHIR_MAPS.adt)).toEqual(previewFhirMap(DEFAULT_SAMPLE, BUILTIN_V2_FHIR_MAPS.adt));
  });

  it('names the problems instead of throwing: schema issues by resource and rule, values it skipped, a bad sample', () => {
    const bad = mapWithSteps(patientOnly, [{ resource: 'patient', rule: { target: '', source: 'PID-5.1', fn: 'copy' } }, { resource: 'patient', rule: { target: 'birthDate', source: 'PID-7', fn: 'date' } }]);
    const p = previewFhirMap(DEFAULT_SAMPLE, bad);
    expect(p.ok).toBe(false);
    expect(!p.ok && p.problems).toEqual([expect.stringMatching(/^patient rule 1 target: an element path/)]);
    const skipped = previewFhirMap(DEFAULT_SAMPLE.replace('19800101', '1980XX01'), mapWithSteps(patientOnly, [{ resource: 'patient', rule: { target: 'birthDate', source: 'PID-7', fn: 'date' } }]));
    expect(skipped.ok && skipped.warnings).toEqual(['patient.birthDate: not an HL7 date "1980XX01" from PID-7 skipped']);
    expect(previewFhirMap('not hl7', patientOnly)).toMatchObject({ ok: false, problems: [expect.stringContaining('not an HL7 message')] });
    expect(previewFhirMap(DEFAULT_SAMPLE, undefined)).toMatchObject({ ok: false });
  });
});
