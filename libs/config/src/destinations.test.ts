import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { destinationsOf, hostAllowed, hostPatternProblem, secretDestinationProblems } from './destinations';
import { fhirHttpOutSettings, httpInSettings, httpOutSettings } from './item-types';
import { bindSecretsTo, secret } from './secrets';
import type { SettingsSchemaLookup } from './variables';

/** Shaped as sftp.out's settings (a plugin: libs/config cannot import it). */
const sftpLike = bindSecretsTo(
  z.object({ host: z.string(), port: z.number().default(22), username: z.string(), password: secret(z.string().default('')), hostFingerprint: z.string().default('') }),
  ['host', 'port', 'username', 'hostFingerprint'],
);
const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
const types: Record<string, z.ZodType> = { 'http.out': httpOutSettings, 'fhir.http.out': fhirHttpOutSettings, 'http.in': httpInSettings, 'sftp.like': sftpLike };
const schemaOf: SettingsSchemaLookup = (type) => (types[type] ? json(types[type]) : undefined);

describe('host patterns of environment secrets', () => {
  it('takes host names, *.domain wildcards, IP addresses, each with an optional port', () => {
    for (const ok of ['lab.example.org', 'LAB.example.org', '*.example.org', 'lab.example.org:8443', '10.0.0.5', '[2001:db8::1]:443', 'localhost']) expect(hostPatternProblem(ok)).toBeUndefined();
  });

  it('refuses schemes, paths, users, bare wildcards, bad ports and empty ones, saying why', () => {
    expect(hostPatternProblem('https://lab.example.org')).toMatch(/URL or a path/);
    expect(hostPatternProblem('lab.example.org/fhir')).toMatch(/URL or a path/);
    expect(hostPatternProblem('user@lab.example.org')).toMatch(/user name/);
    for (const bad of ['*', '*.org', 'lab.*.org', 'a b', 'lab.example.org:0', 'lab.example.org:70000', '', '-lab.org']) expect(hostPatternProblem(bad), bad).toBeDefined();
    expect(hostPatternProblem('a'.repeat(300))).toMatch(/at most/);
  });

  it('matches exact names (any case), wildcards below the domain only, and ports when given', () => {
    expect(hostAllowed(['lab.example.org'], { host: 'LAB.example.org', port: 443 })).toBe(true);
    expect(hostAllowed(['lab.example.org'], { host: 'lab.example.org.evil.com', port: 443 })).toBe(false);
    expect(hostAllowed(['*.example.org'], { host: 'a.b.example.org', port: 443 })).toBe(true);
    expect(hostAllowed(['*.example.org'], { host: 'example.org', port: 443 })).toBe(false);
    expect(hostAllowed(['*.example.org'], { host: 'evilexample.org', port: 443 })).toBe(false);
    expect(hostAllowed(['lab.example.org:8443'], { host: 'lab.example.org', port: 443 })).toBe(false);
    expect(hostAllowed(['lab.example.org:8443'], { host: 'lab.example.org', port: 8443 })).toBe(true);
    expect(hostAllowed(['[2001:db8::1]'], { host: '2001:db8::1', port: 443 })).toBe(true);
  });
});

describe('destinations of an item', () => {
  it('are the hosts of its bound URLs and host settings (with their ports), not user names or fingerprints', () => {
    expect(destinationsOf({ url: 'https://lab.example.org/r' }, schemaOf('http.out'))).toEqual([{ host: 'lab.example.org', port: 443, setting: 'url' }]);
    expect(destinationsOf({ baseUrl: 'http://fhir.example.org:8080/r4', tokenUrl: '' }, schemaOf('fhir.http.out'))).toEqual([{ host: 'fhir.example.org', port: 8080, setting: 'baseUrl' }]);
    expect(destinationsOf({ host: 'sftp.example.org', username: 'u' }, schemaOf('sftp.like'))).toEqual([{ host: 'sftp.example.org', port: 22, setting: 'host' }]);
    expect(destinationsOf({ host: '0.0.0.0' }, schemaOf('http.in'))).toEqual([]);
  });
});

describe('environment secrets at deploy', () => {
  const spec = (type: string, settings: Record<string, unknown>) => ({ name: 'p', items: [{ name: 'Out', type, settings }], connections: [] });
  const hosts = (h: Record<string, string[]>) => ({ environment: 'prod', hosts: new Map(Object.entries(h)) });
  const check = (type: string, written: Record<string, unknown>, resolved: Record<string, unknown>, h: Record<string, string[]>) =>
    secretDestinationProblems(spec(type, written), spec(type, resolved), hosts(h), schemaOf);

  it('lets a secret go to an allowed host, after the url was resolved', () => {
    const written = { url: '${LAB_URL}', headers: { Authorization: '${secret:LAB_TOKEN}' } };
    expect(check('http.out', written, { url: 'https://lab.example.org/r', headers: { Authorization: 'x' } }, { LAB_TOKEN: ['lab.example.org'] })).toEqual([]);
    expect(check('http.out', written, { url: 'https://a.lab.example.org/r', headers: { Authorization: 'x' } }, { LAB_TOKEN: ['*.lab.example.org'] })).toEqual([]);
  });

  it('refuses one going elsewhere, naming the secret, the item and the host (never the value)', () => {
    const written = { url: 'https://evil.example.com/', headers: { Authorization: 'Bearer ${secret:LAB_TOKEN}' } };
    const problems = check('http.out', written, { url: 'https://evil.example.com/', headers: { Authorization: 'Bearer s3cr3t' } }, { LAB_TOKEN: ['lab.example.org'] });
    expect(problems).toMatchObject([{ code: 'secret_host_not_allowed', secret: 'LAB_TOKEN', item: 'Out', host: 'evil.example.com:443', pathText: 'items[0].settings.headers.Authorization' }]);
    expect(problems[0]!.message).toContain('secret LAB_TOKEN may not be sent to evil.example.com:443 (item "Out" (http.out), setting url)');
    expect(JSON.stringify(problems)).not.toContain('s3cr3t');
  });

  it('refuses a secret that allows no host, and an item type that names no destination, saying how to allow it', () => {
    const [none] = check('http.out', { url: 'https://lab.example.org/', headers: { A: '${secret:T}' } }, { url: 'https://lab.example.org/', headers: { A: 'x' } }, { T: [] });
    expect(none!.message).toMatch(/may be sent to no host yet .*an admin allows hosts/);
    const [inbound] = check('http.in', { bearerToken: '${secret:T}' }, { bearerToken: 'x' }, { T: ['lab.example.org'] });
    expect(inbound!.message).toMatch(/cannot be used in item "Out" \(http\.in\).*own secret setting/);
  });

  it('checks every destination of the item: a smart-backend token URL too', () => {
    const written = { baseUrl: 'https://fhir.example.org/r4', auth: 'smart-backend', tokenUrl: 'https://login.evil.com/token', clientId: 'c', privateKey: '${secret:KEY}' };
    const problems = check('fhir.http.out', written, { ...written, privateKey: 'pem' }, { KEY: ['fhir.example.org'] });
    expect(problems.map((p) => p.host)).toEqual(['login.evil.com:443']);
  });
});
