/**
 * `jobs.*` (issue 11 point 4) through the real HTTP tRPC client, on a real PostgreSQL store and a
 * real Redis (own key prefix): a project's scheduled, delayed and failed jobs, retry and remove,
 * scoped to the caller's project and role.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue, JobWorker } from '@hie/jobs';
import { errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-${randomUUID()}`;

let h: Harness;
let queue: JobQueue;
let worker: JobWorker;
let analyst: ApiClient;
let viewer: ApiClient;
let outsider: ApiClient;
let bob: ApiClient;
let projectId: string;
let otherProjectId: string;
/** Retry jobs of messages named here fail; others succeed. */
const failing = new Set<string>();
const ran: string[] = [];

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const retry = (project: string, messageId: string) => ({ projectId: project, item: 'Out', messageId, rootId: messageId, attempt: 1, ownAttempt: 0 });

beforeAll(async () => {
  queue = new JobQueue({ redis: REDIS_URL, prefix });
  h = await startHarness({ jobs: queue });
  let admin: ApiClient;
  let workspaceId: string;
  ({ admin, analyst, viewer, outsider, workspaceId } = await h.team('Jobs'));
  projectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'adt', spec: sampleSpec('adt') })).id;
  const otherWs = (await admin.api.workspaces.create.mutate({ name: 'Other trust' })).id;
  await h.user('bob', { workspaceId: otherWs, role: 'admin' });
  bob = await h.login('bob', 'bob-password');
  otherProjectId = (await bob.api.projects.create.mutate({ workspaceId: otherWs, name: 'adt', spec: sampleSpec('adt') })).id;
  worker = new JobWorker({
    redis: REDIS_URL,
    prefix,
    handlers: {
      retry: async (d) => {
        ran.push(d.messageId);
        if (failing.has(d.messageId)) throw new Error('downstream still down');
      },
      retention: async (d) => {
        ran.push(`retention ${d.projectId}`);
      },
    },
  });
  await worker.ready();
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await h?.close();
  await queue?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('jobs', () => {
  it('list: the project’s scheduled, delayed and failed jobs, never another project’s', async () => {
    const delayed = await queue.scheduleRetry(retry(projectId, 'm-delayed'), 3_600_000);
    await queue.scheduleRetry(retry(otherProjectId, 'm-other'), 3_600_000);
    failing.add('m-failed');
    const failed = await queue.scheduleRetry(retry(projectId, 'm-failed'), 0, { attempts: 1 });
    await until(async () => (await queue.stateOf(failed)) === 'failed');
    const scheduled = await queue.upsertRepeatable({ kind: 'retention', projectId, production: 'adt', retentionDays: 30 }, 3_600_000);
    // A schedule's first run is at once; the next one an hour later is what the list shows.
    await until(() => ran.includes(`retention ${projectId}`));
    await until(async () => (await queue.list(projectId)).every((j) => j.state !== 'waiting' && j.state !== 'active'));

    const { enabled, jobs } = await viewer.api.jobs.list.query({ projectId });
    expect(enabled).toBe(true);
    expect(jobs.map((j) => [j.id, j.kind, j.state]).sort()).toEqual(
      [
        [delayed, 'retry', 'delayed'],
        [failed, 'retry', 'failed'],
        [scheduled, 'retention', 'scheduled'],
      ].sort(),
    );
    expect(jobs.find((j) => j.id === failed)).toMatchObject({ messageId: 'm-failed', item: 'Out', failedReason: 'downstream still down', attemptsMade: 1 });
    expect(typeof jobs.find((j) => j.id === delayed)?.runAt).toBe('string');
    expect((await bob.api.jobs.list.query({ projectId: otherProjectId })).jobs.map((j) => j.messageId)).toEqual(['m-other']);
  });

  it('scoped: a non-member gets NOT_FOUND, a viewer FORBIDDEN, another workspace’s admin cannot reach the job through their own project', async () => {
    const id = await queue.scheduleRetry(retry(projectId, 'm-scope'), 3_600_000);
    expect(await errorCode(outsider.api.jobs.list.query({ projectId }))).toBe('NOT_FOUND');
    expect(await errorCode(bob.api.jobs.list.query({ projectId }))).toBe('NOT_FOUND');
    expect(await errorCode(bob.api.jobs.remove.mutate({ projectId, id }))).toBe('NOT_FOUND');
    // Through a project bob does hold: the job is not in it.
    expect(await errorCode(bob.api.jobs.remove.mutate({ projectId: otherProjectId, id }))).toBe('NOT_FOUND');
    expect(await errorCode(bob.api.jobs.retry.mutate({ projectId: otherProjectId, id }))).toBe('NOT_FOUND');
    expect(await errorCode(viewer.api.jobs.retry.mutate({ projectId, id }))).toBe('FORBIDDEN');
    expect(await errorCode(viewer.api.jobs.remove.mutate({ projectId, id }))).toBe('FORBIDDEN');
    expect(await queue.stateOf(id)).toBe('delayed');
  });

  it('retry runs a failed job again (and a delayed one now); remove drops a job and a schedule; both are audited', async () => {
    failing.add('m-again');
    const failed = await queue.scheduleRetry(retry(projectId, 'm-again'), 0, { attempts: 1 });
    await until(async () => (await queue.stateOf(failed)) === 'failed');
    failing.delete('m-again'); // the downstream is back
    await analyst.api.jobs.retry.mutate({ projectId, id: failed });
    await until(async () => (await queue.stateOf(failed)) === undefined); // completed, removed
    expect(ran.filter((m) => m === 'm-again')).toHaveLength(2);

    const later = await queue.scheduleRetry(retry(projectId, 'm-later'), 3_600_000);
    await analyst.api.jobs.retry.mutate({ projectId, id: later });
    await until(() => ran.includes('m-later'));

    const gone = await queue.scheduleRetry(retry(projectId, 'm-gone'), 3_600_000);
    await analyst.api.jobs.remove.mutate({ projectId, id: gone });
    expect(await queue.stateOf(gone)).toBeUndefined();
    const scheduled = (await analyst.api.jobs.list.query({ projectId })).jobs.find((j) => j.state === 'scheduled')!;
    await analyst.api.jobs.remove.mutate({ projectId, id: scheduled.id });
    expect((await analyst.api.jobs.list.query({ projectId })).jobs.some((j) => j.state === 'scheduled')).toBe(false);
    expect(await errorCode(analyst.api.jobs.remove.mutate({ projectId, id: gone }))).toBe('NOT_FOUND');

    expect((await h.store.audit.query({ action: 'job.retry' })).items.map((e) => e.entityId)).toEqual(expect.arrayContaining([failed, later]));
    expect((await h.store.audit.query({ action: 'job.remove' })).items.map((e) => e.entityId)).toEqual(expect.arrayContaining([gone, scheduled.id]));
  });
});
