import { describe, expect, it } from 'vitest';
import { currentServerProblems } from './server-problems';
import type { Spec } from './spec';
import type { DesignProblem } from './validation';

const refused: Spec = {
  name: 'p',
  items: [
    { name: 'Out', type: 'file.out', settings: { directory: '/etc' }, position: { x: 0, y: 0 } },
    { name: 'In', type: 'hl7.mllp.in', settings: { port: 2575 }, position: { x: 0, y: 0 } },
  ],
  connections: [{ from: 'In', to: 'Out' }],
};
const problems: DesignProblem[] = [
  { item: 'Out', path: 'settings.directory', message: 'outside HIE_FILE_ROOTS', source: 'server' },
  { path: 'connections', message: 'a cycle', source: 'server' },
];

describe('server problems are cleared once fixed', () => {
  it('keeps them while nothing changed (moving a node changes nothing)', () => {
    const moved = { ...refused, items: refused.items.map((i) => ({ ...i, position: { x: 50, y: 9 } })) };
    expect(currentServerProblems(problems, refused, moved)).toEqual(problems);
  });
  it("drops an item's problem once that item is edited, and the production's once anything is", () => {
    const fixed = { ...refused, items: refused.items.map((i) => (i.name === 'Out' ? { ...i, settings: { directory: '/data/out' } } : i)) };
    expect(currentServerProblems(problems, refused, fixed)).toEqual([]);
    const other = { ...refused, items: refused.items.map((i) => (i.name === 'In' ? { ...i, settings: { port: 2576 } } : i)) };
    expect(currentServerProblems(problems, refused, other)).toEqual([problems[0]]);
  });
  it('none without a refused save', () => {
    expect(currentServerProblems(problems, null, refused)).toEqual([]);
  });
});
