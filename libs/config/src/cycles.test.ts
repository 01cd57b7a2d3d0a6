import { describe, expect, it } from 'vitest';
import { findCycles } from './cycles';

const items = (...names: string[]) => names.map((name) => ({ name }));

describe('findCycles', () => {
  it('finds none in a pipeline', () => {
    expect(findCycles({ items: items('A', 'B', 'C'), connections: [{ from: 'A', to: 'B' }, { from: 'B', to: 'C' }] })).toEqual([]);
  });

  it('finds every elementary cycle once, self-loops included', () => {
    const cycles = findCycles({
      items: items('A', 'B', 'C'),
      connections: [
        { from: 'A', to: 'B' },
        { from: 'B', to: 'A' },
        { from: 'B', to: 'C' },
        { from: 'C', to: 'A' },
        { from: 'C', to: 'C' },
        { from: 'C', to: 'A' },
      ],
    });
    expect(cycles).toEqual([['A', 'B'], ['A', 'B', 'C'], ['C']]);
  });

  it('ignores dangling connections and honours the limit', () => {
    expect(findCycles({ items: items('A'), connections: [{ from: 'A', to: 'Z' }, { from: 'Z', to: 'A' }] })).toEqual([]);
    const names = ['A', 'B', 'C', 'D', 'E', 'F'];
    const connections = names.flatMap((from) => names.filter((to) => to !== from).map((to) => ({ from, to })));
    expect(findCycles({ items: items(...names), connections }, { limit: 10 })).toHaveLength(10);
  });
});
