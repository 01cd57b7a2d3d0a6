import { describe, expect, it } from 'vitest';
import { inGroup } from '@hie/config';
import { historyReducer, initHistory } from './history';
import {
  addGroup,
  addNote,
  canvasNodeKind,
  copySelection,
  groupAround,
  groupNodeId,
  moveNodes,
  newCanvasId,
  noteNodeId,
  pasteClipboard,
  removeCanvas,
  updateGroup,
  updateNote,
  type Spec,
} from './spec';
import { validateSpec } from './validation';

function spec(): Spec {
  return {
    name: 'canvas',
    items: [
      { name: 'In', type: 'hl7.mllp.in', settings: { port: 0 }, position: { x: 100, y: 100 } },
      { name: 'Out', type: 'file.out', settings: { directory: './out' }, position: { x: 400, y: 100 } },
      { name: 'Far', type: 'file.out', settings: { directory: './far' }, position: { x: 900, y: 100 } },
    ],
    connections: [{ from: 'In', to: 'Out' }],
    canvas: {
      groups: [{ id: 'g-1', label: 'Intake', x: 50, y: 50, width: 600, height: 200 }],
      notes: [
        { id: 'n-1', text: 'inside', x: 60, y: 200 },
        { id: 'n-2', text: 'outside', x: 60, y: 400 },
      ],
    },
  };
}

describe('designer canvas', () => {
  it('moving a group moves the items and notes inside it, and nothing else', () => {
    const s = moveNodes(spec(), new Map([[groupNodeId('g-1'), { x: 150, y: 80 }]]));
    expect(s.items.map((i) => [i.name, i.position])).toEqual([
      ['In', { x: 200, y: 130 }],
      ['Out', { x: 500, y: 130 }],
      ['Far', { x: 900, y: 100 }],
    ]);
    expect(s.canvas?.groups?.[0]).toMatchObject({ x: 150, y: 80, width: 600, height: 200 });
    expect(s.canvas?.notes?.map((n) => [n.id, n.x, n.y])).toEqual([
      ['n-1', 160, 230],
      ['n-2', 60, 400],
    ]);
  });

  it('a member dragged along with its group moves once, to where it was dropped', () => {
    const s = moveNodes(spec(), new Map([[groupNodeId('g-1'), { x: 150, y: 50 }], ['In', { x: 210, y: 100 }]]));
    expect(s.items.find((i) => i.name === 'In')?.position).toEqual({ x: 210, y: 100 });
    expect(s.items.find((i) => i.name === 'Out')?.position).toEqual({ x: 500, y: 100 });
  });

  it('adds, edits and removes groups and notes; an empty canvas leaves the spec as it was', () => {
    const bare: Spec = { name: 'x', items: [], connections: [] };
    const id = newCanvasId(bare, 'g');
    const g = addGroup(bare, { id, label: '', x: 0, y: 0, width: 300, height: 200 });
    const n = addNote(g, { id: newCanvasId(g, 'n'), text: '', x: 0, y: 300 });
    expect(n.canvas).toEqual({ groups: [{ id: 'g-1', label: '', x: 0, y: 0, width: 300, height: 200 }], notes: [{ id: 'n-1', text: '', x: 0, y: 300 }] });
    const edited = updateNote(updateGroup(n, 'g-1', { label: 'Lab', colour: 'green' }), 'n-1', { text: 'hello' });
    expect(edited.canvas?.groups?.[0]).toMatchObject({ label: 'Lab', colour: 'green' });
    expect(edited.canvas?.notes?.[0]?.text).toBe('hello');
    expect(updateGroup(edited, 'g-1', { colour: undefined }).canvas?.groups?.[0]).not.toHaveProperty('colour');
    expect(removeCanvas(edited, new Set([groupNodeId('g-1'), noteNodeId('n-1')]))).toEqual(bare);
    expect(validateSpec(edited, undefined)).toEqual([]);
  });

  it('canvas node ids cannot be item names (these start with a space) and map back', () => {
    expect(canvasNodeKind(groupNodeId('g-1'))).toEqual({ kind: 'group', id: 'g-1' });
    expect(canvasNodeKind(noteNodeId('n-2'))).toEqual({ kind: 'note', id: 'n-2' });
    expect(canvasNodeKind('group:g-1')).toBeUndefined();
    expect(validateSpec({ name: 'x', items: [{ name: ' group:g-1', type: 'file.out', settings: { directory: '.' } }], connections: [] }, undefined)).not.toEqual([]);
  });

  it('a group around nodes has room for its label; undo and redo cover canvas edits', () => {
    expect(groupAround([{ x: 100, y: 100, width: 210, height: 92 }, { x: 400, y: 120, width: 210, height: 92 }])).toEqual({ x: 70, y: 54, width: 570, height: 188 });
    let h = initHistory(spec());
    h = historyReducer(h, { type: 'edit', update: (s) => updateGroup(s, 'g-1', { label: 'Renamed' }), at: 1 });
    h = historyReducer(h, { type: 'edit', update: (s) => moveNodes(s, new Map([[groupNodeId('g-1'), { x: 0, y: 0 }]])), at: 5000 });
    h = historyReducer(h, { type: 'undo' });
    expect(h.present.canvas?.groups?.[0]).toMatchObject({ label: 'Renamed', x: 50 });
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toEqual(spec());
    h = historyReducer(h, { type: 'redo' });
    expect(h.present.canvas?.groups?.[0]?.label).toBe('Renamed');
    // Committing the same label again (Enter, then the field losing focus) adds no undo step.
    const same = historyReducer(h, { type: 'edit', update: (s) => updateGroup(s, 'g-1', { label: 'Renamed' }), at: 9000 });
    expect(same).toBe(h);
    expect(updateNote(h.present, 'n-1', { text: 'inside' })).toBe(h.present);
  });

  it('copying a group takes what is inside it; pasting makes a new group around the copies, with new ids', () => {
    const clip = copySelection(spec(), new Set(), new Set([groupNodeId('g-1')]));
    expect(clip.items.map((i) => i.name)).toEqual(['In', 'Out']);
    expect(clip.connections).toEqual([{ from: 'In', to: 'Out' }]);
    expect(clip.notes?.map((n) => n.id)).toEqual(['n-1']);
    const { spec: pasted, names } = pasteClipboard(spec(), clip, 40);
    expect(names).toEqual(['In copy', 'Out copy']);
    expect(pasted.connections).toContainEqual({ from: 'In copy', to: 'Out copy' });
    const copyGroup = pasted.canvas!.groups![1]!;
    expect(copyGroup).toEqual({ id: 'g-2', label: 'Intake', x: 90, y: 90, width: 600, height: 200 });
    for (const n of names) expect(inGroup(copyGroup, pasted.items.find((i) => i.name === n)!.position!)).toBe(true);
    expect(pasted.canvas!.notes!.map((n) => [n.id, n.text, n.x, n.y])).toEqual([
      ['n-1', 'inside', 60, 200],
      ['n-2', 'outside', 60, 400],
      ['n-3', 'inside', 100, 240],
    ]);
    expect(validateSpec(pasted, undefined)).toEqual([]);
    // A note alone is copied alone; items alone carry no canvas.
    expect(copySelection(spec(), new Set(), new Set([noteNodeId('n-2')]))).toMatchObject({ items: [], notes: [{ id: 'n-2' }] });
    expect(copySelection(spec(), new Set(['Far']))).toEqual({ items: [spec().items[2]], connections: [] });
  });
});
