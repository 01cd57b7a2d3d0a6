import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hl7MllpOutSettings, httpOutSettings } from './item-types';
import { secretPathsOfSchema } from './secrets';
import { validateProduction } from './validate';
import {
  dropReferenceProblems,
  findReferences,
  referenceProblems,
  referencedVariables,
  resolveReferences,
  withoutReferences,
  type SettingsSchemaLookup,
} from './variables';

const schemas: SettingsSchemaLookup = (type) =>
  type === 'hl7.mllp.out' ? z.toJSONSchema(hl7MllpOutSettings, { io: 'input', unrepresentable: 'any' }) : type === 'http.out' ? z.toJSONSchema(httpOutSettings, { io: 'input', unrepresentable: 'any' }) : undefined;
const secretsOf = (type: string) => (type === 'http.out' ? secretPathsOfSchema(httpOutSettings) : []);

const spec = {
  name: 'p',
  items: [
    { name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: '${DOWNSTREAM_HOST}', port: '${LAB_PORT}' } },
    { name: 'Web Out', type: 'http.out', settings: { url: 'http://${DOWNSTREAM_HOST}:8080/x', headers: { Authorization: '${secret:LAB_TOKEN}' } } },
  ],
  connections: [],
};

const env = (plain: Record<string, string>, secret: Record<string, string> = {}) => ({
  environment: 'prod',
  plain: new Map(Object.entries(plain)),
  secret: new Map(Object.entries(secret)),
});

describe('variables', () => {
  it('finds every reference with its item and setting', () => {
    expect(findReferences(spec).map((r) => `${r.item} ${r.path.join('.')}`)).toEqual(['Lab Out host', 'Lab Out port', 'Web Out url', 'Web Out headers.Authorization']);
    expect(referencedVariables(spec)).toEqual({ plain: ['DOWNSTREAM_HOST', 'LAB_PORT'], secret: ['LAB_TOKEN'] });
  });

  it('resolves references, a whole-reference number setting taking the number type', () => {
    const r = resolveReferences(spec, env({ DOWNSTREAM_HOST: 'lab.example', LAB_PORT: '2576' }, { LAB_TOKEN: 'Bearer t0k' }), schemas);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.items[0]!.settings).toEqual({ host: 'lab.example', port: 2576 });
    expect(r.spec.items[1]!.settings).toEqual({ url: 'http://lab.example:8080/x', headers: { Authorization: 'Bearer t0k' } });
    // The input is not changed.
    expect(spec.items[0]!.settings.port).toBe('${LAB_PORT}');
  });

  it('names the item, the setting and the variable when one is missing', () => {
    const r = resolveReferences(spec, env({ DOWNSTREAM_HOST: 'h' }), schemas);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => `${p.pathText}: ${p.message}`)).toEqual([
      'items[0].settings.port: item "Lab Out", setting port: variable LAB_PORT is not set in environment "prod"',
      'items[1].settings.headers.Authorization: item "Web Out", setting headers.Authorization: variable secret:LAB_TOKEN is not set in environment "prod"',
    ]);
  });

  it('refuses a non-number value for a number setting', () => {
    const r = resolveReferences(spec, env({ DOWNSTREAM_HOST: 'h', LAB_PORT: 'abc' }, { LAB_TOKEN: 'x' }), schemas);
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual(['variable_type']);
  });

  it('validates a spec with references by leaving their settings out until deploy', () => {
    const before = validateProduction(spec, { itemTypes: (t) => (t === 'hl7.mllp.out' ? { settings: hl7MllpOutSettings } : t === 'http.out' ? { settings: httpOutSettings } : undefined) });
    expect(before.ok).toBe(false);
    const probe = withoutReferences(spec);
    const after = validateProduction(probe, { itemTypes: (t) => (t === 'hl7.mllp.out' ? { settings: hl7MllpOutSettings } : t === 'http.out' ? { settings: httpOutSettings } : undefined) });
    const left = after.ok ? [] : dropReferenceProblems(spec, after.problems);
    expect(left).toEqual([]);
  });

  it('allows ${secret:…} only in secret settings', () => {
    const bad = { ...spec, items: [{ name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: '${secret:LAB_TOKEN}' } }] };
    expect(referenceProblems(spec, secretsOf)).toEqual([]);
    expect(referenceProblems(bad, secretsOf).map((p) => p.pathText)).toEqual(['items[0].settings.host']);
  });
});
