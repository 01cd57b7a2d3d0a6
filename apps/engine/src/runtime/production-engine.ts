import os from 'node:os';
import type { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { type ConfigProblem, type productionSchema, validateProduction } from '@hie/config';
import { type Bus, type ItemBusConfig, InProcessBus } from '@hie/bus';
import { checkProductionHostPolicy, createHostPolicy, type HostPolicy } from '@hie/policy';
import { ItemQueue, WaitHistogram } from '@hie/queues';
import { uuidv7Time } from '@hie/envelope';
import type { TaskPool } from './dispatch';
import { EngineError } from './errors';
import { isSingletonType } from '../item-type';
import { type DeferredRetry, Host, type ItemSpec, type ItemStatus, type QueueEntry } from './host';
import type { ItemTypeRegistry } from './registry';
import { ItemStats, queueWaitOf } from './stats';
import { MemoryTracker, type Tracker } from './tracker';
import { moduleUrl, workerExecArgv } from './module-url';
import type { WorkerResult, WorkerTask } from '../worker/protocol';
import type { EngineMetrics } from '../telemetry/metrics';
import { carried, carry, endSpan, messageAttributes, startMessageSpan, tracing } from '../telemetry/tracing';

export type ProductionSpec = z.output<typeof productionSchema>;

/** One item name's place in the engine: its queue outlives the hosts that come and go on reloads. */
interface Slot {
  spec: ItemSpec;
  queue: ItemQueue<QueueEntry>;
  host?: Host;
  targets: string[];
  unregister: () => void;
  /** The item's figures and queue waits, kept across the hosts and queues a reload replaces. */
  stats: ItemStats;
  wait: WaitHistogram;
}

export interface ApplyReport {
  started: string[];
  replaced: string[];
  stopped: string[];
  unchanged: string[];
}

export interface ProductionStatus {
  name: string | undefined;
  state: 'running' | 'stopped';
  items: ItemStatus[];
}

export interface EngineOptions {
  registry: ItemTypeRegistry;
  log: Logger;
  bus?: Bus;
  tracker?: Tracker;
  /** Stop/drain timeout per item. @defaultValue 30000 */
  drainTimeoutMs?: number;
  /**
   * What items may touch on the host; checked when a production is applied and by the items.
   * @defaultValue `createHostPolicy()`: the working folder as the only root, no allow list
   */
  policy?: HostPolicy;
  /** Cluster mode: operations' retries become delayed jobs (`@hie/jobs`) instead of in-memory timers. */
  deferRetry?: (retry: DeferredRetry) => Promise<void>;
  /** The project id, for metric labels and span attributes. @defaultValue the production's name */
  project?: string;
  /** Prometheus metrics to record into (see EngineMetrics). */
  metrics?: EngineMetrics;
}

const kindOrder = { operation: 0, process: 1, service: 2 } as const;
const workerUrl = moduleUrl('../worker/handler-worker.ts', import.meta.url);

/**
 * Piscina, loaded by the first production that runs an item in a worker thread (`multiprocess`,
 * `thread_pool`): most productions run `async` only and never pay for it at start.
 */
let piscina: typeof Piscina | undefined;
async function loadPiscina(): Promise<typeof Piscina> {
  piscina ??= (await import('piscina')).Piscina;
  return piscina;
}
function threadsModule(): typeof Piscina {
  if (!piscina) throw new EngineError('engine.internal', 'worker threads used before Piscina was loaded', 'unexpected');
  return piscina;
}

/**
 * Worker threads load TypeScript through tsx from the sources, plain Node from the build (the main
 * thread's loader is not inherited). A
 * process started with `--cpu-prof` (the e2e bench's `--profile`) profiles its worker threads too.
 */
const WORKER_EXEC_ARGV = [...workerExecArgv, ...cpuProfileArgs(process.execArgv)];

function cpuProfileArgs(argv: readonly string[]): string[] {
  if (!argv.includes('--cpu-prof')) return [];
  const dir = argv.indexOf('--cpu-prof-dir');
  return ['--cpu-prof', ...(dir >= 0 && argv[dir + 1] ? ['--cpu-prof-dir', argv[dir + 1]] : [])];
}

function invalidProduction(problems: ConfigProblem[]): EngineError {
  return new EngineError('config.invalid', `invalid production: ${problems.map((p) => `${p.pathText}: ${p.message}`).join('; ')}`, 'user', { problems });
}

/** What makes an item "changed": everything but designer-only fields. */
function fingerprint(item: ItemSpec): string {
  const { position: _p, description: _d, ...rest } = item as ItemSpec & { position?: unknown; description?: unknown };
  return JSON.stringify(rest);
}

/**
 * How an item's envelopes travel on a cluster bus: a FIFO item keeps its order per partition key
 * (`queue.partitionKey`, PID-3.1 by default); the stream is bounded like the queue. A
 * durable stream never drops an entry it accepted, so `drop_oldest` blocks there (the item's own
 * queue still drops, recorded as discarded).
 */
export function busConfigOf(item: ItemSpec): ItemBusConfig {
  const q = item.queue;
  return { ordered: q.type === 'fifo', partitionKey: q.partitionKey, maxQueue: q.size, overflow: q.overflow === 'reject_new' ? 'reject' : 'block' };
}

function sameQueue(a: ItemSpec, b: ItemSpec): boolean {
  return JSON.stringify(a.queue) === JSON.stringify(b.queue);
}

/**
 * Runs one production. `apply(spec)` is the single reconcile path for first start, hot reload and
 * stop (`apply(null)`): added items start, removed items drain and stop, changed items are
 * replaced keeping their queued messages, unchanged items keep running untouched.
 */
export class ProductionEngine {
  readonly bus: Bus;
  readonly tracker: Tracker;
  private readonly slots = new Map<string, Slot>();
  private current?: ProductionSpec;
  private sharedPool?: Piscina;
  private applying: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  /** Singleton items this node may run: all of them on a single node, the assigned ones in a cluster. */
  private owned: ReadonlySet<string> | 'all' = 'all';
  readonly policy: HostPolicy;

  constructor(private readonly opts: EngineOptions) {
    this.policy = opts.policy ?? createHostPolicy();
    this.bus = opts.bus ?? new InProcessBus();
    this.tracker = opts.tracker ?? new MemoryTracker();
    this.log = opts.log;
    const metrics = opts.metrics;
    if (metrics) {
      // Received → completed: from the root id's time (a UUID v7), else the completing envelope's.
      this.tracker.onCompleted = (envelope, item) => {
        const since = uuidv7Time(envelope.header.sessionId ?? envelope.header.messageId) ?? envelope.header.timestamp;
        metrics.item(this.project, item).endToEnd.observe(Math.max(0, Date.now() - since) / 1000);
      };
    }
    // A stopped engine has no slots left: its series go with them.
    opts.metrics?.addQueues({
      project: () => this.project,
      queues: () => [...this.slots].map(([item, slot]) => ({ item, depth: slot.queue.depth })),
    });
  }

  /** The `project` of metrics and spans: the project id, or the production's name (`hie run`). */
  get project(): string {
    return this.opts.project ?? this.current?.name ?? 'production';
  }

  get production(): ProductionSpec | undefined {
    return this.current;
  }

  /** Validate a production against the registered item types; throws `config.invalid` with every problem. */
  validate(spec: unknown): ProductionSpec {
    const r = validateProduction(spec, { itemTypes: this.opts.registry.lookup });
    if (!r.ok) throw invalidProduction(r.problems);
    return r.value;
  }

  /**
   * {@link validate}, then the host policy: every folder, TLS file and target host the items name
   * (HIE_FILE_ROOTS, HIE_EGRESS_ALLOW), so `hie run` and a deploy refuse what a save would.
   * @throws EngineError `config.invalid` with every problem and its path.
   */
  async check(spec: unknown): Promise<ProductionSpec> {
    const value = this.validate(spec);
    const problems = await checkProductionHostPolicy(value, this.policy);
    if (problems.length > 0) throw invalidProduction(problems);
    return value;
  }

  /** Reconcile towards `spec` (null = stop everything). Calls are serialised. */
  apply(spec: unknown | null): Promise<ApplyReport> {
    const run = this.applying.then(async () => this.reconcile(spec === null ? null : await this.check(spec)));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async reconcile(spec: ProductionSpec | null): Promise<ApplyReport> {
    const report: ApplyReport = { started: [], replaced: [], stopped: [], unchanged: [] };
    if (spec?.items.some((i) => i.execution.mode === 'multiprocess' || i.execution.mode === 'thread_pool')) await loadPiscina();
    const desired = new Map<string, ItemSpec>((spec?.items ?? []).map((i) => [i.name, i]));
    const targets = new Map<string, string[]>();
    for (const c of spec?.connections ?? []) {
      const list = targets.get(c.from) ?? [];
      if (!list.includes(c.to)) list.push(c.to);
      targets.set(c.from, list);
    }
    if (spec && this.current && spec.name !== this.current.name) {
      this.log.info({ from: this.current.name, to: spec.name }, 'production renamed');
    }
    const name = spec?.name ?? this.current?.name ?? 'production';
    const log = this.log.child({ production: name });

    // Added: queues registered on the bus before any wire points at them.
    for (const item of [...desired.values()].filter((i) => !this.slots.has(i.name))) {
      const wait = new WaitHistogram();
      const slot: Slot = { spec: item, queue: this.makeQueue(item, 0, wait), targets: targets.get(item.name) ?? [], unregister: () => undefined, stats: new ItemStats(), wait };
      this.bus.configureItem?.(item.name, busConfigOf(item));
      slot.unregister = this.bus.register(item.name, {
        // The trace context is read now, synchronously: in-process, the sender's envelope object
        // goes on to its other targets and items, which carry their own context in it.
        accept: (envelope, reply) => slot.queue.put({ envelope, reply, queuedAt: performance.now(), trace: tracing.on ? carried(envelope) : undefined }, envelope.header.priority),
      });
      this.slots.set(item.name, slot);
      report.started.push(item.name);
    }

    // Wires: connection changes never need a restart.
    for (const [itemName, slot] of this.slots) slot.targets = targets.get(itemName) ?? [];

    const kindOf = (s: ItemSpec) => this.opts.registry.get(s.type)?.kind ?? 'process';
    const byStopOrder = (a: ItemSpec, b: ItemSpec) => kindOrder[kindOf(b)] - kindOrder[kindOf(a)];
    const byStartOrder = (a: ItemSpec, b: ItemSpec) => kindOrder[kindOf(a)] - kindOrder[kindOf(b)];

    // Removed: services first so nothing new flows, then drain the rest.
    const removed = [...this.slots.values()].filter((s) => !desired.has(s.spec.name)).map((s) => s.spec).sort(byStopOrder);
    for (const item of removed) {
      const slot = this.slots.get(item.name)!;
      // Cluster: the drain finishes what this node took, not the whole cluster's backlog.
      this.bus.stopReading?.(item.name);
      await slot.host?.stop({ drain: true, timeoutMs: this.opts.drainTimeoutMs });
      slot.unregister();
      if (slot.queue.depth > 0) log.warn({ item: item.name, left: slot.queue.depth }, 'removed item still had queued messages');
      slot.queue.close();
      this.slots.delete(item.name);
      report.stopped.push(item.name);
    }

    // Changed: replace the host, keep the queue (moved into a new one only when its settings changed).
    const changed = [...desired.values()].filter((i) => this.slots.has(i.name) && fingerprint(this.slots.get(i.name)!.spec) !== fingerprint(i)).sort(byStopOrder);
    for (const item of changed) {
      const slot = this.slots.get(item.name)!;
      await slot.host?.stop({ drain: false, timeoutMs: this.opts.drainTimeoutMs });
      if (!sameQueue(slot.spec, item)) {
        this.bus.configureItem?.(item.name, busConfigOf(item));
        const entries = slot.queue.drain();
        const queue = this.makeQueue(item, entries.length, slot.wait);
        for (const e of entries) queue.tryPut(e, e.envelope.header.priority);
        const old = slot.queue;
        slot.queue = queue;
        old.close();
      }
      slot.spec = item;
      slot.host = undefined;
      report.replaced.push(item.name);
    }
    for (const item of desired.values()) {
      if (!report.started.includes(item.name) && !report.replaced.includes(item.name)) report.unchanged.push(item.name);
    }

    this.current = spec ?? undefined;
    // Start new and replaced hosts: operations first, services last.
    const toStart = [...report.started, ...report.replaced].map((n) => desired.get(n)!).sort(byStartOrder);
    for (const item of toStart) {
      const slot = this.slots.get(item.name)!;
      if (!item.enabled || !this.mayRun(item)) continue;
      slot.host = this.makeHost(name, slot, log);
      await slot.host.start();
    }
    // Enabled flag flips are "changed" items, handled above. Pools no longer needed are closed.
    if (!spec) await this.closeSharedPool();
    log.info(report, spec ? 'production applied' : 'production stopped');
    return report;
  }

  private makeQueue(item: ItemSpec, atLeast: number, waitHistogram: WaitHistogram): ItemQueue<QueueEntry> {
    return new ItemQueue<QueueEntry>({
      waitHistogram,
      type: item.queue.type,
      size: Math.max(item.queue.size, atLeast),
      overflow: item.queue.overflow,
      onDrop: (entry) => {
        // drop_oldest: the evicted message is recorded and its sender told — never silently lost.
        const err = new EngineError('queue.dropped', `dropped from ${item.name}'s full queue (drop_oldest)`, 'operational');
        this.tracker.event(entry.envelope, item.name, 'discarded', { reason: 'queue overflow (drop_oldest)' });
        entry.reply?.({ error: err });
        this.tracker.closed(entry.envelope, item.name);
        const host = this.slots.get(item.name)?.host;
        if (host) host.stats.discarded++;
      },
    });
  }

  private makeHost(production: string, slot: Slot, log: Logger): Host {
    const def = this.opts.registry.get(slot.spec.type);
    if (!def) throw new EngineError('engine.unknown_type', `unknown item type ${slot.spec.type}`, 'user');
    const host = new Host(slot.spec, def, {
      production,
      bus: this.bus,
      tracker: this.tracker,
      log,
      queue: slot.queue,
      targets: () => slot.targets,
      pool: (mode, workers) => (mode === 'thread_pool' ? { pool: this.threadPool(), owned: false } : { pool: this.newPool(workers), owned: true }),
      moduleOf: (type) => this.opts.registry.moduleOf(type),
      policy: this.policy,
      deferRetry: this.opts.deferRetry,
      project: this.project,
      metrics: this.opts.metrics,
    });
    // A replaced host carries on its predecessor's counters (see ItemStats.continueFrom).
    slot.stats = host.stats.continueFrom(slot.stats);
    return host;
  }

  private newPool(threads: number): TaskPool {
    const pool = new (threadsModule())<WorkerTask, WorkerResult>({
      filename: workerUrl.href,
      minThreads: threads,
      maxThreads: threads,
      execArgv: WORKER_EXEC_ARGV,
      idleTimeout: 60_000,
    });
    return {
      run: (task, o) => pool.run(task, o?.transferList ? { transferList: o.transferList } : undefined),
      destroy: () => pool.destroy(),
      threads,
    };
  }

  private threadPool(): TaskPool {
    const n = Math.max(2, os.availableParallelism());
    // A fixed set of threads: each item's onStart/onStop must reach every thread that may hold its
    // handler, and an idle thread retired by the pool would take handlers with it unstopped.
    this.sharedPool ??= new (threadsModule())({ filename: workerUrl.href, minThreads: n, maxThreads: n, execArgv: WORKER_EXEC_ARGV, idleTimeout: Infinity });
    const pool = this.sharedPool;
    // Destroyed with the production, not by an item: its life-cycle tasks release what it holds.
    return { run: (task, o) => pool.run(task, o?.transferList ? { transferList: o.transferList } : undefined), destroy: async () => undefined, threads: n };
  }

  private async closeSharedPool(): Promise<void> {
    const p = this.sharedPool;
    this.sharedPool = undefined;
    await p?.destroy();
  }

  /** Hand a message to an item directly (resend, recovery). */
  async inject(item: string, envelope: Parameters<Bus['deliver']>[1]): Promise<void> {
    // A service reads from outside (a socket, a folder), never from its queue: the message would wait forever.
    if (this.opts.registry.get(this.requireSlot(item).spec.type)?.kind === 'service') {
      throw new EngineError('engine.bad_target', `"${item}" is an inbound service: it cannot take a resent message`, 'user');
    }
    if (envelope.header.parentId) this.opts.metrics?.item(this.project, item).resent.inc();
    if (!tracing.on) return this.handOff(item, envelope, 'resend');
    // A resent message starts its own trace, linked to the original's.
    const span = startMessageSpan(`resend ${item}`, envelope.header.sessionId ?? envelope.header.messageId, messageAttributes(envelope, item, this.project), { linkTo: envelope.header.parentId });
    carry(envelope, span);
    try {
      await this.handOff(item, envelope, 'resend');
      endSpan(span, 'queued');
    } catch (e) {
      endSpan(span, 'failed', { code: (e as { code?: string }).code });
      throw e;
    }
  }

  /**
   * A deferred retry's job came due on this node (cluster mode): the message goes back into the
   * item's queue with its attempts so far, so its retry budget carries on where it stopped.
   */
  async resumeRetry(item: string, envelope: Parameters<Bus['deliver']>[1], attempts: { attempt: number; ownAttempt: number }): Promise<void> {
    const slot = this.requireSlot(item);
    this.tracker.opened(envelope);
    try {
      await slot.queue.put({ envelope, attempt: attempts.attempt, ownAttempt: attempts.ownAttempt }, envelope.header.priority);
    } catch (e) {
      this.tracker.closed(envelope, item);
      throw e;
    }
    this.tracker.event(envelope, item, 'queued', { from: 'retry', attempt: attempts.attempt + attempts.ownAttempt });
  }

  /**
   * Hand a message on from `fromItem` again, to each of its connected targets (crash recovery:
   * a stored message that never completed is re-delivered where its service sent it).
   */
  async redeliver(fromItem: string, envelope: Parameters<Bus['deliver']>[1]): Promise<void> {
    const slot = this.requireSlot(fromItem);
    envelope.header.sessionId ??= envelope.header.messageId;
    this.tracker.opened(envelope);
    try {
      for (const to of slot.targets) await this.handOff(to, envelope, fromItem, { recovered: true });
    } finally {
      this.tracker.closed(envelope, fromItem);
    }
  }

  /** One branch: opened, queued at `to`, and closed again if the hand-off fails (never left open). */
  private async handOff(to: string, envelope: Parameters<Bus['deliver']>[1], from: string, detail: Record<string, unknown> = {}): Promise<void> {
    this.tracker.opened(envelope);
    try {
      await this.bus.deliver(to, envelope);
    } catch (e) {
      this.tracker.closed(envelope, to);
      throw e;
    }
    this.tracker.event(envelope, to, 'queued', { from, ...detail });
  }

  /** Operator stop of one item (not a config change): its queue keeps filling, nothing is lost. */
  async stopItem(name: string): Promise<void> {
    const slot = this.requireSlot(name);
    await slot.host?.stop({ drain: false, timeoutMs: this.opts.drainTimeoutMs });
    slot.host = undefined;
  }

  /** Whether an item runs on one node at a time: services, and types declaring `singleton`. */
  isSingleton(type: string): boolean {
    return isSingletonType(this.opts.registry.get(type));
  }

  private mayRun(item: ItemSpec): boolean {
    return this.owned === 'all' || !this.isSingleton(item.type) || this.owned.has(item.name);
  }

  /**
   * Cluster: the singleton items assigned to this node ('all' on a single node). Singletons no
   * longer owned stop at once (their queues stay); newly owned ones start, after `beforeStart`
   * (recovery of what the previous owner left unfinished). Serialised with {@link apply}.
   */
  setOwnedSingletons(owned: ReadonlySet<string> | 'all', beforeStart?: (items: string[]) => Promise<void>): Promise<void> {
    const run = this.applying.then(async () => {
      this.owned = owned;
      for (const slot of this.slots.values()) {
        if (!this.isSingleton(slot.spec.type) || this.mayRun(slot.spec) || !slot.host) continue;
        await slot.host.stop({ drain: false, timeoutMs: this.opts.drainTimeoutMs });
        slot.host = undefined;
        this.log.info({ item: slot.spec.name }, 'singleton stopped: assigned to another node');
      }
      const toStart = [...this.slots.values()].filter((s) => this.isSingleton(s.spec.type) && s.spec.enabled && this.mayRun(s.spec) && !s.host && this.current);
      if (toStart.length === 0) return;
      await beforeStart?.(toStart.map((s) => s.spec.name));
      for (const slot of toStart) {
        slot.host = this.makeHost(this.current!.name, slot, this.log.child({ production: this.current!.name }));
        try {
          await slot.host.start();
          this.log.info({ item: slot.spec.name }, 'singleton started: assigned to this node');
        } catch (e) {
          // The host shows failed (e.g. its port taken); the other singletons still start.
          this.log.error({ err: e, item: slot.spec.name }, 'assigned singleton could not start');
        }
      }
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Start an item stopped by an operator (or failed); a disabled item stays off. */
  async startItem(name: string): Promise<void> {
    const slot = this.requireSlot(name);
    if (!this.mayRun(slot.spec)) throw new EngineError('engine.not_owner', `"${name}" runs on another node of the cluster`, 'user');
    if (slot.host && slot.host.state === 'running') return;
    if (slot.host) await slot.host.stop({ drain: false, timeoutMs: this.opts.drainTimeoutMs });
    slot.host = this.makeHost(this.current?.name ?? 'production', slot, this.log.child({ production: this.current?.name }));
    await slot.host.start();
  }

  async restartItem(name: string): Promise<void> {
    await this.stopItem(name);
    await this.startItem(name);
  }

  private requireSlot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new EngineError('engine.not_found', `no item named "${name}"`, 'user');
    return slot;
  }

  /** The items an item hands its messages to (its connections), empty for an unknown item. */
  targetsOf(name: string): readonly string[] {
    return this.slots.get(name)?.targets ?? [];
  }

  host(name: string): Host | undefined {
    return this.slots.get(name)?.host;
  }

  status(): ProductionStatus {
    const items: ItemStatus[] = [];
    for (const slot of this.slots.values()) {
      const queueWait = queueWaitOf(slot.queue.metrics());
      if (slot.host) items.push({ ...slot.host.status(), queueWait });
      else {
        const def = this.opts.registry.get(slot.spec.type);
        items.push({
          name: slot.spec.name,
          type: slot.spec.type,
          kind: def?.kind ?? 'process',
          state: 'stopped',
          enabled: slot.spec.enabled,
          queueDepth: slot.queue.depth,
          inFlight: 0,
          processed: slot.stats.processed,
          errors: slot.stats.errors,
          discarded: slot.stats.discarded,
          restarts: 0,
          latencyP50Ms: 0,
          latencyP99Ms: 0,
          throughputPerSec: 0,
          breaker: 'disabled',
          queueWait,
        });
      }
    }
    return { name: this.current?.name, state: this.current ? 'running' : 'stopped', items };
  }

  /** Wait until every queue is empty and nothing is in flight. */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = [...this.slots.values()].some((s) => s.queue.depth > 0 || (s.host?.inFlight ?? 0) > 0);
      if (!busy) return;
      if (Date.now() > deadline) throw new EngineError('engine.timeout', 'production did not go idle in time', 'operational');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Stop everything, draining queues. */
  async stop(): Promise<void> {
    await this.apply(null);
  }
}
