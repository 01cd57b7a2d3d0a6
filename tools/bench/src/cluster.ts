/**
 * Cluster benchmark, part 1: the cost of a bus hop on one node (not a test). In one run, side by side:
 *   1. bare hand-off: envelopes delivered to an item that finishes each at once, through the
 *      in-process bus vs the Redis Streams bus (XADD, XREADGROUP, XACK: the full cycle, until
 *      nothing is pending), in this process;
 *   2. one engine node (a child process): MLLP in → hl7.router → MLLP out → a bare sink, on the
 *      in-process bus vs the Redis Streams bus (two hops through Redis per message). Throughput
 *      is what reaches the sink (the run ends once everything the listener ACKed got there), with
 *      the node's CPU time per message, and Redis's (INFO CPU: approximate, Redis is shared).
 *   npx tsx tools/bench/src/cluster.ts [--seconds 8] [--connections 32] [--messages 20000] [--runs 1]
 * The target is a hop costing ≤ 25% of single-node throughput: Redis-bus node ≥ 0.75× in-process.
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379); keys under `bench-<uuid>:`, deleted after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { type Bus, InProcessBus, RedisStreamsBus } from '@hie/bus';
import { MessageEnvelope } from '@hie/envelope';
import { mllpLoad } from './mllp-load';
import { freePort, stopProcess as stop } from './procs';

const { values } = parseArgs({
  strict: false, // part 2 (cluster-scale.ts) takes --nodes
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    messages: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const messages = Number(values.messages);
const runs = Number(values.runs);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const root = new URL('../../../', import.meta.url).pathname;
const prefix = `bench-${randomUUID()}`;
const admin = new Redis(redisUrl);

const adt = (i: number) =>
  `MSH|^~\\&|BENCH|HOSP|HIE|HIE|20240101120000||ADT^A01^ADT_A01|M${i}|P|2.5\rEVN|A01|20240101120000\rPID|1||P${i % 997}^^^MRN^MR||DOE^JOHN^Q||19700101|M|||1 MAIN ST^^TOWN^ST^12345\rPV1|1|I|W^389^1\r`;

// ── 1. bare hand-off ──────────────────────────────────────────────────────────────────────

interface Rate {
  rate: number;
  /** CPU time of this process per message (µs). */
  cpuUs: number;
}

async function handOff(bus: Bus, n: number, concurrency: number, settled: () => Promise<void>): Promise<Rate> {
  const envelopes = Array.from({ length: n }, (_, i) => MessageEnvelope.createHl7(adt(i), { source: 'bench' }));
  let finished = 0;
  let allFinished!: () => void;
  const done = new Promise<void>((r) => (allFinished = r));
  const unregister = bus.register('target', {
    accept: async (_envelope, reply) => {
      reply?.({});
      if (++finished === n) allFinished();
    },
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await bus.deliver('target', envelopes[next++]);
    }),
  );
  await done;
  await settled();
  const rate = (n * 1000) / (performance.now() - t0);
  const cpu = process.cpuUsage(cpu0);
  unregister();
  return { rate, cpuUs: (cpu.user + cpu.system) / n };
}

async function pending(key: string): Promise<number> {
  return Number(((await admin.call('XPENDING', key, 'hie')) as [number])[0]);
}

async function bareHandOff(run: number): Promise<{ inProcess: Rate; redis: Rate }> {
  const inProcess = new InProcessBus();
  const inRate = await handOff(inProcess, messages, 64, async () => undefined);
  await inProcess.close();
  const bus = new RedisStreamsBus({ redis: redisUrl, prefix: `${prefix}:bare${run}`, nodeId: 'bench', blockMs: 100 });
  bus.configureItem('target', { ordered: false });
  const key = bus.streamKey('target', 0);
  const redisRate = await handOff(bus, messages, 64, async () => {
    while ((await pending(key)) > 0) await new Promise((r) => setTimeout(r, 2));
  });
  await bus.close();
  return { inProcess: inRate, redis: redisRate };
}

// ── 2. one engine node ────────────────────────────────────────────────────────────────────

