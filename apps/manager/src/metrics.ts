/**
 * Prometheus metrics at `/metrics`: Node's default metrics plus per-item figures derived from
 * the latest status every fresh engine node reported. `registry` is exported so the process that
 * hosts the manager can register its own metrics beside them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Coordinator, QueueWaitFigures } from '@hie/cluster';
import { freshNodes, mergeItems, type ItemStatus } from './status.js';

/** The manager's metrics registry. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Coordinators whose node status feeds the item metrics (one per manager server). */
const sources = new Set<Coordinator>();

/** Starts feeding the item metrics from a coordinator; returns the function that stops it. */
export function addStatusSource(coordinator: Coordinator): () => void {
  sources.add(coordinator);
  return () => sources.delete(coordinator);
}

interface Snapshot {
  nodes: number;
  items: { project: string; production: string; item: string; status: ItemStatus }[];
}

/** One read of the status for all item metrics of a scrape (they are collected in turn). */
let pending: { at: number; snapshot: Promise<Snapshot> } | undefined;

function snapshot(): Promise<Snapshot> {
  const now = Date.now();
  if (pending && now - pending.at < 250) return pending.snapshot;
  const run = async (): Promise<Snapshot> => {
    // By project id: two projects may run productions of the same name.
    const byProject = new Map<string, { production: string; lists: ItemStatus[][] }>();
    let nodes = 0;
    for (const c of sources) {
      const fresh = freshNodes(await c.listStatus(), now);
      nodes += fresh.length;
      for (const n of fresh) {
        for (const p of n.productions) {
          const entry = byProject.get(p.projectId) ?? { production: p.production, lists: [] };
          entry.lists.push(p.items);
          byProject.set(p.projectId, entry);
        }
      }
    }
    const items: Snapshot['items'] = [];
    for (const [project, { production, lists }] of byProject) {
      for (const status of mergeItems(lists)) items.push({ project, production, item: status.name, status });
    }
    return { nodes, items };
  };
  pending = { at: now, snapshot: run() };
  return pending.snapshot;
}

/** `project` is the project id (the key); `production` its name, for people reading dashboards. */
const labelNames = ['project', 'production', 'item'] as const;

/** A counter whose value is the nodes' cumulative count (reset and set on every scrape). */
function itemCounter(name: string, help: string, pick: (s: ItemStatus) => number): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      this.reset();
      for (const { project, production, item, status } of snap.items) this.inc({ project, production, item }, pick(status));
    },
  });
}

function itemGauge(name: string, help: string, pick: (s: ItemStatus) => number): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      this.reset();
      for (const { project, production, item, status } of snap.items) this.set({ project, production, item }, pick(status));
    },
  });
}

itemCounter('hie_item_processed_total', 'Messages an item has processed (as reported by the engine nodes).', (s) => s.processed);
itemCounter('hie_item_errors_total', 'Messages that failed at an item.', (s) => s.errors);
itemCounter('hie_item_discarded_total', 'Messages an item discarded (overflow, routing).', (s) => s.discarded);
itemCounter('hie_item_restarts_total', 'Times an item was restarted by its supervisor.', (s) => s.restarts);
itemGauge('hie_item_queue_depth', 'Messages waiting in an item queue.', (s) => s.queueDepth);
itemGauge('hie_item_in_flight', 'Messages an item is processing now.', (s) => s.inFlight);
itemGauge('hie_item_latency_p50_ms', 'Median processing latency of an item, in milliseconds.', (s) => s.latencyP50Ms);
itemGauge('hie_item_latency_p99_ms', '99th percentile processing latency of an item, in milliseconds.', (s) => s.latencyP99Ms);
itemGauge('hie_item_throughput_per_second', 'Messages per second an item processes (recent rate).', (s) => s.throughputPerSec);
itemGauge('hie_item_up', '1 when the item is running, else 0.', (s) => (s.state === 'running' ? 1 : 0));

/** One exported sample, in the shape prom-client's text export reads. */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, never>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram whose buckets are the engine nodes' cumulative counts, read at each
 * scrape. prom-client's Histogram counts only its own `observe()` calls, and replaying millions
 * of waits through it would be absurd: so this one exports the reported counts instead, through
 * the same method prom-client's registry calls for every histogram (`getForPromString`; `get()`,
 * used for JSON, goes through it too).
 */
class ReportedHistogram extends Histogram<(typeof labelNames)[number]> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    private readonly pick: (s: ItemStatus) => QueueWaitFigures | undefined,
  ) {
    super({ name: metricName, help: metricHelp, labelNames, registers: [registry] });
  }

  async getForPromString() {
    const values: Sample[] = [];
    const sample = (suffix: string, labels: Sample['labels'], value: number) =>
      values.push({ labels, sharedLabels: {}, value, metricName: `${this.metricName}${suffix}` });
    for (const { project, production, item, status } of (await snapshot()).items) {
      const h = this.pick(status);
      if (!h) continue;
      const labels = { project, production, item };
      h.bucketsMs.forEach((ms, i) => sample('_bucket', { ...labels, le: ms / 1000 }, h.counts[i] ?? 0));
      sample('_bucket', { ...labels, le: '+Inf' }, h.count);
      sample('_sum', labels, h.sumMs / 1000);
      sample('_count', labels, h.count);
    }
    return { name: this.metricName, help: this.metricHelp, type: 'histogram' as const, values, aggregator: 'sum' as const };
  }
}

new ReportedHistogram(
  'hie_item_queue_wait_seconds',
  'Time messages waited in an item queue before a worker took them, in seconds (cumulative, as reported by the engine nodes).',
  (s) => s.queueWait,
);
itemGauge('hie_item_queue_wait_p50_ms', 'Median recent queue wait of an item, in milliseconds.', (s) => s.queueWait?.p50Ms ?? 0);
itemGauge('hie_item_queue_wait_p99_ms', '99th percentile of recent queue waits of an item, in milliseconds.', (s) => s.queueWait?.p99Ms ?? 0);

new Counter({
  name: 'hie_production_messages_received_total',
  help: 'Messages a production’s inbound services received: each message once, however many items it crossed.',
  labelNames: ['project', 'production'] as const,
  registers: [registry],
  async collect() {
    const snap = await snapshot();
    this.reset();
    for (const { project, production, status } of snap.items) if (status.kind === 'service') this.inc({ project, production }, status.processed);
  },
});

new Gauge({
  name: 'hie_engine_nodes',
  help: 'Engine nodes that reported within the last 10 seconds.',
  registers: [registry],
  async collect() {
    this.set((await snapshot()).nodes);
  },
});
