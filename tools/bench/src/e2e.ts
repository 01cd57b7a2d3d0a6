/**
 * End-to-end MLLP benchmark (not a test). In one run, side by side:
 *   1. ceiling: 32 connections → a bare Node MLLP ACK server (tools/bench/src/mllp-sink.ts)
 *   2. hie run: 32 connections → MLLP in → hl7.router → MLLP out → the same bare sink
 *   3. the same with the router in multiprocess mode (2 worker threads)
 *   4. a CPU-heavy hl7.transform (full parse + 50 field operations) instead of the router, async
 *      and multiprocess (2 worker threads)
 * then p50/p99 at half of each maximum rate (open loop), and the goals' ratios (issue 15).
 * With --store: a hand-written relay doing one INSERT per message (tools/bench/src/relay-insert.ts),
 * then `hie run` with the store off and on (PostgreSQL, ACK after commit), as ratios to both.
 *   npx tsx tools/bench/src/e2e.ts [--seconds 8] [--connections 32] [--window 1]
 *     [--cases async,multiprocess,heavy-async,heavy-multiprocess] [--profile <dir>]
 * window = frames in flight per connection (1 = classic MLLP: wait for each ACK).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { openTestStore } from '@hie/store';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mllpLoad, type LoadResult } from './mllp-load';
import { stopProcess as stop, waitPort } from './procs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    window: { type: 'string', default: '1' },
    store: { type: 'boolean', default: false },
    /** OpenTelemetry tracing off vs on (spans exported over OTLP/HTTP to a local receiver), same run. */
    tracing: { type: 'boolean', default: false },
    // --store: the writer pipelines (HIE_STORE_PIPELINES) of each store-on run, e.g. "1,4"
    pipelines: { type: 'string', default: '4' },
    /** Write a V8 CPU profile of each `hie run` into this folder (node --cpu-prof). */
    profile: { type: 'string' },
    /** Which `hie run` cases to measure (comma-separated); the ceiling always runs. */
    cases: { type: 'string', default: 'async,multiprocess,heavy-async,heavy-multiprocess' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const window = Number(values.window);
const root = new URL('../../../', import.meta.url).pathname;

function start(args: string[], ready: RegExp | null, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, HIE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready || ready.test(out)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)));
    if (!ready) resolve(child);
  });
}

async function sink(port: number) {
  return start(['--import', 'tsx', 'tools/bench/src/mllp-sink.ts', String(port)], /listening/);
}

/** The CPU-heavy transform: a full parse of the message, then 50 field operations (hl7.transform). */
export function heavyOperations(): Record<string, unknown>[] {
  const ops: Record<string, unknown>[] = [{ op: 'date', path: 'PID-7', from: 'YYYYMMDD', to: 'YYYY-MM-DD' }];
  for (let i = 0; ops.length < 50; i++) {
    ops.push(
      { op: 'set', path: `PID-${13 + i}`, value: `value ${i}` },
      { op: 'copy', from: 'PID-5.1', to: `PV1-${10 + i}` },
      { op: 'upper', path: `PID-5.${1 + (i % 3)}` },
      { op: 'map', path: 'PID-8', table: { M: 'M', F: 'F' }, default: 'U' },
      { op: 'lower', path: `PV1-${10 + i}` },
    );
  }
  return ops.slice(0, 50);
}

/** What `hie run` does between MLLP in and MLLP out: the light router, or the heavy transform. */
type Work = 'router' | 'transform';

async function hieRun(inPort: number, sinkPort: number, mode: 'async' | 'multiprocess', store?: { databaseUrl: string; pipelines: number }, work: Work = 'router', env: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hie-bench-'));
  const file = path.join(dir, 'production.json');
  const execution = mode === 'multiprocess' ? { mode, workers: 2 } : { mode: 'async', workers: 8 };
  const middle =
    work === 'router'
      ? {
          name: 'Route',
          type: 'hl7.router',
          settings: { rules: [{ name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['Out'] } }] },
          execution,
        }
      : { name: 'Route', type: 'hl7.transform', settings: { operations: heavyOperations() }, execution };
  await writeFile(
    file,
    JSON.stringify({
      name: 'bench',
      storage: store ? 'full' : 'none',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: inPort, ackMode: store ? 'after_store' : 'immediate' } },
        middle,
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: sinkPort, poolSize: 16 }, execution: { mode: 'async', workers: 16 } },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Out' },
      ],
    }),
  );
  const prof = values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile, `hie-${work}-${mode}${store ? '-store' : ''}`)] : [];
  const child = await start([...prof, 'bin/hie.mjs', 'run', file], null, { ...(store ? { DATABASE_URL: store.databaseUrl, HIE_STORE_PIPELINES: String(store.pipelines) } : { HIE_STORE: 'off' }), ...env });
  await waitPort(inPort);
  return child;
}

