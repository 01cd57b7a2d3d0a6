/**
 * Footprint benchmark (not a test): how fast `hie` is ready and how much memory it holds idle,
 * from the TypeScript sources through tsx (HIE_BUILD=off) and from the build (`npm run build`),
 * beside `node -e` of an empty script (the floor), rounds interleaved so load hits all alike:
 *   - `hie run` (store off): spawn → its MLLP port accepts a connection (ready), one message
 *     ACKed, then idle RSS after `--idle` seconds;
 *   - `hie start` (embedded PGlite store, portal off unless `--portal`): spawn → "HIE is running"
 *     (the store migrated, the demo production applied), then idle RSS; once on a new data
 *     folder (the first start: initdb) and again on it (a restart: the steady state).
 * The floor: `node -e ''` spawn → exit (ready), and the RSS of an empty script kept alive.
 *   npm run bench -- footprint [--runs 3] [--idle 3] [--portal]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from './procs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    idle: { type: 'string', default: '3' },
    portal: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const idleMs = Number(values.idle) * 1000;
const root = new URL('../../../', import.meta.url).pathname;
const hieBin = path.join(root, 'bin/hie.mjs');

interface Sample {
  readyMs: number;
  rssMb: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process, from /proc (Linux). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

/** One HL7 message over MLLP; resolves with MSA-1 of the ACK. */
function sendOne(port: number): Promise<string> {
  const msg = `MSH|^~\\&|BENCH|FAC|HIE|FAC|20260101000000||ADT^A01|FP${Date.now()}|P|2.5\rPID|1||12345^^^MRN||DOE^JOHN\r`;
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(`\x0b${msg}\x1c\r`));
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\x1c\r')) {
        s.destroy();
        resolve(/\rMSA\|([A-Z]{2})/.exec(buf)?.[1] ?? '??');
      }
    });
    s.on('error', reject);
    s.setTimeout(10_000, () => (s.destroy(), reject(new Error('no ACK in 10 s'))));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function launch(args: string[], env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, HIE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

type Way = 'tsx' | 'build';
const wayEnv = (way: Way): Record<string, string> => (way === 'tsx' ? { HIE_BUILD: 'off' } : {});

async function hieRun(way: Way): Promise<Sample> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hie-footprint-'));
  const port = await freePort();
  const file = path.join(dir, 'production.json');
  await writeFile(
    file,
    JSON.stringify({
      name: 'footprint',
      storage: 'none',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port } },
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' } },
        { name: 'Files', type: 'file.out', settings: { directory: path.join(dir, 'out') } },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Files' },
      ],
    }),
  );
  const t0 = performance.now();
  const { child, output } = launch([hieBin, 'run', file], { ...wayEnv(way), HIE_STORE: 'off', HIE_FILE_ROOTS: dir }, dir);
  try {
    while (!(await connects(port))) {
      if (child.exitCode !== null) throw new Error(`hie run exited ${child.exitCode}: ${output()}`);
      if (performance.now() - t0 > 300_000) throw new Error(`hie run not ready in 300 s: ${output()}`);
      await sleep(2);
    }
    const readyMs = performance.now() - t0;
    const ack = await sendOne(port);
    if (ack !== 'AA') throw new Error(`hie run answered ${ack}: ${output()}`);
    await sleep(idleMs);
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

/** `hie start` on `dataDir`: the first start creates the embedded database (initdb), a restart opens it. */
async function hieStart(way: Way, dataDir: string): Promise<Sample & { demo: string }> {
  const env = {
    ...wayEnv(way),
    HIE_PORT: String(await freePort()),
    HIE_HOST: '127.0.0.1',
    HIE_DATA_DIR: dataDir,
    HIE_ADMIN_PASSWORD: 'footprint-bench-pw',
    HIE_FILE_ROOTS: path.dirname(dataDir),
    ...(values.portal ? {} : { HIE_PORTAL: 'off' }),
  };
  const t0 = performance.now();
  const { child, output } = launch([hieBin, 'start'], env, path.dirname(dataDir));
  try {
    while (!output().includes('HIE is running')) {
      if (child.exitCode !== null) throw new Error(`hie start exited ${child.exitCode}: ${output()}`);
      if (performance.now() - t0 > 300_000) throw new Error(`hie start not ready in 300 s: ${output()}`);
      await sleep(5);
    }
    const readyMs = performance.now() - t0;
    await sleep(idleMs);
    // The demo listens on the fixed 2575: another process holding it makes the demo fail (noted).
    const demo = output().includes('FAILED') ? 'demo FAILED (port 2575 taken?)' : 'demo running';
    return { readyMs, rssMb: rssMb(child.pid!), demo };
  } finally {
    await stop(child);
  }
}

async function floor(): Promise<Sample> {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '']);
  const readyMs = performance.now() - t0;
  const { child } = launch(['-e', 'setInterval(() => {}, 1 << 30)'], {}, root);
  try {
    await sleep(Math.min(idleMs, 1000));
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs: number[], digits = 0) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${median(xs).toFixed(digits).padStart(6)} (${s[0].toFixed(digits)}–${s[s.length - 1].toFixed(digits)})`;
};

async function main() {
  // A fresh build, or `hie` would (rightly) fall back to the sources.
  const r = spawnSync(process.execPath, [path.join(root, 'tools/scripts/build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
  const rows = new Map<string, Sample[]>();
  const add = (name: string, s: Sample) => rows.set(name, [...(rows.get(name) ?? []), s]);
  for (let i = 0; i < runs; i++) {
    add('floor: node -e (empty script)', await floor());
    for (const way of ['tsx', 'build'] as const) add(`hie run, store off (${way})`, await hieRun(way));
    for (const way of ['tsx', 'build'] as const) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hie-footprint-'));
      try {
        for (const [which, name] of [['first start', `hie start, first (initdb) (${way})`], ['restart', `hie start, embedded store (${way})`]]) {
          const s = await hieStart(way, path.join(dir, 'data'));
          add(name, s);
          if (s.demo !== 'demo running') console.log(`  note: round ${i + 1}, ${way} ${which}: ${s.demo}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    console.log(`round ${i + 1}/${runs} done`);
  }
  const floorRows = rows.get('floor: node -e (empty script)')!;
  const floorReady = median(floorRows.map((s) => s.readyMs));
  const floorRss = median(floorRows.map((s) => s.rssMb));
  console.log(`\nmedian (min–max) of ${runs} runs; ×floor = median / the floor's median; idle RSS after ${idleMs / 1000} s${values.portal ? '' : '; hie start with HIE_PORTAL=off'}`);
  console.log(`${'setup'.padEnd(36)} ${'ready ms'.padEnd(20)} ${'×floor'.padStart(7)}   ${'idle RSS MB'.padEnd(20)} ${'×floor'.padStart(7)}`);
  for (const [name, samples] of rows) {
    const ready = samples.map((s) => s.readyMs);
    const rss = samples.map((s) => s.rssMb);
    console.log(
      `${name.padEnd(36)} ${stats(ready).padEnd(20)} ${(median(ready) / floorReady).toFixed(1).padStart(6)}×   ${stats(rss).padEnd(20)} ${(median(rss) / floorRss).toFixed(1).padStart(6)}×`,
    );
  }
  const ratio = (cmd: string, pick: (s: Sample) => number) =>
    (median(rows.get(`${cmd} (build)`)!.map(pick)) / median(rows.get(`${cmd} (tsx)`)!.map(pick))).toFixed(2);
  console.log('\nbuild / tsx (median):');
  for (const cmd of ['hie run, store off', 'hie start, first (initdb)', 'hie start, embedded store']) console.log(`  ${cmd.padEnd(28)} ready ${ratio(cmd, (s) => s.readyMs)}×   RSS ${ratio(cmd, (s) => s.rssMb)}×`);
  console.log('targets: hie run ready ≤ 500 ms; idle RSS ≤ 120 MB (hie run, store off), ≤ 250 MB (hie start, embedded store)');
}

await main();
