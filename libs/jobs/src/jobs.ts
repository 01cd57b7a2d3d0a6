import { createHash } from 'node:crypto';
import { type Job, type JobType, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** The BullMQ queue name under the cluster prefix: keys are `${prefix}:jobs:…`. */
const QUEUE = 'jobs';

/**
 * A failed operation delivery to try again later, on whichever node takes the job. The message
 * travels by id: `rootId` is the stored (raw-first) message; `envelope` (base64 of
 * `MessageEnvelope.toBytes()`) is carried only when the item's input is not that stored message
 * (a process transformed it), since only the received message is stored.
 */
export interface RetryJobData {
  kind: 'retry';
  projectId: string;
  item: string;
  messageId: string;
  rootId: string;
  /** Retries made so far against `messaging.retries`, and against the error's own limit. */
  attempt: number;
  ownAttempt: number;
  envelope?: string;
}

/** A purge of one project's messages older than its retention, once per cluster per period. */
export interface RetentionJobData {
  kind: 'retention';
  projectId: string;
  production: string;
  retentionDays: number;
}

/** A scheduled poll of one item (a poller run on a timetable, once per cluster). */
export interface PollJobData {
  kind: 'poll';
  projectId: string;
  item: string;
}

export type JobData = RetryJobData | RetentionJobData | PollJobData;
export type JobKind = JobData['kind'];

/** What the portal shows of a job. Never the message body. */
export interface JobView {
  id: string;
  kind: JobKind;
  /** `scheduled`: a repeatable job's timetable; the others are BullMQ job states. */
  state: 'scheduled' | 'delayed' | 'waiting' | 'active' | 'failed';
  projectId: string;
  item?: string;
  messageId?: string;
  attempt?: number;
  /** When it runs next (delayed, scheduled), epoch ms. */
  runAt?: number;
  /** Repeat period of a scheduled job, ms. */
  everyMs?: number;
  /** Runs of the job made so far (BullMQ attempts). */
  attemptsMade?: number;
  failedReason?: string;
  createdAt?: number;
}

/** Typed errors with a stable code, as elsewhere in HIE. */
export class JobsError extends Error {
  constructor(
    readonly code: 'jobs.not_found' | 'jobs.bad_state' | 'jobs.invalid' | 'jobs.unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'JobsError';
  }
}

export interface JobsOptions {
  /** A Redis URL or an ioredis client (a Worker's client must have `maxRetriesPerRequest: null`). */
  redis: string | Redis;
  /** Cluster key prefix (HIE_CLUSTER_PREFIX, tests a unique one). @defaultValue `hie` */
  prefix?: string;
  /** Connection errors (Redis down, reconnecting); the queue keeps trying. @defaultValue ignored */
  onError?: (err: Error) => void;
}

function connect(redis: string | Redis, role: 'queue' | 'worker'): { client: Redis; owned: boolean } {
  // A worker's blocking commands must wait for ever (`maxRetriesPerRequest: null`); a queue's
  // commands fail fast instead, so a caller can fall back (an engine retries in memory).
  if (typeof redis === 'string') return { client: new Redis(redis, { maxRetriesPerRequest: role === 'worker' ? null : 1 }), owned: true };
  return { client: redis, owned: false };
}

/** Reject with `jobs.unavailable` when Redis does not answer in `ms` (it may be down or starting). */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new JobsError('jobs.unavailable', `${what}: Redis did not answer in ${ms} ms`)), ms);
  });
  p.catch(() => undefined);
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A job id from its parts: deterministic (scheduling the same retry twice makes one job), no `:`. */
function idOf(kind: string, parts: unknown[]): string {
  return `${kind}-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;
}

/** Repeatable job ids: one per (kind, project, item) across the cluster. */
export function schedulerId(data: RetentionJobData | PollJobData): string {
  return idOf(data.kind, [data.projectId, data.kind === 'poll' ? data.item : '']);
}

/** How many jobs per state the listing reads (a project's view is filtered from these). */
const LIST_LIMIT = 1000;

/**
 * The cluster's job queue (BullMQ under `${prefix}:jobs`): adds delayed retries and repeatable
 * jobs, lists and acts on them per project. Any process may hold one (engine nodes schedule,
 * the manager lists); {@link JobWorker}s run the jobs.
 */
export class JobQueue {
  private readonly queue: Queue<JobData>;
  private readonly client: Redis;
  private readonly owned: boolean;

  constructor(opts: JobsOptions) {
    const { client, owned } = connect(opts.redis, 'queue');
    this.client = client;
    this.owned = owned;
    this.queue = new Queue<JobData>(QUEUE, { connection: client, prefix: opts.prefix ?? 'hie' });
    // Without a listener every reconnect attempt would be printed as an unhandled error.
    this.queue.on('error', (e) => opts.onError?.(e));
  }

  /**
   * A delayed retry. Once taken, a job that throws (its project not running on that node yet)
   * is tried again by BullMQ with backoff; after `attempts` it is `failed` for an operator.
   * Returns the job id; rejects with `jobs.unavailable` when Redis does not take it within
   * `timeoutMs` (default 5000).
   */
  async scheduleRetry(data: Omit<RetryJobData, 'kind'>, delayMs: number, opts: { attempts?: number; timeoutMs?: number } = {}): Promise<string> {
    const id = idOf('retry', [data.projectId, data.item, data.messageId, data.attempt, data.ownAttempt]);
    const added = this.queue.add(
      'retry',
      { kind: 'retry', ...data },
      {
        jobId: id,
        delay: Math.max(0, Math.round(delayMs)),
        attempts: opts.attempts ?? 10,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: false,
      },
    );
    const job = await bounded(added, opts.timeoutMs ?? 5000, 'scheduling a retry');
    return job.id ?? id;
  }

  /**
   * A repeatable job, once per cluster: every node may call this (it upserts one job scheduler
   * with one id), and each period's job runs on exactly one worker.
   */
  async upsertRepeatable(data: RetentionJobData | PollJobData, everyMs: number): Promise<string> {
    const id = schedulerId(data);
    // Unchanged: leave it be (nodes re-upsert periodically; the timetable must not be reset).
    const current = await this.queue.getJobScheduler(id);
    if (current && current.every === everyMs && JSON.stringify(current.template?.data) === JSON.stringify(data)) return id;
    await this.queue.upsertJobScheduler(id, { every: everyMs }, { name: data.kind, data, opts: { removeOnComplete: true, removeOnFail: 100 } });
    return id;
  }

  async removeRepeatable(data: RetentionJobData | PollJobData): Promise<boolean> {
    return this.queue.removeJobScheduler(schedulerId(data));
  }

  /** The project's scheduled (repeatable), delayed, waiting, active and failed jobs. */
  async list(projectId: string): Promise<JobView[]> {
    return bounded(this.listAll(projectId), 10_000, 'listing jobs');
  }

  private async listAll(projectId: string): Promise<JobView[]> {
    const out: JobView[] = [];
    for (const s of await this.queue.getJobSchedulers(0, LIST_LIMIT - 1, true)) {
      const data = s.template?.data as JobData | undefined;
      if (!data || data.projectId !== projectId) continue;
      out.push({
        id: s.key,
        kind: data.kind,
        state: 'scheduled',
        projectId,
        item: 'item' in data ? data.item : undefined,
        runAt: s.next,
        everyMs: s.every,
      });
    }
    const states: JobType[] = ['delayed', 'waiting', 'active', 'failed'];
    for (const state of states) {
      for (const job of await this.queue.getJobs(state, 0, LIST_LIMIT - 1, true)) {
        if (!job || job.data?.projectId !== projectId) continue;
        // A scheduler's next run is shown once, as its scheduled entry.
        if (state === 'delayed' && job.repeatJobKey) continue;
        out.push(viewOf(job as Job<JobData>, state as JobView['state']));
      }
    }
    return out;
  }

  private async jobOf(projectId: string, id: string): Promise<Job<JobData>> {
    const job = (await this.queue.getJob(id)) as Job<JobData> | undefined;
    // Another project's job is as absent as a missing one: ids never leak across tenants.
    if (!job || job.data?.projectId !== projectId) throw new JobsError('jobs.not_found', `no job ${id} in this project`);
    return job;
  }

  /** Run now: a failed job is retried, a delayed one promoted. */
  async retry(projectId: string, id: string): Promise<void> {
    await bounded(this.retryNow(projectId, id), 10_000, 'retrying a job');
  }

  private async retryNow(projectId: string, id: string): Promise<void> {
    const job = await this.jobOf(projectId, id);
    const state = await job.getState();
    if (state === 'failed') await job.retry('failed');
    else if (state === 'delayed') await job.promote();
    else throw new JobsError('jobs.bad_state', `job ${id} is ${state}: only failed or delayed jobs can be retried`);
  }

  /** Remove a job, or a scheduled (repeatable) job's timetable. */
  async remove(projectId: string, id: string): Promise<void> {
    await bounded(this.removeNow(projectId, id), 10_000, 'removing a job');
  }

  private async removeNow(projectId: string, id: string): Promise<void> {
    const scheduler = await this.queue.getJobScheduler(id);
    if (scheduler) {
      if ((scheduler.template?.data as JobData | undefined)?.projectId !== projectId) throw new JobsError('jobs.not_found', `no job ${id} in this project`);
      await this.queue.removeJobScheduler(id);
      return;
    }
    const job = await this.jobOf(projectId, id);
    if ((await job.getState()) === 'active') throw new JobsError('jobs.bad_state', `job ${id} is running: wait for it to finish`);
    await job.remove();
  }

  /** For tests: the job's state, `undefined` once it is gone. */
  async stateOf(id: string): Promise<string | undefined> {
    const job = await this.queue.getJob(id);
    return job ? job.getState() : undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
    if (this.owned) await this.client.quit().catch(() => undefined);
  }
}

function viewOf(job: Job<JobData>, state: JobView['state']): JobView {
  const d = job.data;
  return {
    id: job.id ?? '',
    kind: d.kind,
    state,
    projectId: d.projectId,
    item: 'item' in d ? d.item : undefined,
    messageId: d.kind === 'retry' ? d.messageId : undefined,
    attempt: d.kind === 'retry' ? d.attempt + d.ownAttempt : undefined,
    runAt: state === 'delayed' ? job.timestamp + (job.delay ?? 0) : undefined,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason || undefined,
    createdAt: job.timestamp,
  };
}

/** What a worker does with each kind of job. A handler that throws makes BullMQ retry the job. */
export interface JobHandlers {
  retry?: (data: RetryJobData, job: JobMeta) => Promise<void>;
  retention?: (data: RetentionJobData, job: JobMeta) => Promise<void>;
  poll?: (data: PollJobData, job: JobMeta) => Promise<void>;
}

/** Which job a handler runs (for logs). */
export interface JobMeta {
  jobId: string;
  /** Runs of this job before this one. */
  attemptsMade: number;
}

export interface JobWorkerOptions extends JobsOptions {
  handlers: JobHandlers;
  /** @defaultValue 4 */
  concurrency?: number;
  /**
   * How long a taken job stays locked to this worker without a renewal: after a worker's death
   * its active jobs go to another worker once this has passed (BullMQ's stalled check).
   * @defaultValue 30000
   */
  lockDurationMs?: number;
  onError?: (err: Error) => void;
}

/** Runs the cluster's jobs on this process (one per engine node). */
export class JobWorker {
  private readonly worker: Worker<JobData>;
  private readonly client: Redis;
  private readonly owned: boolean;

  constructor(opts: JobWorkerOptions) {
    const { client, owned } = connect(opts.redis, 'worker');
    this.client = client;
    this.owned = owned;
    const lockDuration = opts.lockDurationMs ?? 30_000;
    this.worker = new Worker<JobData>(
      QUEUE,
      async (job) => {
        const data = job.data;
        const handler = opts.handlers[data.kind] as ((d: JobData, meta: JobMeta) => Promise<void>) | undefined;
        if (!handler) throw new JobsError('jobs.invalid', `this node has no handler for ${data.kind} jobs`);
        await handler(data, { jobId: job.id ?? '', attemptsMade: job.attemptsMade });
      },
      {
        connection: client,
        prefix: opts.prefix ?? 'hie',
        concurrency: opts.concurrency ?? 4,
        lockDuration,
        stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
      },
    );
    this.worker.on('error', (e) => opts.onError?.(e));
  }

  /** Resolves once the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
    if (this.owned) await this.client.quit().catch(() => undefined);
  }
}
