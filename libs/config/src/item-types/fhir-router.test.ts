import { describe, expect, it } from 'vitest';
import { builtinItemTypes } from './index';
import { fhirRouterSettings } from './fhir-router';
import { validateProduction } from '../validate';
import { type FieldAccessor, compileRouter } from '../rules';

const lookup = (type: string) => builtinItemTypes.find((t) => t.type === type);

describe('fhir.router settings', () => {
  it('is a built-in process type with the hl7.router rules model on FHIRPath', () => {
    expect(lookup('fhir.router')).toMatchObject({ kind: 'process' });
    const parsed = fhirRouterSettings.parse({
      rules: [
        { name: 'glucose', when: { path: "Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'", op: 'true' }, then: { action: 'send', to: ['Lab'] } },
        { name: 'rest', when: { not: { path: 'Patient.gender', op: 'in', values: ['male', 'female'] } }, then: { action: 'discard' } },
      ],
    });
    expect(parsed).toMatchObject({ mode: 'first_match', otherwise: 'discard', rules: [{ name: 'glucose' }, { then: { reason: 'discarded by rule' } }] });
  });

  it('takes `stop` on a rule, as hl7.router does, and compileRouter ends all_match there', () => {
    const parsed = fhirRouterSettings.parse({
      mode: 'all_match',
      rules: [
        { name: 'lab', when: { path: 'Bundle.type', op: '=', value: 'collection' }, then: { action: 'send', to: ['Lab'] }, stop: true },
        { name: 'audit', then: { action: 'send', to: ['Audit'], priority: 9 } },
      ],
    });
    expect(parsed.rules[0]).toMatchObject({ stop: true });
    // The dialect reads each rule's path; here a plain object field stands in for FHIRPath.
    const fields: FieldAccessor<Record<string, string>> = {
      read: (m, path) => {
        const v = m[path.replace('Bundle.', '')];
        return v === undefined ? [] : [v];
      },
    };
    const decide = compileRouter(parsed, fields);
    expect(decide({ type: 'collection' }).matched.map((r) => r.name)).toEqual(['lab']);
    expect(decide({ type: 'batch' }).matched.map((r) => r.name)).toEqual(['audit']);
  });

  it('refuses an HL7-only action, an overlong expression and a regex RE2 cannot run', () => {
    const bad = fhirRouterSettings.safeParse({
      rules: [
        { name: 't', then: { action: 'transform', operations: [], to: ['X'] } },
        { name: 'long', when: { path: 'x'.repeat(1001), op: 'exists' }, then: { action: 'discard' } },
        { name: 'backref', when: { path: 'Patient.id', op: 'matches', value: '(a)\\1' }, then: { action: 'discard' } },
      ],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['rules.0.then.action', 'rules.1.when.path', 'rules.2.when.value']));
  });

  it('rule targets must be connections of the router, as for hl7.router', () => {
    const result = validateProduction(
      {
        name: 'fhir',
        items: [
          { name: 'Route', type: 'fhir.router', settings: { rules: [{ name: 'r', when: { path: 'Patient.id', op: 'exists' }, then: { action: 'send', to: ['Nowhere'] } }] } },
          { name: 'Out', type: 'file.out', settings: { directory: '/tmp/x' } },
        ],
        connections: [{ from: 'Route', to: 'Out' }],
      },
      { itemTypes: lookup },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toContainEqual(expect.objectContaining({ code: 'rule_target_not_connected', path: ['items', 0, 'settings', 'rules', 0, 'then', 'to', 0] }));
  });
});
