import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue, JobWorker, type PollJobData, type RetentionJobData } from './index';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const childScript = new URL('./testing/worker-child.ts', import.meta.url).pathname;

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start a JobWorker in its own process and wait until it takes jobs. */
async function startChild(prefix: string, mode = 'run', lockMs = 30_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, REDIS_URL, prefix, mode, String(lockMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  await until(() => out.includes('ready') || child.exitCode !== null);
  if (child.exitCode !== null) throw new Error(`worker child exited with ${child.exitCode}`);
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('@hie/jobs on real Redis', () => {
  let redis: Redis;
  let prefix: string;
  const children: ChildProcess[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await kill9(c);
    for (const c of closers.splice(0).reverse()) await c();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await redis.quit();
  });

  const fresh = () => {
    prefix = `test-${randomUUID()}`;
    const queue = new JobQueue({ redis: REDIS_URL, prefix });
    closers.push(() => queue.close());
    return queue;
  };
  const ran = async () => (await redis.lrange(`${prefix}:ran`, 0, -1)).map((s) => JSON.parse(s) as { kind: string; pid: number; jobId?: string; data: Record<string, unknown> });

  it('a delayed retry survives the death of the worker process that was up when it was scheduled', async () => {
    const queue = fresh();
    const first = await startChild(prefix);
    children.push(first);
    const id = await queue.scheduleRetry({ projectId: 'p1', item: 'out', messageId: 'm-1', rootId: 'm-1', attempt: 1, ownAttempt: 0 }, 1500);
    expect(await queue.stateOf(id)).toBe('delayed');
    await kill9(first); // dies before the delay is up
    await new Promise((r) => setTimeout(r, 1600));
    expect(await ran()).toEqual([]); // nobody ran it while no worker was alive
    const second = await startChild(prefix);
    children.push(second);
    await until(async () => (await ran()).length === 1);
    const [entry] = await ran();
    expect(entry.pid).toBe(second.pid);
    expect(entry.data).toMatchObject({ kind: 'retry', projectId: 'p1', item: 'out', messageId: 'm-1', attempt: 1 });
    await until(async () => (await queue.stateOf(id)) === undefined); // completed jobs are removed
  });

  it('a retry taken by a worker that is killed mid-job runs on another worker once its lock expires', async () => {
    const queue = fresh();
    const first = await startChild(prefix, 'hang', 1000);
    children.push(first);
    await queue.scheduleRetry({ projectId: 'p1', item: 'out', messageId: 'm-2', rootId: 'm-2', attempt: 2, ownAttempt: 0 }, 0);
    await until(async () => (await redis.llen(`${prefix}:taken`)) === 1);
    await kill9(first);
    const second = await startChild(prefix, 'run', 1000);
    children.push(second);
    await until(async () => (await ran()).length === 1, 30_000);
    expect((await ran())[0]).toMatchObject({ pid: second.pid, data: { messageId: 'm-2' } });
  });

  it('scheduling fails fast with jobs.unavailable when Redis does not answer (a caller can fall back)', async () => {
    prefix = `test-${randomUUID()}`;
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const dead = new JobQueue({ redis: `redis://127.0.0.1:${port}`, prefix });
    closers.push(() => dead.close());
    await expect(dead.scheduleRetry({ projectId: 'p1', item: 'out', messageId: 'm-x', rootId: 'm-x', attempt: 1, ownAttempt: 0 }, 1000, { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'jobs.unavailable',
    });
  });

  it('scheduling the same retry twice makes one job', async () => {
    const queue = fresh();
    const d = { projectId: 'p1', item: 'out', messageId: 'm-3', rootId: 'm-3', attempt: 1, ownAttempt: 0 };
    const a = await queue.scheduleRetry(d, 60_000);
    const b = await queue.scheduleRetry(d, 60_000);
    expect(b).toBe(a);
    expect((await queue.list('p1')).filter((j) => j.kind === 'retry')).toHaveLength(1);
  });

  it('a repeatable purge upserted by two nodes runs once per period across two workers', async () => {
    const queue = fresh();
    const other = new JobQueue({ redis: REDIS_URL, prefix }); // the second node's queue handle
    closers.push(() => other.close());
    const a = await startChild(prefix);
    const b = await startChild(prefix);
    children.push(a, b);
    const data: RetentionJobData = { kind: 'retention', projectId: 'p1', production: 'demo', retentionDays: 7 };
    const [idA, idB] = await Promise.all([queue.upsertRepeatable(data, 300), other.upsertRepeatable(data, 300)]);
    expect(idA).toBe(idB);
    // One timetable in Redis for the cluster, not one per node.
    expect((await queue.list('p1')).filter((j) => j.state === 'scheduled')).toHaveLength(1);
    expect(await queue.list('p2')).toEqual([]);
    await until(async () => (await ran()).filter((r) => r.kind === 'retention').length >= 6, 30_000);
    await queue.removeRepeatable(data);
    const runs = (await ran()).filter((r) => r.kind === 'retention');
    // Each period's job ran on exactly one worker: no job id twice (per-node timers would run each period on both).
    const ids = runs.map((r) => r.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(runs.every((r) => r.jobId?.startsWith(`repeat:${idA}:`))).toBe(true);
    expect(runs.every((r) => r.pid === a.pid || r.pid === b.pid)).toBe(true);
    expect((await queue.list('p1')).filter((j) => j.state === 'scheduled')).toHaveLength(0);
  });

  it('scheduled polls: one timetable per item, each run handed to the poll handler with its item', async () => {
    const queue = fresh();
    const polled: string[] = [];
    const worker = new JobWorker({
      redis: REDIS_URL,
      prefix,
      handlers: {
        poll: async (d) => {
          polled.push(d.item);
        },
      },
    });
    closers.push(() => worker.close());
    await worker.ready();
    const a: PollJobData = { kind: 'poll', projectId: 'p1', item: 'Files in' };
    const b: PollJobData = { kind: 'poll', projectId: 'p1', item: 'Lab in' };
    const [idA, idB] = [await queue.upsertRepeatable(a, 300), await queue.upsertRepeatable(b, 300)];
    expect(idA).not.toBe(idB);
    await until(() => polled.includes('Files in') && polled.includes('Lab in'));
    const scheduled = (await queue.list('p1')).filter((j) => j.state === 'scheduled');
    expect(scheduled.map((j) => [j.kind, j.item]).sort()).toEqual([
      ['poll', 'Files in'],
      ['poll', 'Lab in'],
    ]);
    // Upserting again unchanged keeps the timetable (a node re-syncing must not reset it).
    expect(await queue.upsertRepeatable(a, 300)).toBe(idA);
    expect((await queue.list('p1')).filter((j) => j.state === 'scheduled')).toHaveLength(2);
    await queue.removeRepeatable(a);
    await queue.removeRepeatable(b);
    expect((await queue.list('p1')).filter((j) => j.state === 'scheduled')).toEqual([]);
  });
});
