import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { childrenOf, placeIssues, rootPath, type Json } from './fhir-tree';

const bundle = JSON.parse(readFileSync(new URL('../../../../libs/fhir/testdata/r4-examples/Bundle-bundle-transaction.json', import.meta.url), 'utf8')) as Json;

describe('the FHIR tree model', () => {
  it('names nodes by the FHIRPath the validator reports', () => {
    expect(rootPath(bundle)).toBe('Bundle');
    const entries = childrenOf(bundle, 'Bundle').find(([name]) => name === 'entry')!;
    expect(entries[2]).toBe('Bundle.entry');
    const [, third, path] = childrenOf(entries[1], 'Bundle.entry')[2]!;
    expect(path).toBe('Bundle.entry[2]');
    const resource = childrenOf(third, path).find(([name]) => name === 'resource')!;
    expect(childrenOf(resource[1], resource[2]).map(([, , p]) => p)).toContain('Bundle.entry[2].resource.birthDate');
  });

  it('puts each issue on its element and flags the branches that lead to it', () => {
    const placed = placeIssues(bundle, [
      { severity: 'error', code: 'structure', path: 'Bundle.entry[2].resource.birthDate', message: 'Invalid date format' },
      { severity: 'error', code: 'code-invalid', path: 'Bundle.entry[1].resource.gender', message: 'not in the value set' },
    ]);
    expect(placed.at.get('Bundle.entry[2].resource.birthDate')).toEqual([expect.objectContaining({ message: 'Invalid date format' })]);
    expect(placed.at.get('Bundle.entry[1].resource.gender')).toHaveLength(1);
    for (const p of ['Bundle', 'Bundle.entry', 'Bundle.entry[2]', 'Bundle.entry[2].resource', 'Bundle.entry[2].resource.birthDate']) expect(placed.below.has(p), p).toBe(true);
    expect(placed.below.has('Bundle.entry[4]')).toBe(false);
    expect(placed.loose).toEqual([]);
  });

  it('issues on the whole resource are loose; a missing element\'s issue goes beside its nearest ancestor', () => {
    const placed = placeIssues(bundle, [
      { severity: 'error', code: 'invariant', path: 'Bundle', message: 'Constraint bdl-3 not met' },
      { severity: 'error', code: 'structure', path: '', message: 'not JSON' },
      { severity: 'error', code: 'required', path: 'Bundle.entry[5].resource', message: 'a DELETE entry has no resource' },
      { severity: 'error', code: 'required', path: 'Bundle.entry[9].request.ifMatch.value', message: 'deeper' },
    ]);
    expect(placed.loose.map((i) => i.path)).toEqual(['Bundle', '']);
    expect(placed.at.get('Bundle.entry[5]')).toEqual([expect.objectContaining({ path: 'Bundle.entry[5].resource' })]);
    expect(placed.at.get('Bundle.entry[9].request')).toEqual([expect.objectContaining({ message: 'deeper' })]);
    expect(placed.below.has('Bundle.entry[5]')).toBe(true);
  });
});
