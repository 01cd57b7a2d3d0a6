/**
 * What the engine nodes say is running, merged per project. In a cluster one project's items may
 * run on several nodes: their figures are added up (latencies: the worst node's).
 */
import type { NodeStatus, QueueWaitFigures, ReportedItemStatus, ReportedProduction } from '@hie/cluster';

/** A node that has not reported within this long is stale. */
export const FRESH_MS = 10_000;

export type ItemStatus = ReportedItemStatus;

export interface RunningView {
  version: number;
  state: ReportedProduction['state'];
  error?: ReportedProduction['error'];
  items: ItemStatus[];
  /** Messages the production received (see {@link messagesReceived}): what the dashboard counts. */
  messagesReceived: number;
  /** The nodes reporting this project. */
  nodes: string[];
  /** Latest report, epoch ms. */
  heartbeatAt: number;
  /** True when no node reported within {@link FRESH_MS}: the figures are old. */
  stale: boolean;
}

/** Nodes that reported within {@link FRESH_MS} of `now`. */
export function freshNodes(nodes: NodeStatus[], now = Date.now()): NodeStatus[] {
  return nodes.filter((n) => now - n.heartbeatAt <= FRESH_MS);
}

/**
 * Messages received: what the production's inbound services took in. Each message counts once,
 * however many items it crosses (summing every item's `processed` counts hops: 160 messages
 * through three items would read 480).
 */
export function messagesReceived(items: readonly ItemStatus[]): number {
  return items.reduce((n, i) => (i.kind === 'service' ? n + i.processed : n), 0);
}

/**
 * Queue waits of one item from two nodes: histogram counts added bucket by bucket, the worst
 * node's percentiles. Nodes share the bucket bounds; a report with other bounds (a node of
 * another version) cannot be added and is left out.
 */
export function addQueueWaits(a: QueueWaitFigures | undefined, b: QueueWaitFigures | undefined): QueueWaitFigures | undefined {
  if (!a || !b) return a ?? b;
  if (a.bucketsMs.length !== b.bucketsMs.length || a.bucketsMs.some((ms, i) => ms !== b.bucketsMs[i])) return a;
  return {
    p50Ms: Math.max(a.p50Ms, b.p50Ms),
    p99Ms: Math.max(a.p99Ms, b.p99Ms),
    bucketsMs: a.bucketsMs,
    counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)),
    count: a.count + b.count,
    sumMs: a.sumMs + b.sumMs,
  };
}

/** Adds item figures reported by several nodes for the same item. */
export function mergeItems(lists: ItemStatus[][]): ItemStatus[] {
  const byName = new Map<string, ItemStatus>();
  for (const list of lists) {
    for (const it of list) {
      const prev = byName.get(it.name);
      if (!prev) {
        byName.set(it.name, { ...it, ...(it.nodes ? { nodes: [...it.nodes] } : {}) });
        continue;
      }
      // Where the item runs: a cluster's singleton on one node, the others on each.
      if (it.nodes) prev.nodes = [...new Set([...(prev.nodes ?? []), ...it.nodes])].sort();
      prev.queueDepth += it.queueDepth;
      prev.inFlight += it.inFlight;
      prev.processed += it.processed;
      prev.errors += it.errors;
      prev.discarded += it.discarded;
      prev.restarts += it.restarts;
      prev.throughputPerSec += it.throughputPerSec;
      prev.latencyP50Ms = Math.max(prev.latencyP50Ms, it.latencyP50Ms);
      prev.latencyP99Ms = Math.max(prev.latencyP99Ms, it.latencyP99Ms);
      const queueWait = addQueueWaits(prev.queueWait, it.queueWait);
      if (queueWait) prev.queueWait = queueWait;
      if (it.lastError && (!prev.lastError || it.lastError.at > prev.lastError.at)) prev.lastError = it.lastError;
      if (it.state === 'running') prev.state = 'running';
      if (it.breaker !== 'closed') prev.breaker = it.breaker;
    }
  }
  return [...byName.values()];
}

/** The running state of one project across the nodes, or undefined when no node reports it. */
export function runningOf(nodes: NodeStatus[], projectId: string, now = Date.now()): RunningView | undefined {
  const reporting = nodes
    .map((n) => ({ node: n, prod: n.productions.find((p) => p.projectId === projectId) }))
    .filter((x): x is { node: NodeStatus; prod: ReportedProduction } => x.prod !== undefined)
    .sort((a, b) => b.node.heartbeatAt - a.node.heartbeatAt);
  if (reporting.length === 0) return undefined;
  const fresh = reporting.filter((r) => now - r.node.heartbeatAt <= FRESH_MS);
  const used = fresh.length > 0 ? fresh : [reporting[0]];
  const latest = used[0];
  const error = used.find((r) => r.prod.error)?.prod.error;
  const items = mergeItems(used.map((r) => r.prod.items));
  return {
    version: latest.prod.version,
    // One node that cannot run it (its listener's port taken) is enough: never shown as running.
    state: used.some((r) => r.prod.state === 'failed') ? 'failed' : latest.prod.state,
    ...(error ? { error } : {}),
    items,
    messagesReceived: messagesReceived(items),
    nodes: used.map((r) => r.node.nodeId),
    heartbeatAt: latest.node.heartbeatAt,
    stale: fresh.length === 0,
  };
}
