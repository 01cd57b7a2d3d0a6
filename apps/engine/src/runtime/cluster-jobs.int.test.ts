/**
 * Cluster mode's retries as jobs (issue 11 point 4), on the real PostgreSQL store, real Redis
 * (own key prefix) and real sockets: an operation's retry is a delayed BullMQ job, so a node that
 * stops after scheduling it loses nothing: another node takes the job, re-reads the message by id
 * from the store and delivers it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredState } from '@hie/cluster';
import { MessageEnvelope } from '@hie/envelope';
import { localScope, openTestStore, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { capturedLog, freePort, testPolicy, until } from '../testing/helpers';
import { MllpDownstream } from '../testing/mllp-downstream';
import { manualServices, testItemTypes } from '../testing/test-items';
import { type ClusterJobs, createClusterJobs } from './cluster-jobs';
import type { ProductionEngine } from './production-engine';
import { StoreTracker } from './store-tracker';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const childScript = new URL('../testing/jobs-node-child.ts', import.meta.url).pathname;
const NAME = 'jobs';
const scope = localScope(NAME);
const hl7 = (id: string) => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;
const desired = (spec: object): DesiredState => ({ ...scope, production: NAME, version: 1, state: 'running', spec, updatedAt: Date.now() });

let db: TestStore;
let redis: Redis;
let prefix: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await openTestStore('postgres', { prefix: 'hie_test_jobs' });
  redis = new Redis(REDIS_URL);
}, 60_000);
afterAll(async () => {
  await redis?.quit();
  await db?.cleanup();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  manualServices.clear();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
});

/** One engine "node": its own engine and tracker on the shared store, its retries deferred to `jobs`. */
async function node(jobs: ClusterJobs, spec: { name: string; items: object[]; connections: object[] }): Promise<{ engine: ProductionEngine; tracker: StoreTracker }> {
  const { log } = capturedLog();
  const tracker = StoreTracker.forProduction(db.store.messages, { ...scope, production: NAME }, 'full', log);
  const { engine } = createEngine({ log, tracker, plugins: testItemTypes, policy: testPolicy(), deferRetry: jobs.deferRetryFor(desired(spec)) });
  await engine.apply(spec);
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await engine.stop();
    stopped = true;
    await tracker.close();
  });
  return { engine, tracker };
}

function clusterJobs(): ClusterJobs {
  const jobs = createClusterJobs({ redis: REDIS_URL, prefix, log: capturedLog().log, messages: db.store.messages, lockDurationMs: 2000 });
  cleanups.push(() => jobs.stop());
  return jobs;
}

const production = (port: number, queueType: 'unordered' | 'fifo') => ({
  name: NAME,
  items: [
    { name: 'In', type: 'test.manual_in' },
    { name: 'Out', type: 'hl7.mllp.out', queue: { type: queueType }, settings: { port, reconnectDelayMs: 20, reconnectMaxDelayMs: 100 }, messaging: { retryDelayMs: 400 } },
  ],
  connections: [{ from: 'In', to: 'Out' }],
});

