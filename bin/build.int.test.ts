import { spawn } from 'node:child_process';
import { readdir, readFile, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFiles } from '../apps/engine/src/send';
import { freePort, hie, hieExec, repoRoot, tempDir, until, waitForPort, writeJson } from '../apps/engine/src/testing/helpers';

/** Runs a command to completion; resolves with its exit code and output. */
function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

describe('npm run build: the compiled build runs hie on its own', () => {
  let dir: string;
  let dist: string;

  beforeAll(async () => {
    // The build goes outside the checkout, beside a link to node_modules only: with no TypeScript
    // source next to it, anything that still reached for a `.ts` (the worker, an item module,
    // the migrations) would fail instead of quietly running the sources.
    dir = await tempDir('hie-build-');
    dist = path.join(dir, 'dist');
    await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
    const built = await run(process.execPath, [path.join(repoRoot, 'tools/scripts/build.mjs'), '--outdir', dist], repoRoot);
    expect(built.code, built.output).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hie run from the build accepts an MLLP message, ACKs it and routes it through a worker thread', async () => {
    const port = await freePort();
    const out = path.join(dir, 'out');
    const file = await writeJson(path.join(dir, 'production.json'), {
      name: 'built',
      storage: 'none',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port } },
        // multiprocess: the router runs in a Piscina worker thread, loaded from the build too.
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' }, execution: { mode: 'multiprocess', workers: 1 } },
        { name: 'Files', type: 'file.out', settings: { directory: out } },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Files' },
      ],
    });
    // HIE_BUILD=auto: the suite forces the sources (vitest.config.ts); this test wants the build.
    const child = hie(['run', file], { cwd: dir, env: { HIE_BUILD: 'auto', HIE_DIST: dist, HIE_STORE: 'off', HIE_LOG_LEVEL: 'debug' } });
    try {
      await waitForPort(port);
      expect(child.output()).toContain(`hie: running the build in ${dist}`);
      const [result] = await sendFiles({ host: '127.0.0.1', port, files: [path.join(repoRoot, 'examples/messages/adt-a01.hl7')], timeoutMs: 20_000 });
      expect(result).toMatchObject({ ackCode: 'AA', ackControlId: result.controlId });
      await until(async () => (await readdir(out).catch(() => [])).length === 1, 20_000);
      const [written] = await readdir(out);
      expect(await readFile(path.join(out, written), 'latin1')).toContain(`|${result.controlId}|`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(child.output()).not.toMatch(/"level":50/); // no error logged (a worker that failed to load logs one)
  }, 60_000);

  it('the build knows its version and loads the SFTP plugin shipped with HIE, compiled', async () => {
    const env = { HIE_BUILD: 'auto', HIE_DIST: dist };
    const version = await hieExec(['--version'], { cwd: dir, env });
    expect(version.output.trim()).toBe((JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
    const plugins = await hieExec(['plugins'], { cwd: dir, env });
    expect(plugins.code, plugins.output).toBe(0);
    expect(plugins.output).toContain(`@hie/plugin-sftp@1.0.0  ${path.join(dist, 'plugins/sftp/src/index.js')}  (shipped with HIE)`);
    expect(plugins.output).toMatch(/ {2}sftp\.in {2}service/);
  }, 60_000);
});
