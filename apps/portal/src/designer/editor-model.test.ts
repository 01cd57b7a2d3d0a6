import { describe, expect, it } from 'vitest';
import { enumLabel } from '@hie/config';
import { DEFAULT_SAMPLE, diffSegments, messageTree, moveStep, parseSample, previewTransform, stepFromDrop, testHl7Rules } from './editor-model';

describe('transform editor model', () => {
  it('shows the sample as segments → fields → repetitions → components, with spec names', () => {
    const parsed = parseSample(DEFAULT_SAMPLE.replace(/\r/g, '\n'));
    if ('error' in parsed) throw new Error(parsed.error);
    const tree = messageTree(parsed.msg);
    expect(tree.map((s) => s.path)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    const pid3 = tree[2]!.fields.find((f) => f.path === 'PID-3')!;
    expect(pid3.label).toBe('PID-3 Patient Identifier List');
    expect(pid3.children.map((r) => r.path)).toEqual(['PID-3[1]', 'PID-3[2]']);
    expect(pid3.children[1]!.children.map((c) => [c.path, c.value])).toEqual([
      ['PID-3[2].1', '9434765919'],
      ['PID-3[2].2', ''],
      ['PID-3[2].3', ''],
      ['PID-3[2].4', 'NHS'],
      ['PID-3[2].5', 'NH'],
    ]);
    expect(tree[0]!.fields[0]!.path).toBe('MSH-3');
    // Empty fields stay (something can be copied into them); the last field is there too.
    expect(tree[2]!.fields.slice(0, 2).map((f) => [f.path, f.value])).toEqual([
      ['PID-1', '1'],
      ['PID-2', ''],
    ]);
    expect(tree[3]!.fields.at(-1)!.path).toBe('PV1-3');
  });

  it('a drop makes a copy step onto a field, a set step onto "set", nothing onto itself', () => {
    const src = { path: 'PID-3[2].1', value: '9434765919' };
    expect(stepFromDrop(src, { id: 'copy:PID-2', label: 'PID-2' })).toEqual({ op: 'copy', from: 'PID-3[2].1', to: 'PID-2' });
    expect(stepFromDrop(src, { id: 'set', label: 'Set a value' })).toEqual({ op: 'set', path: 'PID-3[2].1', value: '9434765919' });
    expect(stepFromDrop(src, { id: 'delete', label: 'Clear' })).toEqual({ op: 'delete', path: 'PID-3[2].1' });
    expect(stepFromDrop(src, { id: 'copy:PID-3[2].1', label: 'same' })).toBeUndefined();
    expect(stepFromDrop(src, { id: 'other', label: '?' })).toBeUndefined();
  });

  it('reorders steps', () => {
    expect(moveStep(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveStep(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveStep(['a', 'b'], 1, 5)).toEqual(['a', 'b']);
  });

  it('previews with the engine operations and diffs against the input', () => {
    const p = previewTransform(DEFAULT_SAMPLE, [
      { op: 'copy', from: 'PID-3[2].1', to: 'PID-2' },
      { op: 'removeSegment', name: 'EVN' },
    ]);
    if (!p.ok) throw new Error(p.error);
    expect(p.output.split('\r')[1]).toBe('PID|1|9434765919|123456^^^HOSP^MR~9434765919^^^NHS^NH||DOE^JANE^Q||19800101|F|||1 HIGH ST^^LONDON^^N1 1AA^GBR');
    expect(p.diff.map((d) => d.kind)).toEqual(['same', 'removed', 'changed', 'same']);
    expect(p.diff[2]!.fields).toEqual([2]);
    const bad = previewTransform(DEFAULT_SAMPLE, [{ op: 'set', path: 'MSH-1', value: 'x' }]);
    expect(bad.ok).toBe(false);
  });

  it('diffs added segments', () => {
    expect(diffSegments('MSH|a\rPID|1', 'MSH|a\rPID|1\rZPI|x').map((d) => d.kind)).toEqual(['same', 'same', 'added']);
  });

  it('tests rules against the sample with the engine evaluation', () => {
    const when = { and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'PID-3[2].4', op: 'in', values: ['NHS', 'CHI'] }] };
    const r = testHl7Rules({ rules: [{ name: 'adt', when, then: { action: 'send', to: ['A'] } }] }, DEFAULT_SAMPLE);
    expect('error' in r ? r.error : r).toMatchObject({ conditions: [{ matched: true }], outcome: { matched: [{ name: 'adt' }] } });
    expect(testHl7Rules({ rules: [] }, 'not hl7')).toHaveProperty('error');
  });
});

describe('enum labels', () => {
  it('human words for setting values, humanised when unknown', () => {
    expect(enumLabel('sync_reliable')).toBe('Synchronous, reliable');
    expect(enumLabel('reject_new')).toBe('Reject the new message');
    expect(enumLabel('some_new_value')).toBe('Some new value');
    expect(enumLabel('POST')).toBe('POST');
  });
});
