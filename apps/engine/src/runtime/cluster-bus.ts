import { type Bus, RedisStreamsBus, type RedisStreamsBusOptions, type StreamBranches } from '@hie/bus';
import type { DesiredState } from '@hie/cluster';
import type { Logger } from 'pino';
import type { Tracker } from './tracker';

/** What a node hands its bus factory for one project. */
export interface BusContext {
  nodeId: string;
  /** The project's tracker: the bus acknowledges only after it flushed, and reports dead letters to it. */
  tracker: Tracker;
  log: Logger;
}

/** Makes the bus of one project on a node (cluster); see {@link redisStreamsBusFor}. */
export type BusFactory = (desired: DesiredState, ctx: BusContext) => Bus;

export interface RedisBusSettings extends Pick<RedisStreamsBusOptions, 'partitions' | 'maxDeliveries' | 'claimIdleMs' | 'maxLen' | 'blockMs'> {
  /** `REDIS_URL`, or an ioredis client shared by the projects' buses. */
  redis: RedisStreamsBusOptions['redis'];
  /** `HIE_CLUSTER_PREFIX`. @defaultValue `'hie'` */
  clusterPrefix?: string;
}

/**
 * Cluster: one {@link RedisStreamsBus} per project, keys under `${clusterPrefix}:bus:${projectId}`,
 * this node's id as consumer name. An entry is acknowledged only once the project's tracker has
 * flushed (the store committed what its processing recorded), and an entry given up after too
 * many deliveries is recorded `failed` (code `bus.dead_letter`) at the item, which closes its
 * branch: the message viewer shows it failed, ready to resend. The tracker counts the branches
 * that cross nodes in a shared counter per message on the same Redis (see `MemoryTracker`), so
 * `completed` is written once, by the node finishing the last branch anywhere.
 */
export function redisStreamsBusFor(settings: RedisBusSettings): BusFactory {
  const { redis, clusterPrefix = 'hie', ...tuning } = settings;
  return (desired, { nodeId, tracker, log }) => {
    // The tracker learns the counter (this bus) once the bus exists; the bus asks it for credits.
    const branches: StreamBranches | undefined = tracker.shareBranches?.({ releaseBranches: (root, credits, failedAt) => bus.releaseBranches(root, credits, failedAt) });
    const bus: RedisStreamsBus = new RedisStreamsBus({
      ...tuning,
      branches,
      redis,
      prefix: `${clusterPrefix}:bus:${desired.projectId}`,
      nodeId,
      log: log.child({ bus: 'redis-streams', projectId: desired.projectId }),
      beforeAck: () => tracker.flush(),
      onDeadLetter: (item, envelope, deliveries) => {
        branches?.arrived(envelope); // its credit ends here, with the branch
        tracker.event(envelope, item, 'failed', { code: 'bus.dead_letter', error: `gave up after ${deliveries} deliveries`, deliveries });
        branches?.finished(envelope, item);
        tracker.closed(envelope, item);
      },
    });
    return bus;
  };
}
