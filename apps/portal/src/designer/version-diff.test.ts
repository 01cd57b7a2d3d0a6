import { describe, expect, it } from 'vitest';
import { diffRows, isEmptyDiff, type DiffFields } from './version-diff';

const none: DiffFields = { added: [], removed: [], changed: [], connectionsAdded: [], connectionsRemoved: [], production: [] };

describe('version diff table', () => {
  it('a version that moved a group, renamed it and added a note is a difference, shown as canvas rows', () => {
    const diff: DiffFields = {
      ...none,
      production: [
        { path: 'canvas.groups[0].label', before: 'Intake', after: 'Lab feed' },
        { path: 'canvas.groups[0].x', before: 20, after: 140 },
        { path: 'canvas.notes', after: [{ id: 'n-1', text: 'hello', x: 0, y: 0 }] },
      ],
    };
    expect(isEmptyDiff(diff)).toBe(false);
    expect(diffRows(diff).map((r) => `${r.owner} ${r.path}`)).toEqual(['Canvas groups[0].label', 'Canvas groups[0].x', 'Canvas notes']);
    expect(diffRows({ ...none, production: [{ path: 'canvas', after: {} }] })[0]).toMatchObject({ owner: 'Canvas', path: '(all)' });
  });

  it('production settings show too, after the items; nothing changed is no difference', () => {
    const diff: DiffFields = { ...none, changed: [{ item: 'In', fields: [{ path: 'settings.port', before: 1, after: 2 }] }], production: [{ path: 'storage', before: 'full', after: 'none' }] };
    expect(diffRows(diff).map((r) => `${r.owner} ${r.path}`)).toEqual(['In settings.port', 'Production storage']);
    expect(isEmptyDiff(none)).toBe(true);
  });
});
