import { describe, expect, it } from 'vitest';
import { diffSpecs } from './diff.js';

describe('diffSpecs', () => {
  const base = {
    name: 'p',
    items: [
      { name: 'A', type: 'hl7.mllp.in', settings: { port: 1, tags: ['x'] } },
      { name: 'B', type: 'file.out', settings: { directory: '/a' } },
    ],
    connections: [{ from: 'A', to: 'B' }],
  };

  it('is empty for equal specs, whatever the key order', () => {
    const reordered = { connections: [{ to: 'B', from: 'A' }], items: base.items.map((i) => ({ settings: i.settings, type: i.type, name: i.name })), name: 'p' };
    expect(diffSpecs(base, reordered)).toEqual({ added: [], removed: [], changed: [], connectionsAdded: [], connectionsRemoved: [], production: [] });
  });

  it('reports items, fields (nested, arrays, added/removed keys), connections and production fields', () => {
    const next = {
      name: 'p2',
      storage: 'metadata',
      items: [
        { name: 'A', type: 'hl7.mllp.in', settings: { port: 2, tags: ['x', 'y'] }, queue: { size: 5 } },
        { name: 'C', type: 'file.out', settings: { directory: '/c' } },
      ],
      connections: [{ from: 'A', to: 'C' }],
    };
    expect(diffSpecs(base, next)).toEqual({
      added: ['C'],
      removed: ['B'],
      changed: [
        {
          item: 'A',
          fields: [
            { path: 'queue', after: { size: 5 } },
            { path: 'settings.port', before: 1, after: 2 },
            { path: 'settings.tags[1]', after: 'y' },
          ],
        },
      ],
      connectionsAdded: [{ from: 'A', to: 'C' }],
      connectionsRemoved: [{ from: 'A', to: 'B' }],
      production: [
        { path: 'name', before: 'p', after: 'p2' },
        { path: 'storage', after: 'metadata' },
      ],
    });
  });

  it('quotes item paths that are not identifiers', () => {
    const a = { name: 'p', items: [{ name: 'A', type: 't.t', settings: { 'x-y': 1 } }] };
    const b = { name: 'p', items: [{ name: 'A', type: 't.t', settings: { 'x-y': 2 } }] };
    expect(diffSpecs(a, b).changed[0].fields[0].path).toBe('settings["x-y"]');
  });
});
