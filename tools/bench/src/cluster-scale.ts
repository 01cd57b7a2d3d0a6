/**
 * Cluster benchmark, part 2 (not a test): the same MLLP load over 1, 2 and 3 `hie engine` nodes,
 * in one run, on a private etcd, a fresh PostgreSQL database and a Redis key prefix of its own.
 * MLLP in (a singleton: one node) → hl7.router → MLLP out → a bare sink; hand-offs over Redis
 * Streams, so the router and the sender run on every node. Each node count gets a fresh cluster
 * (prefix) and deployment. Printed: msg/s reaching the sink, the ratio to one node, and CPU time
 * per message of all the nodes together (from /proc), which is what scaling costs: on this 2-core
 * machine the nodes share the cores, so more nodes cannot add throughput; on N machines the
 * per-node CPU is what each machine would spend.
 *   npx tsx tools/bench/src/cluster-scale.ts [--nodes 1,2,3] [--seconds 8] [--connections 32]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { EtcdCoordinator, startEtcd } from '@hie/cluster';
import { openTestStore } from '@hie/store';
import { mllpLoad } from './mllp-load';
import { freePort, stopProcess as stop, waitPort } from './procs';

const { values } = parseArgs({
  strict: false, // `npm run bench -- cluster` hands part 1's options here too
  options: {
    nodes: { type: 'string', default: '1,2,3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const nodeCounts = String(values.nodes);
const root = new URL('../../../', import.meta.url).pathname;
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const TICK = 1_000_000 / 100; // µs per clock tick (USER_HZ = 100 on Linux)

/** CPU (user + system, µs) a process has used, from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK;
}

function sinkProcess(port: number): Promise<{ proc: ChildProcess; count(): Promise<number> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'tools/bench/src/mllp-sink.ts', String(port)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waiters: ((n: number) => void)[] = [];
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.includes('listening')) ready();
      if (line.startsWith('count ')) waiters.shift()?.(Number(line.slice(6)));
    }
  });
  const count = () =>
    new Promise<number>((resolve) => {
      waiters.push(resolve);
      proc.stdin!.write('count\n');
    });
  return listening.then(() => ({ proc, count }));
}

interface Result {
  nodes: number;
  rate: number;
  cpuUs: number;
}

async function measure(nodeCount: number, databaseUrl: string, etcdEndpoint: string): Promise<Result> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const [inPort, sinkPort] = [await freePort(), await freePort()];
  const sink = await sinkProcess(sinkPort);
  const env = {
    ...process.env,
    HIE_LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ETCD_ENDPOINTS: etcdEndpoint,
    HIE_CLUSTER_PREFIX: prefix,
    HIE_SECRET_KEY: 'b'.repeat(64),
    HIE_DEMO: '0',
  };
  const control = new EtcdCoordinator({ endpoints: [etcdEndpoint], prefix });
  await control.start();
  const nodes: ChildProcess[] = [];
  try {
    for (let i = 1; i <= nodeCount; i++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hie-bench-node-'));
      nodes.push(spawn(process.execPath, ['bin/hie.mjs', 'engine'], { cwd: root, env: { ...env, HIE_NODE_ID: `n${i}`, HIE_DATA_DIR: dataDir }, stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    for (let t = Date.now(); (await control.listNodes()).length < nodeCount; ) {
      if (Date.now() - t > 120_000) throw new Error(`only ${(await control.listNodes()).length} of ${nodeCount} nodes joined`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await control.setDesired({
      projectId: randomUUID(),
      workspaceId: randomUUID(),
      production: 'bench',
      version: 1,
      state: 'running',
      updatedAt: Date.now(),
      spec: {
        name: 'bench',
        items: [
          { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: inPort, ackMode: 'after_store' } },
          {
            name: 'Route',
            type: 'hl7.router',
            settings: { rules: [{ name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['Out'] } }] },
            execution: { mode: 'async', workers: 32 },
          },
          { name: 'Out', type: 'hl7.mllp.out', settings: { port: sinkPort, poolSize: 16 }, execution: { mode: 'async', workers: 16 } },
        ],
        connections: [
          { from: 'In', to: 'Route' },
          { from: 'Route', to: 'Out' },
        ],
      },
    });
    await waitPort(inPort, 60_000);
    const settle = async () => {
      let last = -1;
      for (;;) {
        const n = await sink.count();
        if (n === last) return n;
        last = n;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await mllpLoad({ port: inPort, connections, seconds: 2 }); // warm-up
    const c0 = await settle();
    const cpu0 = nodes.reduce((s, p) => s + cpuOf(p.pid!), 0);
    const t0 = performance.now();
    const load = await mllpLoad({ port: inPort, connections, seconds });
    const c1 = await settle();
    const elapsed = (performance.now() - t0 - 500) / 1000;
    const cpu1 = nodes.reduce((s, p) => s + cpuOf(p.pid!), 0);
    const delivered = c1 - c0;
    if (delivered < load.acked) console.warn(`  ${nodeCount} node(s): only ${delivered} of ${load.acked} ACKed messages reached the sink`);
    return { nodes: nodeCount, rate: delivered / elapsed, cpuUs: (cpu1 - cpu0) / Math.max(1, delivered) };
  } finally {
    await Promise.all(nodes.map(stop));
    await stop(sink.proc);
    await control.close();
    const redis = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
}

async function main() {
  const counts = nodeCounts.split(',').map(Number);
  const etcd = await startEtcd();
  const db = await openTestStore('postgres', { prefix: 'hie_bench_cluster' });
  const results: Result[] = [];
  try {
    for (const n of counts) {
      const r = await measure(n, db.databaseUrl!, etcd.endpoint);
      results.push(r);
      console.log(`${n} engine node(s): ${Math.round(r.rate).toLocaleString('en').padStart(7)} msg/s delivered, ${Math.round(r.cpuUs)} µs CPU/msg over all nodes`);
    }
  } finally {
    await db.cleanup();
    await etcd.stop();
  }
  const one = results[0]!;
  console.log(`\n${os.availableParallelism()} CPUs, ${connections} MLLP connections, ${seconds}s, store on PostgreSQL (ACK after commit), Redis Streams hand-offs`);
  for (const r of results) console.log(`${r.nodes} node(s): ${(r.rate / one.rate).toFixed(2)}× one node's rate, CPU/msg ${(r.cpuUs / one.cpuUs).toFixed(2)}× one node's`);
}

await main();
