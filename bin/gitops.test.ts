import { describe, expect, it } from 'vitest';
import { filesToSpec, specToFiles } from './gitops';

const spec = {
  name: 'adt-feed',
  description: 'ADT to the lab',
  items: [
    { name: 'ADT In', type: 'hl7.mllp.in', settings: { port: 2575, host: '127.0.0.1' }, position: { y: 80, x: 40 }, queue: { size: 100, type: 'fifo' } },
    { name: 'Web/Out', type: 'http.out', settings: { url: 'http://${DOWNSTREAM_HOST}/x', headers: { Authorization: '${secret:LAB_TOKEN}', Accept: '*/*' } } },
    { name: 'Web Out', type: 'http.out', settings: { url: 'http://b/x' }, position: { x: 1, y: 2 } },
  ],
  connections: [
    { to: 'Web/Out', from: 'ADT In' },
    { from: 'ADT In', to: 'Web Out' },
  ],
};

describe('GitOps files', () => {
  it('writes one file per item, positions apart, keys in a stable order', () => {
    const files = specToFiles(spec);
    expect([...files.keys()]).toEqual(['items/ADT-In.yaml', 'items/Web-Out-2.yaml', 'items/Web-Out.yaml', 'layout.yaml', 'project.yaml']);
    expect(files.get('items/ADT-In.yaml')).toBe('name: ADT In\ntype: hl7.mllp.in\nsettings:\n  host: 127.0.0.1\n  port: 2575\nqueue:\n  size: 100\n  type: fifo\n');
    expect(files.get('layout.yaml')).toBe('ADT In:\n  x: 40\n  y: 80\nWeb Out:\n  x: 1\n  y: 2\n');
    expect(files.get('project.yaml')).toBe(
      'name: adt-feed\ndescription: ADT to the lab\nitems:\n  - ADT In\n  - Web/Out\n  - Web Out\nconnections:\n  - from: ADT In\n    to: Web/Out\n  - from: ADT In\n    to: Web Out\n',
    );
    // The same spec with its keys in another order writes the same bytes.
    const shuffled = { connections: spec.connections, items: spec.items.map((i) => Object.fromEntries(Object.entries(i).reverse())), name: spec.name, description: spec.description };
    expect(specToFiles(shuffled)).toEqual(files);
  });

  it('reads the files back to the same spec (item order, positions, references)', () => {
    const back = filesToSpec(specToFiles(spec));
    expect(back).toEqual(spec);
    expect(specToFiles(back)).toEqual(specToFiles(spec));
  });

  it('writes groups and notes to canvas.yaml in a stable order, and reads them back', () => {
    const withCanvas = {
      ...spec,
      canvas: {
        notes: [{ text: 'PAS team owns this.\nExt 4021.', y: 300, x: 20, id: 'n-1' }],
        groups: [{ height: 200, width: 600, y: 40, x: 20, label: 'Intake', id: 'g-1', colour: 'blue' }],
      },
    };
    const files = specToFiles(withCanvas);
    expect([...files.keys()]).toEqual(['canvas.yaml', 'items/ADT-In.yaml', 'items/Web-Out-2.yaml', 'items/Web-Out.yaml', 'layout.yaml', 'project.yaml']);
    expect(files.get('canvas.yaml')).toBe(
      'groups:\n  - id: g-1\n    label: Intake\n    colour: blue\n    x: 20\n    y: 40\n    width: 600\n    height: 200\nnotes:\n  - id: n-1\n    x: 20\n    y: 300\n    text: |-\n      PAS team owns this.\n      Ext 4021.\n',
    );
    // The other files do not change: canvas.yaml names no item.
    for (const [f, text] of specToFiles(spec)) expect(files.get(f)).toBe(text);
    const back = filesToSpec(files);
    expect(back).toEqual(withCanvas);
    expect(specToFiles(back)).toEqual(files);
    // No canvas, no canvas.yaml; a canvas.yaml that is not a mapping is named.
    expect(specToFiles(spec).has('canvas.yaml')).toBe(false);
    expect(() => filesToSpec(new Map([...files, ['canvas.yaml', '- a\n']]))).toThrow('canvas.yaml: must be a mapping');
  });

  it('names the file that is wrong', () => {
    const files = specToFiles(spec);
    expect(() => filesToSpec(new Map([...files].filter(([f]) => f !== 'project.yaml')))).toThrow('project.yaml is missing');
    expect(() => filesToSpec(new Map([...files, ['items/extra.yaml', 'name: ADT In\ntype: file.out\n']]))).toThrow('items/extra.yaml: a second item named "ADT In"');
    expect(() => filesToSpec(new Map([...files, ['items/bad.yaml', 'name: [unclosed']]))).toThrow('items/bad.yaml: not valid YAML');
    expect(() => filesToSpec(new Map([...files].filter(([f]) => f !== 'items/ADT-In.yaml')))).toThrow('no file under items/: ADT In');
  });
});
