import type { Logger } from 'pino';
import type { Coordinator, DesiredState } from '@hie/cluster';
import type { HostPolicy } from '@hie/policy';
import type { Store } from '@hie/store';
import { createRegistry, type EngineNodeOptions } from './engine-node';
import { isSingletonType } from './item-type';
import type { BusFactory } from './runtime/cluster-bus';
import { EngineNode } from './node';
import { recoverUnfinished } from './runtime/recovery';
import { startRetention } from './runtime/retention';
import { StoreTracker } from './runtime/store-tracker';
import type { ClusterJobs } from './runtime/cluster-jobs';
import type { EngineMetrics } from './telemetry/metrics';

export interface StoreNodeOptions {
  coordinator: Coordinator;
  store: Store;
  log: Logger;
  nodeId?: string;
  policy: HostPolicy;
  plugins?: EngineNodeOptions['plugins'];
  /** Cluster: a bus per project (`redisStreamsBusFor`); default the in-process bus. */
  busFor?: BusFactory;
  /**
   * Cluster: BullMQ jobs (`createClusterJobs`): operations' retries become delayed jobs any node
   * runs, and retention purges run once per cluster instead of on every node.
   */
  jobs?: ClusterJobs;
  /** Prometheus metrics to record into (engine figures, store commits, suspended messages). */
  metrics?: EngineMetrics;
}

export interface StoreNode {
  node: EngineNode;
  /** Each project's store tracker (message store writer figures). */
  trackers: { projectId: string; tracker: StoreTracker }[];
  /** Stop retention and the node (draining), then close the trackers. */
  stop(): Promise<void>;
}

/**
 * An engine node whose messages go raw-first to the store: the node of `hie start` and of each
 * `hie engine` in a cluster. Unfinished messages are re-queued from the store: once per project
 * at its first start on a single node; in a cluster, by the node that takes over a singleton, for
 * what that singleton had received (see EngineNode's `recover`).
 */
export function startStoreNode(o: StoreNodeOptions): StoreNode {
  const trackers: StoreNode['trackers'] = [];
  const node = new EngineNode({
    coordinator: o.coordinator,
    log: o.log,
    nodeId: o.nodeId,
    policy: o.policy,
    plugins: o.plugins,
    busFor: o.busFor,
    metrics: o.metrics,
    deferRetryFor: o.jobs ? (d) => o.jobs!.deferRetryFor(d) : undefined,
    trackerFor: (d: DesiredState) => {
      const storage = (d.spec as { storage?: 'full' | 'metadata' | 'none' }).storage ?? 'full';
      const tracker = StoreTracker.forProduction(o.store.messages, d, storage, o.log, o.metrics && { raw: o.metrics.storeCommits(d.projectId, 'raw'), events: o.metrics.storeCommits(d.projectId, 'events') });
      trackers.push({ projectId: d.projectId, tracker });
      return tracker;
    },
    recover: (engine, d, items) => recoverUnfinished(o.store.messages, engine, d.projectId, o.log, { items }),
  });
  node.start();
  // Suspended messages (failed, not resent since) of the projects running here, read from the store at scrape time.
  o.metrics?.setSuspendedSource(async () => {
    const rows = [];
    for (const t of node.retentionTargets()) {
      for (const c of await o.store.messages.suspendedCounts(t.projectId)) rows.push({ project: t.projectId, item: c.item, count: c.count });
    }
    return rows;
  });
  const jobs = o.jobs;
  if (jobs) jobs.start(node).catch((e: unknown) => o.log.error({ err: e }, 'cluster jobs did not start: retries stay in memory, retention does not run'));
  const stopRetention = jobs ? () => undefined : startRetention({ messages: o.store.messages, targets: () => node.retentionTargets(), log: o.log });
  return {
    node,
    trackers,
    stop: async () => {
      stopRetention();
      await jobs?.stop();
      await node.stop();
      for (const t of trackers) await t.tracker.close();
    },
  };
}

/** Which item types run on one cluster node at a time, for the EtcdCoordinator's leader. */
export function singletonTypes(plugins?: EngineNodeOptions['plugins']): (type: string) => boolean {
  const registry = createRegistry(plugins);
  return (type) => isSingletonType(registry.get(type));
}
