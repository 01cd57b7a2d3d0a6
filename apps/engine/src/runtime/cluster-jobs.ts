import type { Logger } from 'pino';
import type { DesiredState } from '@hie/cluster';
import { MessageEnvelope, base64Decode, base64Encode } from '@hie/envelope';
import { JobQueue, JobWorker, type RetryJobData } from '@hie/jobs';
import type { MessageStore } from '@hie/store';
import { storedEnvelope } from './envelopes';
import { EngineError, ensureError } from './errors';
import type { DeferredRetry } from './host';
import type { ProductionEngine } from './production-engine';
import type { RetentionTarget } from './retention';
import { rootId } from './tracker';

/** What the jobs need from the engine node (an `EngineNode`). */
export interface JobsNode {
  engine(projectId: string): ProductionEngine | undefined;
  retentionTargets(): RetentionTarget[];
}

export interface ClusterJobsOptions {
  /** REDIS_URL. */
  redis: string;
  /** HIE_CLUSTER_PREFIX: keys under `${prefix}:jobs:*`. */
  prefix: string;
  log: Logger;
  /** The shared store: retries of stored messages are re-read from it; retention purges it. */
  messages: MessageStore;
  /** How often this node makes sure its projects' retention timetables exist. @defaultValue 60000 */
  syncEveryMs?: number;
  /** Retention purge period, once per cluster per project. @defaultValue one hour */
  retentionEveryMs?: number;
  /** See `JobWorkerOptions.lockDurationMs`. @defaultValue 30000 */
  lockDurationMs?: number;
}

export interface ClusterJobs {
  readonly queue: JobQueue;
  /** For `EngineNodeConfig.deferRetryFor`: each project's operations schedule their retries as jobs. */
  deferRetryFor(desired: DesiredState): (retry: DeferredRetry) => Promise<void>;
  /** Run jobs on this node (after the node exists) and keep retention timetables. */
  start(node: JobsNode): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Cluster mode's time-based work for one engine node, on `@hie/jobs` (BullMQ):
 * - operations' retries become delayed jobs, so a retry outlives the node that scheduled it; the
 *   node that takes the job re-reads the message by id from the store (or, when the item's input
 *   is not the stored message, from the bytes carried in the job) and puts it back in the item's
 *   queue with its attempts;
 * - retention purges run once per cluster per project (one job scheduler each), on any node.
 */
export function createClusterJobs(opts: ClusterJobsOptions): ClusterJobs {
  const log = opts.log.child({ svc: 'jobs' });
  const queue = new JobQueue({ redis: opts.redis, prefix: opts.prefix, onError: (err) => log.warn({ err }, 'job queue: Redis connection error') });
  let worker: JobWorker | undefined;
  let timer: NodeJS.Timeout | undefined;

  const envelopeOf = async (d: RetryJobData): Promise<MessageEnvelope> => {
    if (d.envelope) return MessageEnvelope.fromBytes(base64Decode(d.envelope));
    const m = await opts.messages.get(d.projectId, d.rootId, { includeBody: true });
    if (!m?.raw) throw new EngineError('engine.not_found', `message ${d.rootId} has no stored body in project ${d.projectId}: its retry cannot be replayed`, 'user');
    const env = storedEnvelope(d.rootId, m.raw, m.contentType, m.item);
    env.header.retryCount = d.attempt + d.ownAttempt;
    return env;
  };

  const sync = async (node: JobsNode) => {
    for (const t of node.retentionTargets()) {
      const data = { kind: 'retention' as const, projectId: t.projectId, production: t.production, retentionDays: t.retentionDays };
      try {
        if (t.retentionDays > 0) await queue.upsertRepeatable(data, opts.retentionEveryMs ?? 3_600_000);
        else await queue.removeRepeatable(data);
      } catch (e) {
        log.warn({ err: ensureError(e), projectId: t.projectId }, 'could not schedule the retention purge');
      }
    }
  };

  return {
    queue,
    deferRetryFor(desired) {
      // Only the received message is stored (and only with `storage: full`): anything else travels in the job.
      const stored = ((desired.spec as { storage?: string }).storage ?? 'full') === 'full';
      return async (r) => {
        const root = rootId(r.envelope);
        const byId = stored && r.envelope.header.messageId === root;
        await queue.scheduleRetry(
          {
            projectId: desired.projectId,
            item: r.item,
            messageId: r.envelope.header.messageId,
            rootId: root,
            attempt: r.attempt,
            ownAttempt: r.ownAttempt,
            envelope: byId ? undefined : base64Encode(r.envelope.toBytes()),
          },
          r.delayMs,
        );
      };
    },
    async start(node) {
      worker = new JobWorker({
        redis: opts.redis,
        prefix: opts.prefix,
        lockDurationMs: opts.lockDurationMs,
        onError: (err) => log.warn({ err }, 'job worker error'),
        handlers: {
          retry: async (d) => {
            const engine = node.engine(d.projectId);
            // Thrown: BullMQ tries the job again later (the project may be starting on this node).
            if (!engine?.host(d.item)) throw new EngineError('engine.not_found', `item ${d.item} of project ${d.projectId} is not running on this node`, 'operational');
            await engine.resumeRetry(d.item, await envelopeOf(d), d);
          },
          retention: async (d) => {
            if (!(d.retentionDays > 0)) return;
            const olderThan = new Date(Date.now() - d.retentionDays * 86_400_000);
            const n = await opts.messages.purge({ projectId: d.projectId, olderThan });
            if (n > 0) log.info({ projectId: d.projectId, production: d.production, purged: n, olderThan }, 'retention: purged old messages');
          },
        },
      });
      await worker.ready();
      await sync(node);
      timer = setInterval(() => void sync(node), opts.syncEveryMs ?? 60_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await worker?.close();
      await queue.close();
    },
  };
}
