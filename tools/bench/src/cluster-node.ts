/**
 * One engine node for the cluster benchmark (a child process of cluster.ts): MLLP in →
 * hl7.router → MLLP out to the bench's sink, on the in-process bus or the Redis Streams bus.
 *   node --import tsx tools/bench/src/cluster-node.ts --bus inprocess|redis --in <port> --sink <port> [--prefix p --node n]
 * Prints `ready` once listening; answers `cpu` on stdin with `cpu <µs of CPU used so far>`.
 * The router has 32 async workers (--workers): on the Redis bus each of its hand-offs waits one
 * round trip to Redis (the XADD must be durable before the input is acknowledged), so a few
 * workers would measure that latency instead of the CPU cost; both buses get the same setting.
 */
import { parseArgs } from 'node:util';
import { RedisStreamsBus } from '@hie/bus';
import { createEngine } from '@hie/engine';

const { values } = parseArgs({
  options: {
    bus: { type: 'string', default: 'inprocess' },
    in: { type: 'string' },
    sink: { type: 'string' },
    prefix: { type: 'string', default: `bench-${process.pid}:bus` },
    node: { type: 'string', default: `bench-${process.pid}` },
    workers: { type: 'string', default: '32' },
  },
});
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const bus = values.bus === 'redis' ? new RedisStreamsBus({ redis: redisUrl, prefix: values.prefix, nodeId: values.node }) : undefined;
const { engine } = createEngine({ bus, logLevel: 'warn' });
const workers = Number(values.workers);
const spec = engine.validate({
  name: 'bench',
  storage: 'none',
  items: [
    { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: Number(values.in), ackMode: 'immediate' } },
    {
      name: 'Route',
      type: 'hl7.router',
      settings: { rules: [{ name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['Out'] } }] },
      execution: { mode: 'async', workers },
    },
    {
      name: 'Out',
      type: 'hl7.mllp.out',
      settings: { port: Number(values.sink), poolSize: 16 },
      execution: { mode: 'async', workers: 16 },
    },
  ],
  connections: [
    { from: 'In', to: 'Route' },
    { from: 'Route', to: 'Out' },
  ],
});
await engine.apply(spec);
process.stdout.write('ready\n');
process.stdin.on('data', (d: Buffer) => {
  if (d.toString().includes('cpu')) {
    const u = process.cpuUsage();
    process.stdout.write(`cpu ${u.user + u.system}\n`);
  }
});
process.on('SIGTERM', () => {
  void (async () => {
    await engine.stop();
    await bus?.close();
    process.exit(0);
  })();
});
