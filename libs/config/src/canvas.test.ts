import { describe, expect, it } from 'vitest';
import { HieError } from './errors';
import { inGroup } from './production';
import { parseProduction, validateProduction } from './validate';

const base = {
  name: 'adt-feed',
  items: [
    { name: 'ADT In', type: 'hl7.mllp.in', settings: { port: 2575 }, position: { x: 40, y: 80 } },
    { name: 'ADT Out', type: 'file.out', settings: { directory: './out' }, position: { x: 320, y: 80 } },
  ],
  connections: [{ from: 'ADT In', to: 'ADT Out' }],
};
const canvas = {
  groups: [{ id: 'g-intake', label: 'Intake', x: 20, y: 40, width: 560, height: 200, colour: 'blue' }],
  notes: [{ id: 'n-1', text: 'Owned by the PAS team.\nCall ext 4021.', x: 20, y: 260, width: 240 }],
};

describe('designer canvas: groups and notes', () => {
  it('accepts groups and notes, kept as written (no defaults added)', () => {
    const r = validateProduction({ ...base, canvas });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.canvas).toEqual(canvas);
    // Absent stays absent: a production without a canvas parses as before.
    const plain = validateProduction(base);
    expect(plain.ok && 'canvas' in plain.value).toBe(false);
  });

  it('reports duplicate ids across groups and notes, bad colours, sizes and unknown keys, with paths', () => {
    const r = validateProduction({
      ...base,
      canvas: {
        groups: [
          { id: 'a', label: 'One', x: 0, y: 0, width: 100, height: 100, colour: 'pink' },
          { id: 'a', label: 'Two', x: 0, y: 0, width: 10, height: 100 },
        ],
        notes: [{ id: 'a', text: 'x'.repeat(2001), x: 0, y: 0, size: 3 }, { id: 'has space', text: '', x: 0, y: 'top' }],
        shapes: [],
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => `${p.pathText} ${p.code}`).sort()).toEqual(
      [
        'canvas.groups[0].colour invalid_value',
        'canvas.groups[1].width too_small',
        'canvas.groups[1].id duplicate_canvas_id',
        'canvas.notes[0].id duplicate_canvas_id',
        'canvas.notes[0].text too_big',
        'canvas.notes[0].size unrecognized_keys',
        'canvas.notes[1].id invalid_format',
        'canvas.notes[1].y invalid_type',
        'canvas.shapes unrecognized_keys',
      ].sort(),
    );
    expect(r.problems.find((p) => p.path.join('.') === 'canvas.notes.0.id')?.message).toBe('duplicate id "a" (also canvas.groups[0])');
  });

  it('is a typed user error from parseProduction, never a crash', () => {
    let caught: unknown;
    try {
      parseProduction({ ...base, canvas: { groups: [{ id: 'g', label: 'x' }] } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(HieError);
    expect((caught as HieError).code).toBe('config.invalid');
    expect((caught as HieError).message).toContain('canvas.groups[0].x');
  });

  it('membership is geometric: an item or note belongs to a group when its position is inside the box', () => {
    const g = canvas.groups[0]!;
    expect(inGroup(g, base.items[0]!.position)).toBe(true);
    expect(inGroup(g, { x: 580, y: 240 })).toBe(true);
    expect(inGroup(g, { x: 581, y: 100 })).toBe(false);
    expect(inGroup(g, canvas.notes[0]!)).toBe(false);
  });
});
