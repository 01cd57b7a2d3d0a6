/**
 * What the engine nodes say is running, merged per project. In a cluster one project's items may
 * run on several nodes: their figures are added up (latencies: the worst node's).
 */
import type { NodeStatus, QueueWaitFigures, ReportedItemStatus, ReportedProduction } from '@hie/cluster';

/** A node that has not reported within this long is stale. */
export const FRESH_MS = 10_000;

export type ItemStatus = ReportedItemStatus;

/**
 * A production's state as people should read it: `running` only when every enabled item runs
 * and none is retrying or restarting; `degraded` (amber) when some item is failed, retrying,
 * restarting or behind an open circuit breaker; `failed` (red) when the production could not
 * start or every enabled item has failed.
 */
export type ProductionState = ReportedProduction['state'] | 'degraded';

/** Why a running production is degraded or failed, item by item (empty when healthy). */
export interface ItemProblem {
  item: string;
  problem: 'failed' | 'restarting' | 'retrying' | 'breaker_open';
  error?: string;
}

/** The item problems behind a production's {@link ProductionState}. */
export function itemProblems(items: readonly ItemStatus[]): ItemProblem[] {
  const out: ItemProblem[] = [];
  for (const i of items) {
    if (!i.enabled) continue;
    const error = i.lastError?.message;
    const problem: ItemProblem['problem'] | undefined =
      i.state === 'failed'
        ? 'failed'
        : i.state === 'starting' && i.restarts > 0
          ? 'restarting'
          : i.breaker === 'open'
            ? 'breaker_open'
            : i.retrying
              ? 'retrying'
              : undefined;
    if (problem) out.push({ item: i.name, problem, ...(error ? { error } : {}) });
  }
  return out;
}

/** The production state derived from the reported one and its items (see {@link ProductionState}). */
export function productionState(reported: ReportedProduction['state'], items: readonly ItemStatus[]): ProductionState {
  if (reported !== 'running') return reported;
  const problems = itemProblems(items);
  if (problems.length === 0) return 'running';
  const enabled = items.filter((i) => i.enabled && i.state !== 'standby');
  const failed = problems.filter((p) => p.problem === 'failed');
  return enabled.length > 0 && failed.length >= enabled.length ? 'failed' : 'degraded';
}

export interface RunningView {
  version: number;
  /** Derived from the items too: never `running` while an item is failed (see {@link productionState}). */
  state: ProductionState;
  /** The items that make the production degraded or failed. */
  problems: ItemProblem[];
  error?: ReportedProduction['error'];
  items: ItemStatus[];
  /** Messages the production received (see {@link messagesReceived}): what the dashboard counts. */
  messagesReceived: number;
  /** Entries the nodes' message store writers hold, not yet committed. */
  storeBacklog: number;
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
      if (it.retrying) prev.retrying = true;
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
  // One node that cannot run it (its listener's port taken) is enough: never shown as running.
  const reported = used.some((r) => r.prod.state === 'failed') ? 'failed' : latest.prod.state;
  const backlog = used.reduce((n, r) => n + (r.prod.storeBacklog ?? 0), 0);
  return {
    version: latest.prod.version,
    state: productionState(reported, items),
    problems: reported === 'running' ? itemProblems(items) : [],
    ...(error ? { error } : {}),
    storeBacklog: backlog,
    items,
    messagesReceived: messagesReceived(items),
    nodes: used.map((r) => r.node.nodeId),
    heartbeatAt: latest.node.heartbeatAt,
    stale: fresh.length === 0,
  };
}
