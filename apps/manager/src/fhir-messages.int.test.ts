import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let analyst: ApiClient;
let viewer: ApiClient;
let projectId: string;
const ids: Record<string, string> = {};

const example = (name: string): string => readFileSync(new URL(`../../../libs/fhir/testdata/r4-examples/${name}`, import.meta.url), 'utf8');

beforeAll(async () => {
  h = await startHarness();
  let workspaceId: string;
  ({ analyst, viewer, workspaceId } = await h.team('FHIR messages'));
  projectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'fhir', spec: sampleSpec('fhir') })).id;
  const writer = h.store.messages.writer();
  const bodies: Record<string, [string, string]> = {
    valid: ['application/fhir+json', example('Patient-glossy.json')],
    invalid: ['application/fhir+json; charset=utf-8', example('Patient-glossy.json').replace('"gender": "male"', '"gender": "M"').replace('"1932-09-24"', '"24/09/1932"')],
    notFhir: ['application/fhir+json', '{"hello":'],
    hl7: ['application/hl7-v2+er7', 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|X1|P|2.5\r'],
  };
  for (const [key, [contentType, raw]] of Object.entries(bodies)) {
    const id = randomUUID();
    ids[key] = id;
    await writer.received({
      id,
      production: 'fhir',
      projectId,
      workspaceId,
      item: 'FHIR In',
      receivedAt: Date.now(),
      messageType: '',
      controlId: key,
      patientId: '',
      contentType,
      header: { source: 'test' },
      raw: new TextEncoder().encode(raw),
    });
  }
  await writer.close();
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('messages.get on FHIR bodies', () => {
  it('returns the R4 issues of an invalid resource with their FHIRPath', async () => {
    const m = await analyst.api.messages.get.query({ projectId, id: ids.invalid! });
    expect(m.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'error', path: 'Patient.gender', code: 'code-invalid' }),
        expect.objectContaining({ severity: 'error', path: 'Patient.birthDate' }),
      ]),
    );
  }, 60_000);

  it('no issues for an official example; one root issue for a body that is not FHIR JSON; null for HL7 v2', async () => {
    expect((await analyst.api.messages.get.query({ projectId, id: ids.valid! })).problems).toEqual([]);
    expect((await analyst.api.messages.get.query({ projectId, id: ids.notFhir! })).problems).toEqual([
      expect.objectContaining({ severity: 'error', path: '', message: expect.stringContaining('invalid FHIR JSON') as string }),
    ]);
    expect((await analyst.api.messages.get.query({ projectId, id: ids.hl7! })).problems).toBeNull();
  }, 60_000);

  it('a viewer without body access gets no issues either (they quote the body)', async () => {
    const m = await viewer.api.messages.get.query({ projectId, id: ids.invalid! });
    expect(m).toMatchObject({ bodyHidden: true, raw: null, problems: null });
  });
});
