/** Loading plugins from configuration: real module files in temp folders, the errors a user gets. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPlugins, pluginDefinitions, pluginDescriptors, pluginRequests, splitPluginList } from './plugins';
import { repoRoot, tempDir } from './testing/helpers';

const sdk = pathToFileURL(path.join(repoRoot, 'libs/item-sdk/src/index.ts')).href;

/** A plugin module file whose body defines `def` (source text) and exports it. */
async function pluginFile(dir: string, name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `import { defineItemType, z } from '${sdk}';\n${body}\n`);
  return file;
}

const good = (type: string) => `export const t = defineItemType({ type: '${type}', version: 1, kind: 'process', description: 'test type', settings: z.object({ n: z.number().default(1).describe('n') }), create: () => ({}) });`;

describe('plugins from configuration', () => {
  it('HIE_PLUGINS splits on commas and the path delimiter', () => {
    expect(splitPluginList(' a, ./b:/c/d.js ,, ')).toEqual(['a', './b', '/c/d.js']);
    expect(splitPluginList(undefined)).toEqual([]);
  });

  it('loads a path from HIE_PLUGINS and plugins: of hie.config.yaml (relative to the file), with the module URL for workers', async () => {
    const dir = await tempDir();
    await pluginFile(dir, 'one/index.mjs', good('acme.one'));
    await pluginFile(dir, 'conf/two.mjs', good('acme.two'));
    await writeFile(path.join(dir, 'conf/hie.config.yaml'), 'plugins:\n  - ./two.mjs\n');
    const reqs = pluginRequests({ HIE_PLUGINS: './one/index.mjs', HIE_CONFIG: 'conf/hie.config.yaml' }, { cwd: dir });
    const loaded = await loadPlugins(reqs);
    expect(loaded.map((p) => [p.from, p.types.map((t) => t.type)])).toEqual([
      ['HIE_PLUGINS', ['acme.one']],
      [path.join(dir, 'conf/hie.config.yaml'), ['acme.two']],
    ]);
    expect(pluginDefinitions(loaded).map((d) => d.module)).toEqual([pathToFileURL(path.join(dir, 'one/index.mjs')).href, pathToFileURL(path.join(dir, 'conf/two.mjs')).href]);
    expect(pluginDescriptors(loaded)[0]).toMatchObject({ type: 'acme.one', kind: 'process', description: 'test type' });
  });

  it('hie.config.yaml in the working folder is read when HIE_CONFIG is unset', async () => {
    const dir = await tempDir();
    await pluginFile(dir, 'p.mjs', good('acme.cwd'));
    await writeFile(path.join(dir, 'hie.config.yaml'), 'plugins: [./p.mjs]\n');
    const loaded = await loadPlugins(pluginRequests({}, { cwd: dir }));
    expect(loaded.flatMap((p) => p.types.map((t) => t.type))).toEqual(['acme.cwd']);
  });

  it('a missing package or file is a clear engine.plugin error', async () => {
    const dir = await tempDir();
    await expect(loadPlugins(pluginRequests({ HIE_PLUGINS: 'hie-plugin-not-installed' }, { cwd: dir }))).rejects.toMatchObject({
      code: 'engine.plugin',
      message: expect.stringMatching(/plugin "hie-plugin-not-installed" \(HIE_PLUGINS\): not found in node_modules of .*npm install hie-plugin-not-installed/),
    });
    await expect(loadPlugins(pluginRequests({ HIE_PLUGINS: './nope.mjs' }, { cwd: dir }))).rejects.toMatchObject({ code: 'engine.plugin', message: expect.stringContaining(`not found in ${path.join(dir, 'nope.mjs')}`) });
  });

  it('a plugins: entry that is not a list of strings names the file and field', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'hie.config.yaml'), 'plugins: 3\n');
    expect(() => pluginRequests({}, { cwd: dir })).toThrow(/hie\.config\.yaml: plugins: /);
  });

  it('a type clashing with a built-in, or with another plugin, is refused', async () => {
    const dir = await tempDir();
    const clash = await pluginFile(dir, 'clash.mjs', good('file.out'));
    await expect(loadPlugins([{ spec: clash, base: dir, from: 'HIE_PLUGINS' }])).rejects.toThrow(/item type "file\.out" clashes with a built-in item type/);
    const a = await pluginFile(dir, 'a.mjs', good('acme.same'));
    const b = await pluginFile(dir, 'b.mjs', good('acme.same'));
    await expect(
      loadPlugins([
        { spec: a, base: dir, from: 'HIE_PLUGINS' },
        { spec: b, base: dir, from: 'HIE_PLUGINS' },
      ]),
    ).rejects.toThrow(`item type "acme.same" clashes with plugin "${a}"`);
  });

  it('settings that are not a zod schema are refused', async () => {
    const dir = await tempDir();
    const file = await pluginFile(dir, 'bad.mjs', `export const t = defineItemType({ type: 'acme.bad', version: 1, kind: 'process', description: 'x', settings: { type: 'object' }, create: () => ({}) });`);
    await expect(loadPlugins([{ spec: file, base: dir, from: 'HIE_PLUGINS' }])).rejects.toThrow(/item type "acme\.bad": settings must be a zod schema/);
  });

  it('a plugin built for another major item-type API, or not with defineItemType, is refused', async () => {
    const dir = await tempDir();
    const v2 = await pluginFile(dir, 'v2.mjs', `export const t = { ...defineItemType({ type: 'acme.v2', version: 1, kind: 'process', description: 'x', settings: z.object({}), create: () => ({}) }), apiVersion: '2.0' };`);
    await expect(loadPlugins([{ spec: v2, base: dir, from: 'HIE_PLUGINS' }])).rejects.toThrow(/built for item-type API 2\.0, but this HIE runs API 1\.0/);
    const bare = await pluginFile(dir, 'bare.mjs', `export const t = { type: 'acme.bare', version: 1, kind: 'process', description: 'x', settings: z.object({}), create: () => ({}) };`);
    await expect(loadPlugins([{ spec: bare, base: dir, from: 'HIE_PLUGINS' }])).rejects.toThrow(/has no apiVersion: define it with defineItemType from @hie\/item-sdk/);
  });

  it('a module exporting no item type is refused', async () => {
    const dir = await tempDir();
    const file = await pluginFile(dir, 'none.mjs', 'export const nothing = 1;');
    await expect(loadPlugins([{ spec: file, base: dir, from: 'HIE_PLUGINS' }])).rejects.toThrow(/exports no item type/);
  });
});