function child(args: string[]): Promise<{ proc: ChildProcess; ask(q: string, prefix: string): Promise<number> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...process.env, HIE_LOG_LEVEL: 'warn' }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waiters: { prefix: string; resolve: (n: number) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiters.splice(w, 1)[0].resolve(Number(line.slice(line.indexOf(' ') + 1)));
    }
  });
  const ask = (q: string, prefix: string) =>
    new Promise<number>((resolve) => {
      waiters.push({ prefix, resolve });
      if (q) proc.stdin!.write(`${q}\n`);
    });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
    void ask('', args.some((a) => a.endsWith('mllp-sink.ts')) ? 'listening' : 'ready').then(() => resolve({ proc, ask }));
  });
}

async function redisCpuMicros(): Promise<number> {
  const info = await admin.info('cpu');
  const num = (k: string) => Number(info.match(new RegExp(`${k}:([\\d.]+)`))?.[1] ?? 0);
  return (num('used_cpu_sys') + num('used_cpu_user')) * 1e6;
}

interface NodeResult {
  rate: number;
  delivered: number;
  nodeCpuUs: number;
  redisCpuUs: number;
}

async function engineNode(bus: 'inprocess' | 'redis', run: number): Promise<NodeResult> {
  const sinkPort = await freePort();
  const inPort = await freePort();
  const sink = await child(['tools/bench/src/mllp-sink.ts', String(sinkPort)]);
  const node = await child(['tools/bench/src/cluster-node.ts', '--bus', bus, '--in', String(inPort), '--sink', String(sinkPort), '--prefix', `${prefix}:node${run}`]);
  try {
    const settle = async () => {
      // until the sink stops receiving: every message the listener ACKed has arrived
      let last = -1;
      for (;;) {
        const n = await sink.ask('count', 'count');
        if (n === last) return n;
        last = n;
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    await mllpLoad({ port: inPort, connections, seconds: 2 }); // warm-up
    const c0 = await settle();
    const cpu0 = await node.ask('cpu', 'cpu');
    const r0 = await redisCpuMicros();
    const t0 = performance.now();
    const load = await mllpLoad({ port: inPort, connections, seconds });
    const c1 = await settle();
    const elapsed = (performance.now() - t0 - 300) / 1000; // the last idle look does not count
    const delivered = c1 - c0;
    if (process.env['BENCH_DEBUG']) console.log(`  ${bus}: acked ${load.acked} at ${Math.round(load.rate)}/s, delivered ${delivered} in ${elapsed.toFixed(1)} s`);
    if (delivered < load.acked) console.warn(`  ${bus}: only ${delivered} of ${load.acked} ACKed messages reached the sink`);
    const cpu1 = await node.ask('cpu', 'cpu');
    const r1 = await redisCpuMicros();
    return { rate: delivered / elapsed, delivered, nodeCpuUs: (cpu1 - cpu0) / delivered, redisCpuUs: (r1 - r0) / delivered };
  } finally {
    await stop(node.proc);
    await stop(sink.proc);
  }
}

async function cleanup(): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await admin.del(...keys);
  } while (cursor !== '0');
}

async function main() {
  console.log(`${os.availableParallelism()} CPUs; ${messages} envelopes per hand-off run; node runs: ${connections} MLLP connections, ${seconds}s`);
  try {
    for (let run = 1; run <= runs; run++) {
      const bare = await bareHandOff(run);
      const rate = (r: Rate) => `${Math.round(r.rate).toLocaleString('en').padStart(9)} msg/s (${r.cpuUs.toFixed(1)} µs CPU/msg)`;
      console.log(`run ${run}  bare hand-off   in-process ${rate(bare.inProcess)}   Redis Streams ${rate(bare.redis)}   ratio ${(bare.redis.rate / bare.inProcess.rate).toFixed(3)}×`);
      const inp = await engineNode('inprocess', run);
      const red = await engineNode('redis', run);
      const fmt = (r: NodeResult) => `${Math.round(r.rate).toLocaleString('en').padStart(7)} msg/s (node ${Math.round(r.nodeCpuUs)} µs CPU/msg, redis ${Math.round(r.redisCpuUs)} µs)`;
      console.log(`run ${run}  one node        in-process ${fmt(inp)}   Redis Streams ${fmt(red)}   ratio ${(red.rate / inp.rate).toFixed(2)}× (hop cost ${Math.round((1 - red.rate / inp.rate) * 100)}%)`);
    }
  } finally {
    await cleanup();
    await admin.quit();
  }
}

await main();
