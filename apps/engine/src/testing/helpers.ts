import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createHostPolicy, type HostPolicy, type HostPolicyInput } from '@hie/policy';

export const repoRoot = new URL('../../../../', import.meta.url).pathname;
export const corpusDir = path.resolve(repoRoot, 'testdata/hl7');

/** freePort, until: @hie/item-sdk's (plugins test with the same helpers). */
export { freePort, until } from '@hie/item-sdk';

/**
 * The host policy of engine tests: the system temp folder is the root (tests write there), given
 * explicitly so the product default (the working folder) stays as strict as it is.
 */
export function testPolicy(input: HostPolicyInput = {}): HostPolicy {
  return createHostPolicy({ roots: [os.tmpdir()], ...input });
}

export async function tempDir(prefix = 'hie-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** True when something accepts TCP connections on 127.0.0.1:`port` now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Wait until a TCP port accepts connections. */
export async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} did not open in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Run the real `hie` CLI (bin/hie.mjs) as a child process. */
export function hie(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ChildProcess & { output: () => string } {
  const cwd = opts.cwd ?? repoRoot;
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/hie.mjs'), ...args], {
    cwd,
    // A fresh embedded store per process unless the test says otherwise; file roots: the working
    // folder (the default) plus the temp folder the tests write to.
    env: {
      ...process.env,
      HIE_LOG_LEVEL: 'warn',
      HIE_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'hie-data-')),
      HIE_FILE_ROOTS: [cwd, os.tmpdir()].join(path.delimiter),
      ...opts.env,
    },
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

/** A pino logger whose JSON lines the test can read. */
export function capturedLog(level = 'info'): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level }, stream), lines };
}
