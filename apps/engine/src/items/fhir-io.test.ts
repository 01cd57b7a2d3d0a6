import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { builtinItemTypes as descriptors, fhirHttpInSettings, fhirHttpOutSettings } from '@hie/config';
import { acceptsFhirJson, capabilityStatement } from './fhir-http-in';
import { fhirRequestFor, outcomeLines } from './fhir-http-out';
import { builtinItemTypes } from './index';
import { clientAssertion } from './smart-auth';

describe('the FHIR item types', () => {
  it.each(['fhir.http.in', 'hl7v2.to.fhir', 'fhir.http.out'])('%s is registered in the engine and in @hie/config alike', (type) => {
    const engine = builtinItemTypes.find((t) => t.type === type);
    const config = descriptors.find((t) => t.type === type);
    expect(engine).toBeDefined();
    expect(config).toMatchObject({ kind: engine!.kind, description: engine!.description });
    expect(config!.settings).toBe(engine!.settings);
  });
});

describe('fhir.http.out requests', () => {
  const settings = fhirHttpOutSettings.parse({ baseUrl: 'https://fhir.example.org/R4/' });
  const p = { resourceType: 'Patient' as const, identifier: [{ system: 'urn:a', value: '1' }, { system: 'urn:mrn', value: 'M 7' }] };

  it('auto: a transaction Bundle goes to the base, a resource with an id is PUT, one without is POSTed', () => {
    expect(fhirRequestFor({ resourceType: 'Bundle', type: 'transaction' }, settings)).toEqual({ method: 'POST', url: 'https://fhir.example.org/R4', interaction: 'transaction' });
    expect(fhirRequestFor({ ...p, id: 'x1' }, settings)).toMatchObject({ method: 'PUT', url: 'https://fhir.example.org/R4/Patient/x1', interaction: 'update' });
    expect(fhirRequestFor(p, settings)).toMatchObject({ method: 'POST', url: 'https://fhir.example.org/R4/Patient', interaction: 'create' });
  });

  it('conditional create: If-None-Exist from the identifier of a system, or from a FHIRPath', () => {
    const bySystem = fhirHttpOutSettings.parse({ baseUrl: 'https://f.example/', interaction: 'conditional-create', ifNoneExist: { identifierSystem: 'urn:mrn' } });
    expect(fhirRequestFor(p, bySystem).ifNoneExist).toBe('identifier=urn%3Amrn|M%207');
    const byPath = fhirHttpOutSettings.parse({ baseUrl: 'https://f.example/', interaction: 'conditional-create', ifNoneExist: { fhirpath: "'identifier=' + identifier.first().value" } });
    expect(fhirRequestFor(p, byPath).ifNoneExist).toBe('identifier=1');
    const missing = fhirHttpOutSettings.parse({ baseUrl: 'https://f.example/', interaction: 'conditional-create', ifNoneExist: { identifierSystem: 'urn:none' } });
    expect(() => fhirRequestFor(p, missing)).toThrow(expect.objectContaining({ code: 'fhir.if_none_exist', kind: 'user' }));
  });

  it('refuses what the interaction cannot send, as user errors', () => {
    const tx = fhirHttpOutSettings.parse({ baseUrl: 'https://f.example/', interaction: 'transaction' });
    expect(() => fhirRequestFor(p, tx)).toThrow(expect.objectContaining({ code: 'fhir.not_a_bundle' }));
    const update = fhirHttpOutSettings.parse({ baseUrl: 'https://f.example/', interaction: 'update' });
    expect(() => fhirRequestFor(p, update)).toThrow(expect.objectContaining({ code: 'fhir.no_id' }));
  });

  it('summarises a server OperationOutcome for the trace, and ignores other bodies', () => {
    const oo = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { text: 'bad date' }, expression: ['Patient.birthDate'] }] };
    expect(outcomeLines(new TextEncoder().encode(JSON.stringify(oo)))).toEqual(['error invalid: bad date @ Patient.birthDate']);
    expect(outcomeLines(new TextEncoder().encode('<html>'))).toEqual([]);
  });

  it('auth settings need what their kind uses', () => {
    expect(fhirHttpOutSettings.safeParse({ baseUrl: 'https://f.example/', auth: 'bearer' }).success).toBe(false);
    expect(fhirHttpOutSettings.safeParse({ baseUrl: 'https://f.example/', auth: 'smart-backend', clientId: 'c' }).error?.issues.map((i) => i.path[0])).toEqual(['tokenUrl', 'privateKey']);
  });
});

describe('SMART client assertion', () => {
  it.each([
    ['RS384', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' })],
  ] as const)('%s: header, claims and a signature the public key verifies', (alg, keys) => {
    const jwt = clientAssertion({ tokenUrl: 'https://auth.example/token', clientId: 'c1', algorithm: alg, keyId: 'k1' }, keys.privateKey, 1_700_000_000);
    const [h, p, s] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg, typ: 'JWT', kid: 'k1' });
    expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toMatchObject({ iss: 'c1', sub: 'c1', aud: 'https://auth.example/token', exp: 1_700_000_300, jti: expect.any(String) });
    const key = alg === 'ES384' ? { key: keys.publicKey, dsaEncoding: 'ieee-p1363' as const } : keys.publicKey;
    expect(verify('sha384', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))).toBe(true);
  });
});

describe('fhir.http.in content negotiation and CapabilityStatement', () => {
  it('accepts FHIR JSON, JSON and wildcards; _format wins over Accept', () => {
    expect(acceptsFhirJson(undefined, null)).toBe(true);
    expect(acceptsFhirJson('application/fhir+json; fhirVersion=4.0', null)).toBe(true);
    expect(acceptsFhirJson('text/html, */*;q=0.1', null)).toBe(true);
    expect(acceptsFhirJson('application/fhir+xml', null)).toBe(false);
    expect(acceptsFhirJson('application/fhir+xml', 'json')).toBe(true);
    expect(acceptsFhirJson(undefined, 'xml')).toBe(false);
  });

  it('lists any type when no types are set', () => {
    const cs = capabilityStatement(fhirHttpInSettings.parse({ resourceTypes: [] }), { name: 'In', url: 'http://h/fhir', date: '2024-01-01' });
    expect(cs).toMatchObject({ rest: [{ mode: 'server', documentation: 'Accepts every resource type', interaction: [{ code: 'transaction' }, { code: 'batch' }] }] });
  });
});
