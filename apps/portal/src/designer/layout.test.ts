import { describe, expect, it } from 'vitest';
import { inGroup } from '@hie/config';
import { autoLayout, NODE_H, NODE_W } from './layout';
import { groupsOf, notesOf, type Spec } from './spec';

const item = (name: string, x: number, y: number) => ({ name, type: 'hl7.router', settings: {}, position: { x, y } });

/** Two feeds, each a chain of two items in its own group (with a note in the first), scattered so a layout must move them. */
function scattered(): Spec {
  return {
    name: 'p',
    items: [item('A1', 900, 40), item('A2', 60, 700), item('B1', 500, 500), item('B2', 40, 60), item('Loose', 1500, 1500)],
    connections: [
      { from: 'A1', to: 'A2' },
      { from: 'B1', to: 'B2' },
    ],
    canvas: {
      groups: [
        { id: 'g-a', label: 'Feed A', x: 0, y: 0, width: 1200, height: 900 },
        { id: 'g-b', label: 'Feed B', x: 20, y: 20, width: 600, height: 600 },
      ],
      notes: [{ id: 'n-1', text: 'owner: lab team', x: 1000, y: 800 }],
    },
  } as Spec;
}

const rect = (g: { x: number; y: number; width: number; height: number }) => ({ l: g.x, t: g.y, r: g.x + g.width, b: g.y + g.height });
const overlap = (a: ReturnType<typeof rect>, b: ReturnType<typeof rect>) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;

describe('auto-layout with canvas groups', () => {
  it('keeps each item in the group it was in (the smallest holding it), fits the groups around them, and the groups do not overlap', () => {
    const laid = autoLayout(scattered());
    const [a, b] = groupsOf(laid);
    const at = (n: string) => laid.items.find((i) => i.name === n)!.position!;
    for (const n of ['A1', 'A2']) expect(inGroup(a!, at(n)), n).toBe(true);
    for (const n of ['B1', 'B2']) expect(inGroup(b!, at(n)), n).toBe(true);
    expect(inGroup(a!, at('B1')) || inGroup(b!, at('A1'))).toBe(false);
    expect(inGroup(a!, at('Loose')) || inGroup(b!, at('Loose'))).toBe(false);
    expect(overlap(rect(a!), rect(b!))).toBe(false);
    // Each group holds its items' whole boxes, not only their corners.
    for (const [g, names] of [
      [a!, ['A1', 'A2']],
      [b!, ['B1', 'B2']],
    ] as const) {
      for (const n of names) {
        expect(at(n).x + NODE_W).toBeLessThanOrEqual(g.x + g.width);
        expect(at(n).y + NODE_H).toBeLessThanOrEqual(g.y + g.height);
      }
    }
    expect(groupsOf(laid).map((g) => g.label)).toEqual(['Feed A', 'Feed B']);
  });

  it('moves a note inside a group with its group, and leaves the rest of the canvas as it was', () => {
    const before = scattered();
    const laid = autoLayout(before);
    const [a] = groupsOf(laid);
    const note = notesOf(laid)[0]!;
    // It was at 5/6 across and 8/9 down its group: so it is still, in the group fitted anew.
    expect(inGroup(a!, note)).toBe(true);
    expect((note.x - a!.x) / a!.width).toBeCloseTo(1000 / 1200, 2);
    expect((note.y - a!.y) / a!.height).toBeCloseTo(800 / 900, 2);
    expect(laid.name).toBe('p');
    expect(laid.connections).toEqual(before.connections);
  });

  it('a group with no items inside keeps its place; laying out only new items touches no group', () => {
    const spec = { ...scattered(), canvas: { groups: [...groupsOf(scattered()), { id: 'g-empty', label: 'Later', x: 3000, y: 3000, width: 200, height: 100 }] } } as Spec;
    expect(groupsOf(autoLayout(spec))[2]).toEqual({ id: 'g-empty', label: 'Later', x: 3000, y: 3000, width: 200, height: 100 });
    const onlyNew = autoLayout(spec, new Map(), new Set(['Loose']));
    expect(groupsOf(onlyNew)).toEqual(groupsOf(spec));
  });
});
