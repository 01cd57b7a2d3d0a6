/**
 * The engine's Prometheus metrics, recorded where things happen (not derived from node reports):
 * histograms of processing latency, queue wait, end-to-end latency and store commit time;
 * counters of received, delivered, failed, refused, resent and expired messages; gauges of queue
 * depth, suspended messages and when each inbound item last received a message.
 *
 * Labels are bounded: `project` (the project id; `hie run`: the production name) and `item` (the
 * store's commits: `writer`). Never a message id. Single node: recorded into the manager's
 * registry (one `/metrics`); `hie engine` / `hie run`: the node's own, served on HIE_METRICS_PORT.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LABELS = ['project', 'item'] as const;
/** Seconds: from half a millisecond (a router hop) to a minute (a downstream retrying). */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A production's live queues, read at scrape time. */
export interface QueueSource {
  project(): string;
  queues(): Iterable<{ item: string; depth: number }>;
}

/** Suspended messages (failed, not resent since) per project and item, read at scrape time. */
export type SuspendedSource = () => Promise<{ project: string; item: string; count: number }[]>;

interface Observer {
  observe(v: number): void;
}
interface Incrementer {
  inc(v?: number): void;
}

/** One item's metrics, labels bound once (no label hashing on the hot path). */
export interface ItemMetrics {
  processing: Observer;
  queueWait: Observer;
  endToEnd: Observer;
  received: Incrementer;
  delivered: Incrementer;
  failed: Incrementer;
  refused: Incrementer;
  resent: Incrementer;
  expired: Incrementer;
  /** Sets the item's last-message-received time to now. */
  receivedNow(): void;
}

const byRegistry = new WeakMap<Registry, EngineMetrics>();

export class EngineMetrics {
  /** The engine metrics of a registry, made on first use (a registry takes each name once). */
  static of(registry: Registry): EngineMetrics {
    let m = byRegistry.get(registry);
    if (!m) byRegistry.set(registry, (m = new EngineMetrics(registry)));
    return m;
  }

  private readonly processing: Histogram<(typeof LABELS)[number]>;
  private readonly queueWait: Histogram<(typeof LABELS)[number]>;
  private readonly endToEnd: Histogram<(typeof LABELS)[number]>;
  private readonly storeCommit: Histogram<'project' | 'writer'>;
  private readonly counters: Record<'received' | 'delivered' | 'failed' | 'refused' | 'resent' | 'expired', Counter<(typeof LABELS)[number]>>;
  private readonly lastReceived: Gauge<(typeof LABELS)[number]>;
  private readonly sources = new Set<QueueSource>();
  private readonly items = new Map<string, ItemMetrics>();
  private suspended?: SuspendedSource;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    const histogram = (name: string, help: string) => new Histogram({ name, help, labelNames: LABELS, buckets: BUCKETS, registers });
    this.processing = histogram('hie_message_processing_seconds', 'Time an item took to process a message (handler and hand-off to the next items), in seconds.');
    this.queueWait = histogram('hie_message_queue_wait_seconds', 'Time a message waited in an item queue before a worker took it, in seconds.');
    this.endToEnd = histogram('hie_message_end_to_end_seconds', 'Time from a message being received to its completion (every branch finished), by the item it completed at, in seconds.');
    this.storeCommit = new Histogram({
      name: 'hie_store_commit_seconds',
      help: 'Time one batched commit of the message store took (writer: raw = received messages, events = trace events), in seconds.',
      labelNames: ['project', 'writer'] as const,
      buckets: BUCKETS,
      registers,
    });
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: LABELS, registers });
    this.counters = {
      received: counter('hie_messages_received_total', 'Messages an inbound item received.'),
      delivered: counter('hie_messages_delivered_total', 'Messages an item processed and handed on (an outbound item: delivered downstream).'),
      failed: counter('hie_messages_failed_total', 'Messages that failed at an item (for good: after their retries).'),
      refused: counter('hie_messages_refused_total', 'Input an inbound item refused (not a message, too large, cut off), kept as a refused message.'),
      resent: counter('hie_messages_resent_total', 'Messages resent into an item.'),
      expired: counter('hie_messages_expired_total', 'Messages that expired (ttl) waiting for an item.'),
    };
    this.lastReceived = new Gauge({ name: 'hie_last_message_received_timestamp_seconds', help: 'When an inbound item last received a message (Unix seconds).', labelNames: LABELS, registers });
    const sources = this.sources;
    new Gauge({
      name: 'hie_queue_depth',
      help: 'Messages waiting in an item queue on this node.',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const s of sources) {
          const project = s.project();
          for (const q of s.queues()) this.set({ project, item: q.item }, q.depth);
        }
      },
    });
    const suspended = () => this.suspended;
    new Gauge({
      name: 'hie_messages_suspended',
      help: 'Messages failed for good at an item and not resent since (waiting for an operator).',
      labelNames: LABELS,
      registers,
      async collect() {
        const read = suspended();
        if (!read) return;
        const rows = await read();
        this.reset();
        for (const r of rows) this.set({ project: r.project, item: r.item }, r.count);
      },
    });
  }

  /** Where the suspended-messages gauge reads from (the message store). */
  setSuspendedSource(read: SuspendedSource): void {
    this.suspended = read;
  }

  /** Adds a production's queues to the depth gauge; returns the function that removes them. */
  addQueues(source: QueueSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** The bound metrics of one item (made once per project and item). */
  item(project: string, item: string): ItemMetrics {
    const key = `${project}\u0000${item}`;
    let m = this.items.get(key);
    if (!m) {
      const labels = { project, item };
      const c = this.counters;
      const last = this.lastReceived.labels(labels);
      m = {
        processing: this.processing.labels(labels),
        queueWait: this.queueWait.labels(labels),
        endToEnd: this.endToEnd.labels(labels),
        received: c.received.labels(labels),
        delivered: c.delivered.labels(labels),
        failed: c.failed.labels(labels),
        refused: c.refused.labels(labels),
        resent: c.resent.labels(labels),
        expired: c.expired.labels(labels),
        receivedNow: () => last.set(Date.now() / 1000),
      };
      this.items.set(key, m);
    }
    return m;
  }

  /** The store's commit timer for one project's writer. */
  storeCommits(project: string, writer: 'raw' | 'events'): (ms: number) => void {
    const h = this.storeCommit.labels({ project, writer });
    return (ms) => h.observe(ms / 1000);
  }
}

/**
 * Serve `registry` at `/metrics` (and nothing else) on `port` (a cluster node's own endpoint,
 * HIE_METRICS_PORT). Resolves with the server once listening.
 */
export function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(Object.assign(server, { port: (server.address() as AddressInfo).port }));
    });
  });
}
