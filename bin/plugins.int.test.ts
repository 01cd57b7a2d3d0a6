/**
 * A plugin as a user installs it: `hie new item-type` into a temp folder, `npm install --offline`
 * there and into a project folder, then `hie run` with HIE_PLUGINS (async and multiprocess items),
 * `hie plugins`, and `hie start` showing the type in `itemTypes.list` and checking its settings.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@hie/manager';
import { freePort, hie, hieExec, tempDir, until, waitForPort, writeJson } from '../apps/engine/src/testing/helpers';

const run = promisify(execFile);
const npmInstall = (cwd: string, ...args: string[]) => run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...args], { cwd });

let plugin: string;
let project: string;

beforeAll(async () => {
  const dir = await tempDir();
  const made = await hieExec(['new', 'item-type', 'hie-plugin-acme', '--dir', dir]);
  expect(made.code, made.output).toBe(0);
  plugin = path.join(dir, 'hie-plugin-acme');
  await npmInstall(plugin);
  // The scaffold's own test passes on its own install.
  const tested = await run(process.execPath, [path.join(plugin, 'node_modules/vitest/vitest.mjs'), 'run'], { cwd: plugin });
  expect(tested.stdout).toMatch(/4 passed/);
  project = path.join(dir, 'project');
  await run('mkdir', ['-p', project]);
  await writeJson(path.join(project, 'package.json'), { name: 'my-hie-project', private: true });
  await npmInstall(project, plugin);
}, 180_000);

describe('hie plugins', () => {
  it('lists the installed plugin, where it resolved to and where it was configured', async () => {
    const r = await hieExec(['plugins'], { cwd: project, env: { HIE_PLUGINS: 'hie-plugin-acme', HIE_DEFAULT_PLUGINS: 'off' } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`hie-plugin-acme@0.1.0  ${path.join(plugin, 'src/index.ts')}  (from HIE_PLUGINS)`);
    expect(r.output).toMatch(/ {2}acme\.out {2}operation {2}api 1\.0 {2}Write each message/);
  }, 60_000);

  it('lists the SFTP plugin shipped with HIE unless HIE_DEFAULT_PLUGINS=off', async () => {
    const r = await hieExec(['plugins'], { cwd: project });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/@hie\/plugin-sftp@1\.0\.0 {2}\S+plugins\/sftp\/src\/index\.ts {2}\(shipped with HIE\)/);
    expect(r.output).toMatch(/ {2}sftp\.in {2}service/);
    expect(r.output).toMatch(/ {2}sftp\.out {2}operation/);
  }, 60_000);

  it('reads plugins: from hie.config.yaml in the working folder', async () => {
    await writeFile(path.join(project, 'hie.config.yaml'), 'plugins:\n  - hie-plugin-acme\n');
    try {
      const r = await hieExec(['plugins'], { cwd: project, env: { HIE_DEFAULT_PLUGINS: 'off' } });
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain(`(from ${path.join(project, 'hie.config.yaml')})`);
    } finally {
      await writeFile(path.join(project, 'hie.config.yaml'), '');
    }
  }, 60_000);

  it('a plugin that is not installed stops hie run with a clear error', async () => {
    const file = await writeJson(path.join(project, 'none.json'), { name: 'none', items: [], connections: [] });
    const r = await hieExec(['run', file], { cwd: project, env: { HIE_PLUGINS: 'hie-plugin-missing', HIE_STORE: 'off' } });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/error \[engine\.plugin\]: plugin "hie-plugin-missing" \(HIE_PLUGINS\): not found/);
  }, 60_000);
});

describe('hie start and hie engine load the configured plugins', () => {
  it('a plugin that is not installed stops them with the same error, before they open anything', async () => {
    const env = { HIE_PLUGINS: 'hie-plugin-missing', HIE_PORT: '0', HIE_PORTAL: 'off' };
    const start = await hieExec(['start'], { cwd: project, env });
    expect(start.code).toBe(1);
    expect(start.output).toMatch(/hie start: plugin "hie-plugin-missing" \(HIE_PLUGINS\): not found/);
    // Unreachable cluster addresses: the plugin check comes first.
    const cluster = { DATABASE_URL: 'postgres://127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1', ETCD_ENDPOINTS: 'http://127.0.0.1:1' };
    const engine = await hieExec(['engine'], { cwd: project, env: { ...env, ...cluster } });
    expect(engine.code).toBe(1);
    expect(engine.output).toMatch(/error \[engine\.plugin\]: plugin "hie-plugin-missing" \(HIE_PLUGINS\): not found/);
  }, 60_000);
});

describe('hie run with HIE_PLUGINS', () => {
  it('runs the plugin type in async and multiprocess items', async () => {
    const port = await freePort();
    const file = await writeJson(path.join(project, 'production.json'), {
      name: 'acme-demo',
      items: [
        { name: 'In', type: 'http.in', settings: { host: '127.0.0.1', port } },
        { name: 'Async', type: 'acme.out', settings: { directory: './async' } },
        { name: 'Threads', type: 'acme.out', settings: { directory: './threads', extension: 'hl7' }, execution: { mode: 'multiprocess', workers: 2 } },
      ],
      connections: [
        { from: 'In', to: 'Async' },
        { from: 'In', to: 'Threads' },
      ],
    });
    const child = hie(['run', file], { cwd: project, env: { HIE_PLUGINS: 'hie-plugin-acme', HIE_STORE: 'off', HIE_FILE_ROOTS: project } });
    try {
      await waitForPort(port, 60_000);
      const bodies = ['one', 'two', 'three'].map((s) => `MSH|^~\\&|ACME|${s}\r`);
      for (const body of bodies) {
        const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
        expect(res.status, await res.text()).toBe(202);
      }
      const written = async (dir: string) => (await readdir(path.join(project, dir)).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
      await until(async () => (await written('async')).length === 3 && (await written('threads')).length === 3, 30_000);
      for (const dir of ['async', 'threads']) {
        const files = await written(dir);
        expect(files.every((f) => f.endsWith(dir === 'threads' ? '.hl7' : '.txt'))).toBe(true);
        const contents = await Promise.all(files.map((f) => readFile(path.join(project, dir, f), 'utf8')));
        expect(contents.sort()).toEqual([...bodies].sort());
      }
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code, child.output()).toBe(0);
    }
  }, 120_000);
});

describe('hie start with HIE_PLUGINS', () => {
  let child: ReturnType<typeof hie>;
  let api: ReturnType<typeof createTRPCClient<AppRouter>>;

  beforeAll(async () => {
    const port = await freePort();
    let cookie = '';
    const jarFetch = async (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(input, { ...init, headers });
      const set = res.headers.getSetCookie().find((c) => c.startsWith('hie_session='));
      if (set) cookie = set.split(';')[0];
      return res;
    };
    child = hie(['start'], {
      cwd: project,
      env: { HIE_PLUGINS: 'hie-plugin-acme', HIE_PORT: String(port), HIE_HOST: '127.0.0.1', HIE_ADMIN_PASSWORD: 'test-admin-pw', HIE_PORTAL: 'off', HIE_DEMO: '0', HIE_FILE_ROOTS: project },
    });
    await waitForPort(port, 90_000);
    api = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `http://127.0.0.1:${port}/api/trpc`, fetch: jarFetch })] });
    await api.auth.login.mutate({ username: 'admin', password: 'test-admin-pw' });
  }, 120_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child) await new Promise((r) => child.on('exit', r));
  });

  it('itemTypes.list shows the plugin type with the form schema from its zod settings', async () => {
    const { types } = await api.itemTypes.list.query();
    const acme = types.find((t) => t.type === 'acme.out');
    expect(acme, child.output()).toMatchObject({ kind: 'operation', description: 'Write each message to its own file (example plugin)', source: 'plugin' });
    expect(acme!.settingsSchema).toMatchObject({ properties: { directory: { type: 'string', default: './out' }, extension: { type: 'string', default: 'txt' } } });
    // The SFTP plugin ships with HIE and loads by default, its secrets marked for the form.
    const sftpIn = types.find((t) => t.type === 'sftp.in');
    expect(sftpIn).toMatchObject({ kind: 'service', source: 'plugin' });
    expect(sftpIn!.settingsSchema).toMatchObject({ properties: { password: { secret: true }, privateKey: { secret: true } } });
  });

  it('a save with settings its zod schema refuses is a BAD_REQUEST naming the field', async () => {
    const ws = await api.workspaces.create.mutate({ name: `Plugins ${Date.now()}` });
    const spec = (extension: string) => ({ name: 'acme', items: [{ name: 'Out', type: 'acme.out', settings: { directory: './out', extension } }], connections: [] });
    await expect(api.projects.create.mutate({ workspaceId: ws.id, name: 'acme', spec: spec('../x') })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
      message: expect.stringContaining('items[0].settings.extension'),
    });
    await expect(api.projects.create.mutate({ workspaceId: ws.id, name: 'acme', spec: spec('hl7') })).resolves.toMatchObject({ name: 'acme' });
  });
});
