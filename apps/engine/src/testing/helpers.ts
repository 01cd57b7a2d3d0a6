import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = new URL('../../../../', import.meta.url).pathname;
export const corpusDir = path.resolve(repoRoot, 'testdata/hl7');

/** A free TCP port on 127.0.0.1 (bind 0, read, close). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function tempDir(prefix = 'hie-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Wait until a TCP port accepts connections. */
export async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Run the real `hie` CLI (bin/hie.mjs) as a child process. */
export function hie(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/hie.mjs'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    // A fresh embedded store per process unless the test says otherwise.
    env: { ...process.env, HIE_LOG_LEVEL: 'warn', HIE_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'hie-data-')), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { output: () => out });
}

/** Run `hie` to completion; resolves with exit code and output. */
export async function hieExec(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; output: string }> {
  const child = hie(args, opts);
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
  return { code, output: child.output() };
}

export async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, JSON.stringify(value, null, 2));
  return file;
}