/**
 * CPU time used (user + system, µs) by the process under test, the sink and this load generator.
 * On a shared machine the rates move with the neighbours' load (and Linux's autogroup shares CPU
 * per session, so the bench's processes share one slice); CPU per message does not: it is what
 * the hot path costs.
 */
interface Cpu {
  server: number;
  sink: number;
  load: number;
}
let sinkPid: number | undefined;
const TICK_US = 10_000; // USER_HZ = 100 on Linux

function procCpu(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch (_e) {
    return NaN; // not Linux
  }
}

function cpuTimes(server: ChildProcess | undefined): Cpu | undefined {
  if (!server) return undefined;
  const own = process.cpuUsage();
  return { server: procCpu(server.pid), sink: procCpu(sinkPid), load: own.user + own.system };
}

function perMessage(a: Cpu | undefined, b: Cpu | undefined, messages: number): Cpu | undefined {
  if (!a || !b || messages === 0 || Number.isNaN(a.server)) return undefined;
  return { server: (b.server - a.server) / messages, sink: (b.sink - a.sink) / messages, load: (b.load - a.load) / messages };
}

const fmt = (r: LoadResult) => `${Math.round(r.rate).toLocaleString('en').padStart(8)} msg/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (nacks ${r.nacked})`;

async function main() {
  // Below Linux's ephemeral range (32768–60999): outgoing connections never hold these ports.
  const base = 10000 + Math.floor(Math.random() * 20000);
  const sinkPort = base;
  const echoPort = base + 1;
  const rows: { name: string; max: LoadResult; half: LoadResult; cpu?: Cpu }[] = [];

  const measure = async (name: string, port: number, server?: ChildProcess) => {
    await mllpLoad({ port, connections, seconds: 2, window }); // warm-up
    const before = cpuTimes(server);
    const max = await mllpLoad({ port, connections, seconds, window });
    const cpu = perMessage(before, cpuTimes(server), max.acked);
    const half = await mllpLoad({ port, connections, seconds, ratePerSec: max.rate / 2 });
    rows.push({ name, max, half, cpu });
    console.log(`${name.padEnd(34)} max ${fmt(max)}\n${''.padEnd(34)} @50% ${fmt(half)}`);
    if (cpu) console.log(`${''.padEnd(34)} CPU per message at max: ${cpu.server.toFixed(0)} µs server, ${cpu.sink.toFixed(0)} µs sink, ${cpu.load.toFixed(0)} µs load generator`);
  };

  const sinkProc = await sink(sinkPort);
  sinkPid = sinkProc.pid;
  const echoProc = await sink(echoPort);
  if (values.tracing) {
    await stop(echoProc);
    try {
      await tracingRuns(base, sinkPort, measure);
    } finally {
      await stop(sinkProc);
    }
    const off = rows.find((r) => r.name.includes('tracing off'))!;
    const on = rows.find((r) => r.name.includes('tracing on'))!;
    console.log(`\n${connections} connections, window ${window}, ${seconds}s per run, ${os.availableParallelism()} CPUs`);
    console.log(`tracing on / off: ${(on.max.rate / off.max.rate).toFixed(2)}× throughput, p99@50% ${on.half.p99.toFixed(2)} vs ${off.half.p99.toFixed(2)} ms`);
    if (on.cpu && off.cpu) console.log(`CPU per message: ${on.cpu.server.toFixed(0)} µs on vs ${off.cpu.server.toFixed(0)} µs off (${(on.cpu.server / off.cpu.server).toFixed(2)}×)`);
    return;
  }
  if (values.store) {
    // Store on PostgreSQL (synchronous_commit on, ACK after store) beside the store off, same run.
    const db = await openTestStore('postgres', { prefix: 'hie_bench' });
    try {
      await stop(echoProc);
      const relayPort = base + 6;
      const relay = await start(['--import', 'tsx', 'tools/bench/src/relay-insert.ts', String(relayPort), String(sinkPort), db.databaseUrl!], /listening/);
      try {
        await measure('relay + 1 INSERT/msg (pool 16)', relayPort);
      } finally {
        await stop(relay);
      }
      const pipelines = values.pipelines.split(',').map(Number);
      for (const [i, p] of [0, ...pipelines].entries()) {
        const inPort = base + 7 + i;
        const h = await hieRun(inPort, sinkPort, 'async', p > 0 ? { databaseUrl: db.databaseUrl!, pipelines: p } : undefined);
        try {
          await measure(p > 0 ? `hie run, store on, ${p} pipeline${p > 1 ? 's' : ''}` : 'hie run, store off', inPort);
        } finally {
          await stop(h);
        }
      }
      const client = new pg.Client({ connectionString: db.databaseUrl });
      await client.connect();
      const counted = await client.query<{ n: number }>('select count(*)::int as n from messages');
      await client.end();
      console.log(`\nmessages stored (and acknowledged after commit): ${counted.rows[0].n}`);
    } finally {
      await stop(sinkProc);
      await db.cleanup();
    }
    const [relayRow, off, ...ons] = rows;
    const on = ons.reduce((a, b) => (b.max.rate > a.max.rate ? b : a));
    console.log(`\n${connections} connections, window ${window}, ${seconds}s per run, ${os.availableParallelism()} CPUs`);
    for (const r of rows) {
      console.log(`${r.name.padEnd(38)} ${(r.max.rate / relayRow.max.rate).toFixed(2)}× relay+INSERT   ${(r.max.rate / off.max.rate).toFixed(2)}× store-off   p99@50% ${r.half.p99.toFixed(2)} ms`);
    }
    console.log(`best store on (${on.name}): ${(on.max.rate / relayRow.max.rate).toFixed(2)}× relay+INSERT (goal ≥ 2), ${(on.max.rate / off.max.rate).toFixed(2)}× store-off (goal ≥ 0.5), p99@50% ${on.half.p99.toFixed(2)} ms (goal ≤ 20)`);
    return;
  }
  // The store-off cases, each a `hie run` of its own: the light router (the no-store hot path) and
  // the CPU-heavy transform, each on the event loop (`async`) and in 2 worker threads (`multiprocess`).
  const cases = [
    { key: 'async', name: 'hie run (router async)', work: 'router', mode: 'async' },
    { key: 'multiprocess', name: 'hie run (router multiprocess)', work: 'router', mode: 'multiprocess' },
    { key: 'heavy-async', name: 'hie run (transform async)', work: 'transform', mode: 'async' },
    { key: 'heavy-multiprocess', name: 'hie run (transform multiprocess)', work: 'transform', mode: 'multiprocess' },
  ] as const;
  const wanted = values.cases.split(',');
  try {
    await measure('ceiling: bare Node MLLP echo', echoPort, echoProc);
    await stop(echoProc);
    for (const [i, c] of cases.entries()) {
      if (!wanted.includes(c.key)) continue;
      const inPort = base + 10 + i;
      const h = await hieRun(inPort, sinkPort, c.mode, undefined, c.work);
      try {
        await measure(c.name, inPort, h);
      } finally {
        await stop(h);
      }
    }
  } finally {
    await stop(sinkProc);
    await stop(echoProc);
  }
  const ceiling = rows[0].max.rate;
  console.log(`\n${connections} connections, window ${window}, ${seconds}s per run, ${os.availableParallelism()} CPUs`);
  for (const r of rows) {
    const cpu = r.cpu ? `   CPU/msg ${r.cpu.server.toFixed(0)} µs (+ sink ${r.cpu.sink.toFixed(0)}, load ${r.cpu.load.toFixed(0)})` : '';
    console.log(`${r.name.padEnd(34)} ${(r.max.rate / ceiling).toFixed(2)}× ceiling   p99@50% ${r.half.p99.toFixed(2)} ms${cpu}`);
  }
  const rate = (name: string) => rows.find((r) => r.name === name)?.max.rate;
  const ratio = (what: string, a: string, b: string, goal: number) => {
    const x = rate(a);
    const y = rate(b);
    if (x !== undefined && y !== undefined) console.log(`${what.padEnd(34)} ${(x / y).toFixed(2)}×   (goal ≥ ${goal}×)`);
  };
  ratio('store off / ceiling', 'hie run (router async)', 'ceiling: bare Node MLLP echo', 0.3);
  ratio('light: multiprocess / async', 'hie run (router multiprocess)', 'hie run (router async)', 0.9);
  ratio('heavy: multiprocess / async', 'hie run (transform multiprocess)', 'hie run (transform async)', 1.6);
}

/**
 * --tracing: `hie run` (router, async) with tracing off, then on with every span exported over
 * OTLP/HTTP to a receiver in this process (which only counts what it gets), same load.
 */
async function tracingRuns(base: number, sinkPort: number, measure: (name: string, port: number, server?: ChildProcess) => Promise<void>) {
  let exports = 0;
  let bytes = 0;
  const receiver = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const otlp = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  try {
    for (const [i, on] of [false, true].entries()) {
      const inPort = base + 30 + i;
      const h = await hieRun(inPort, sinkPort, 'async', undefined, 'router', on ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_SERVICE_NAME: 'hie-bench' } : {});
      try {
        await measure(`hie run (router async, tracing ${on ? 'on' : 'off'})`, inPort, h);
      } finally {
        await stop(h);
      }
    }
  } finally {
    await new Promise<void>((r) => receiver.close(() => r()));
  }
  console.log(`OTLP receiver: ${exports} exports, ${(bytes / 1e6).toFixed(1)} MB of spans`);
}

await main();
