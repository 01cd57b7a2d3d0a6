import { readFileSync } from 'node:fs';
import { MessageEnvelope, registerCodec } from '@hie/envelope';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntries, fhirCodec, fhirIssues, isBundle, isTypedBundle, loadFhirR4, parseFhirJson } from './index';

const EXAMPLES = new URL('../testdata/r4-examples/', import.meta.url);
const raw = (name: string): Uint8Array => readFileSync(new URL(name, EXAMPLES));

let unregister: () => void = () => undefined;
beforeAll(() => {
  loadFhirR4();
  unregister = registerCodec(fhirCodec);
}, 120_000);
afterAll(() => unregister());

function envelope(body: Uint8Array | string): MessageEnvelope {
  return MessageEnvelope.create({ contentType: 'application/fhir+json', raw: body, source: 'test' });
}

describe('parseFhirJson', () => {
  it('parses bytes and text, skipping a BOM', () => {
    expect(parseFhirJson(raw('Patient-xcda.json')).resourceType).toBe('Patient');
    expect(parseFhirJson('\ufeff{"resourceType":"Patient"}').resourceType).toBe('Patient');
  });

  it('refuses non-JSON, non-objects and objects without resourceType with fhir.parse', () => {
    for (const bad of ['{', '[1]', '"Patient"', '{"id":"x"}', '{"resourceType":"patient"}']) {
      expect(() => parseFhirJson(bad), bad).toThrow(expect.objectContaining({ code: 'fhir.parse' }));
    }
    expect(() => parseFhirJson(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(expect.objectContaining({ code: 'fhir.parse' }));
  });
});

describe('Bundle helpers', () => {
  it('lists entries with their FHIRPath and narrows typed Bundles', () => {
    const bundle = parseFhirJson(raw('Bundle-bundle-transaction.json'));
    expect(isBundle(bundle)).toBe(true);
    expect(isTypedBundle(bundle, 'transaction')).toBe(true);
    expect(isTypedBundle(bundle, 'batch', 'message')).toBe(false);
    if (!isBundle(bundle)) throw new Error('not a bundle');
    const entries = bundleEntries(bundle);
    expect(entries).toHaveLength(10);
    expect(entries[2]).toMatchObject({ index: 2, path: 'Bundle.entry[2]', resource: { resourceType: 'Patient', id: '123' } });
    expect(entries[5]!.resource).toBeUndefined();
    expect(isBundle(parseFhirJson(raw('Patient-xcda.json')))).toBe(false);
  });
});

describe('the FHIR codec in an envelope', () => {
  it('parses lazily and validates an official example clean', () => {
    const env = envelope(raw('Observation-bmi.json'));
    expect(env.parse<{ resourceType: string }>().resourceType).toBe('Observation');
    expect(env.validate()).toBe(true);
    expect(env.body.validationErrors).toEqual([]);
  });

  it('reports R4 errors as "<FHIRPath>: <message>" lines, and the structured issues', () => {
    const text = new TextDecoder().decode(raw('Patient-glossy.json')).replace('"gender": "male"', '"gender": "M"');
    const env = envelope(text);
    expect(env.validate()).toBe(false);
    expect(env.body.validationErrors).toEqual([expect.stringMatching(/^Patient\.gender: "M" is not in the required value set/)]);
    expect(fhirIssues(env.parse())).toEqual([expect.objectContaining({ path: 'Patient.gender', code: 'code-invalid' })]);
  });

  it('a body that is not FHIR JSON fails parse with fhir.parse and validate records it', () => {
    const env = envelope('{"hello":"world"}');
    expect(() => env.parse()).toThrow(expect.objectContaining({ code: 'fhir.parse' }));
    expect(env.validate()).toBe(false);
    expect(env.body.validationErrors[0]).toContain('resourceType');
  });

  it('codec.validate on its own', () => {
    expect(fhirCodec.validate(fhirCodec.parse(raw('Encounter-example.json')))).toEqual([]);
  });
});