describe('cluster mode: retries of operations are jobs that outlive the node', () => {
  it('a retry scheduled on a node that then stops is delivered by another node, re-read by id from the store', { timeout: 60_000 }, async () => {
    prefix = `test-${randomUUID()}`;
    const downstream = new MllpDownstream(await freePort());
    cleanups.push(() => downstream.down());
    const spec = production(downstream.port, 'unordered');
    // Node A schedules but runs no jobs (its worker is as good as dead).
    const jobsA = clusterJobs();
    const a = await node(jobsA, spec);
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('J1'), { source: 'In' }), { wait: 'stored' });
    await until(async () => (await jobsA.queue.list(scope.projectId)).some((j) => j.kind === 'retry' && j.state === 'delayed'), 15_000);
    const [job] = await jobsA.queue.list(scope.projectId);
    expect(job).toMatchObject({ kind: 'retry', item: 'Out', attempt: 1 });
    await a.tracker.flush();
    await a.engine.stop(); // node A goes away holding nothing: the retry is in Redis
    expect(a.engine.status().items.find((i) => i.name === 'Out')).toBeUndefined();

    await downstream.up();
    const jobsB = clusterJobs();
    const b = await node(jobsB, spec);
    await jobsB.start({ engine: (projectId) => (projectId === scope.projectId ? b.engine : undefined), retentionTargets: () => [] });
    await until(() => downstream.received.includes('J1'), 20_000);
    let status = '';
    await until(async () => {
      await b.tracker.flush();
      const m = (await db.store.messages.search(scope.projectId, { controlId: 'J1' })).items[0];
      status = m?.finishedAt ? m.status : '';
      return status !== '';
    }, 15_000);
    expect(status).toBe('delivered');
    expect(downstream.received).toEqual(['J1']);
    const m = (await db.store.messages.search(scope.projectId, { controlId: 'J1' })).items[0];
    const events = (await db.store.messages.trace(scope.projectId, m.id)).map((e) => e.event);
    expect(events).toContain('delivered');
    expect(events.at(-1)).toBe('completed');
    await until(async () => (await jobsB.queue.list(scope.projectId)).length === 0);
  });

  it('a retry survives kill -9 of the node process that scheduled it (and held a Worker): a live node delivers it', { timeout: 90_000 }, async () => {
    prefix = `test-${randomUUID()}`;
    const downstream = new MllpDownstream(await freePort());
    cleanups.push(() => downstream.down());
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', childScript, db.databaseUrl!, REDIS_URL, prefix, String(downstream.port), scope.projectId, scope.workspaceId, 'K9'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.kill('SIGKILL');
        await gone;
      }
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await until(() => out.includes('scheduled') || child.exitCode !== null, 60_000);
    expect(child.exitCode).toBeNull();
    const jobId = /scheduled (\S+)/.exec(out)![1];
    const exited = once(child, 'exit');
    child.kill('SIGKILL'); // the node dies before the retry is due
    await exited;

    await downstream.up();
    const jobs = clusterJobs();
    // Still in Redis after the node's death (due by now on a slow machine, but never run: no worker was alive).
    expect(['delayed', 'waiting']).toContain(await jobs.queue.stateOf(jobId));
    const b = await node(jobs, production(downstream.port, 'unordered'));
    await jobs.start({ engine: (projectId) => (projectId === scope.projectId ? b.engine : undefined), retentionTargets: () => [] });
    await until(() => downstream.received.includes('K9'), 30_000);
    expect(downstream.received).toEqual(['K9']);
    await until(async () => {
      await b.tracker.flush();
      const m = (await db.store.messages.search(scope.projectId, { controlId: 'K9' })).items[0];
      return m?.status === 'delivered' && m.finishedAt !== null;
    }, 15_000);
  });

  it('a fifo operation keeps its retrying head in memory (order per patient): no job', { timeout: 30_000 }, async () => {
    prefix = `test-${randomUUID()}`;
    const downstream = new MllpDownstream(await freePort()); // down for now
    cleanups.push(() => downstream.down());
    const jobs = clusterJobs();
    const n = await node(jobs, production(downstream.port, 'fifo'));
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('F1'), { source: 'In' }), { wait: 'stored' });
    await until(async () => {
      await n.tracker.flush();
      const m = (await db.store.messages.search(scope.projectId, { controlId: 'F1' })).items[0];
      return !!m && (await db.store.messages.trace(scope.projectId, m.id)).some((e) => e.detail?.retry === true);
    }, 15_000);
    expect(await jobs.queue.list(scope.projectId)).toEqual([]);
    await downstream.up();
    await until(() => downstream.received.includes('F1'), 15_000);
  });

  it('when the job cannot be scheduled (Redis down), the retry stays in memory: the message is delivered, not dropped', { timeout: 30_000 }, async () => {
    prefix = `test-${randomUUID()}`;
    const downstream = new MllpDownstream(await freePort());
    cleanups.push(() => downstream.down());
    const { log } = capturedLog();
    const tracker = StoreTracker.forProduction(db.store.messages, { ...scope, production: NAME }, 'full', log);
    let refused = 0;
    const deferRetry = async () => {
      refused++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    };
    const { engine } = createEngine({ log, tracker, plugins: testItemTypes, policy: testPolicy(), deferRetry });
    cleanups.push(async () => {
      await engine.stop();
      await tracker.close();
    });
    await engine.apply(production(downstream.port, 'unordered'));
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('R1'), { source: 'In' }), { wait: 'stored' });
    await until(() => refused > 0, 15_000);
    await downstream.up();
    await until(() => downstream.received.includes('R1'), 15_000);
  });
});

describe('cluster mode: retention purges run once per cluster, on any node', () => {
  it('two nodes keep one timetable per project; its purge removes the project’s old messages, not another’s', { timeout: 60_000 }, async () => {
    prefix = `test-${randomUUID()}`;
    const writer = db.store.messages.writer();
    const old = Date.now() - 10 * 86_400_000;
    const enc = new TextEncoder();
    const ids = { mine: randomUUID(), recent: randomUUID(), other: randomUUID() };
    const other = localScope('someone-else');
    for (const [key, id] of Object.entries(ids)) {
      const owner = key === 'other' ? other : scope;
      await writer.received({
        id,
        production: NAME,
        ...owner,
        item: 'In',
        receivedAt: key === 'recent' ? Date.now() : old,
        contentType: 'application/hl7-v2+er7',
        header: {},
        raw: enc.encode(hl7(key)),
      });
    }
    await writer.close();
    const targets = () => [{ projectId: scope.projectId, production: NAME, retentionDays: 7 }];
    const make = () => {
      const jobs = createClusterJobs({ redis: REDIS_URL, prefix, log: capturedLog().log, messages: db.store.messages, retentionEveryMs: 500, syncEveryMs: 200 });
      cleanups.push(() => jobs.stop());
      return jobs;
    };
    const a = make();
    const b = make();
    await a.start({ engine: () => undefined, retentionTargets: targets });
    await b.start({ engine: () => undefined, retentionTargets: targets });
    await until(async () => (await db.store.messages.get(scope.projectId, ids.mine)) === undefined, 20_000);
    expect(await db.store.messages.get(scope.projectId, ids.recent)).toBeDefined();
    expect(await db.store.messages.get(other.projectId, ids.other)).toBeDefined();
    // Both nodes keep re-upserting it: still one timetable for the cluster.
    await new Promise((r) => setTimeout(r, 600));
    expect((await a.queue.list(scope.projectId)).filter((j) => j.state === 'scheduled')).toEqual([expect.objectContaining({ kind: 'retention', everyMs: 500 })]);
  });
});
