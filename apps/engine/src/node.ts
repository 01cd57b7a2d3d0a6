import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Bus } from '@hie/bus';
import type { Assignments, Command, CommandResult, Coordinator, DesiredState, ReportedItemStatus, ReportedItemType, ReportedProduction } from '@hie/cluster';
import type { BusFactory } from './runtime/cluster-bus';
import { storedEnvelope } from './runtime/envelopes';
import { createEngine, createRegistry, type EngineNodeOptions } from './engine-node';
import { codeOf, ensureError } from './runtime/errors';
import { reportedState } from './runtime/production-state';
import type { ProductionEngine } from './runtime/production-engine';
import type { RetentionTarget } from './runtime/retention';
import { MemoryTracker, type Tracker } from './runtime/tracker';

interface Running {
  engine: ProductionEngine;
  /** The project's own bus (cluster), closed with the node. */
  bus?: Bus;
  desired?: DesiredState;
  tracker: Tracker;
  state: ReportedProduction['state'];
  error?: ReportedProduction['error'];
  /** Serialises reconciles of this project. */
  chain: Promise<void>;
}

export interface EngineNodeConfig extends EngineNodeOptions {
  coordinator: Coordinator;
  log: Logger;
  nodeId?: string;
  /** A tracker per project (the store-backed one records raw-first); default in-memory. */
  trackerFor?: (desired: DesiredState) => Tracker;
  /** A bus per project (cluster: `redisStreamsBusFor(…)`); default the in-process bus. Closed when the node stops. */
  busFor?: BusFactory;
  /**
   * Re-queue the project's unfinished messages: once per project before its first start on a
   * single node; in a cluster, each time this node takes over singletons, for the messages those
   * received (`items`), before they start.
   */
  recover?: (engine: ProductionEngine, desired: DesiredState, items?: readonly string[]) => Promise<number>;
  /** Cluster mode: how each project's operations defer their retries to jobs (`createClusterJobs`). */
  deferRetryFor?: (desired: DesiredState) => EngineNodeOptions['deferRetry'];
  /** Status report interval. @defaultValue 1000 */
  reportEveryMs?: number;
}

/**
 * An engine node: watches desired state in the Coordinator and reconciles each project's
 * production with `ProductionEngine.apply` (first deploy, hot reload and stop are one path);
 * reports status and item types back; executes commands (item start/stop/restart, message inject).
 */
export class EngineNode {
  readonly nodeId: string;
  private readonly running = new Map<string, Running>();
  private readonly startedAt = Date.now();
  private unsubscribe: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  private readonly log: Logger;
  private readonly recovered = new Set<string>();
  /** Cluster: the last assignments seen (undefined on a single node). */
  private assignments?: Assignments;

  constructor(private readonly cfg: EngineNodeConfig) {
    this.nodeId = cfg.nodeId ?? `${os.hostname()}-${randomUUID().slice(0, 8)}`;
    this.log = cfg.log.child({ node: this.nodeId });
  }

  /** True when the coordinator assigns singletons (a cluster). */
  private get clustered(): boolean {
    return this.cfg.coordinator.watchAssignments !== undefined;
  }

  start(): void {
    const watchAssignments = this.cfg.coordinator.watchAssignments?.bind(this.cfg.coordinator);
    if (watchAssignments) this.unsubscribe.push(watchAssignments((a) => this.onAssignments(a)));
    this.unsubscribe.push(this.cfg.coordinator.watchDesired((d) => this.onDesired(d)));
    this.unsubscribe.push(this.cfg.coordinator.onCommand((c) => this.onCommand(c)));
    this.timer = setInterval(() => void this.report(), this.cfg.reportEveryMs ?? 1000);
    this.timer.unref();
    void this.report();
  }

  private onDesired(desired: DesiredState): void {
    let r = this.running.get(desired.projectId);
    if (!r) {
      const tracker = this.cfg.trackerFor?.(desired) ?? new MemoryTracker();
      const bus = this.cfg.busFor?.(desired, { nodeId: this.nodeId, tracker, log: this.log });
      const { engine } = createEngine({ log: this.log, plugins: this.cfg.plugins, policy: this.cfg.policy, tracker, bus, deferRetry: this.cfg.deferRetryFor?.(desired), metrics: this.cfg.metrics, project: desired.projectId });
      r = { engine, bus, tracker, state: 'stopped', chain: Promise.resolve() };
      this.running.set(desired.projectId, r);
      // In a cluster no singleton starts with the first apply: ownership comes from the assignments,
      // after recovery of what a previous owner left unfinished (see applyOwnership).
      if (this.clustered) void engine.setOwnedSingletons(new Set());
    }
    const run = r;
    run.chain = run.chain.then(() => this.reconcile(run, desired));
  }

  private async reconcile(r: Running, desired: DesiredState): Promise<void> {
    r.state = 'applying';
    try {
      if (desired.state === 'running') {
        // Before the bus starts reading a new ordered item: only the partitions assigned here.
        if (this.clustered) this.applyPartitions(desired.projectId, r, r.engine.validate(desired.spec).items);
        await r.engine.apply(desired.spec);
        if (this.clustered) {
          r.desired = desired;
          await this.applyOwnership(desired.projectId, r);
        } else if (!this.recovered.has(desired.projectId) && this.cfg.recover) {
          this.recovered.add(desired.projectId);
          const n = await this.cfg.recover(r.engine, desired);
          if (n > 0) this.log.warn({ production: desired.production, requeued: n }, 're-queued unfinished messages after restart');
        }
        r.state = 'running';
      } else {
        await r.engine.apply(null);
        r.state = 'stopped';
      }
      r.desired = desired;
      r.error = undefined;
    } catch (e) {
      const err = ensureError(e);
      r.state = 'failed';
      r.error = { code: codeOf(err), message: err.message, problems: (err as { details?: { problems?: unknown } }).details?.problems };
      this.log.error({ err, production: desired.production }, 'could not apply the desired state');
    }
    await this.report();
  }

  /** The singletons of a project this node may run now: none while its lease is lost. */
  private ownedIn(projectId: string): Set<string> {
    if (!this.cfg.coordinator.clustered) return new Set();
    const mine = Object.entries(this.assignments?.singletons[projectId] ?? {}).filter(([, node]) => node === this.nodeId);
    return new Set(mine.map(([item]) => item));
  }

  /**
   * Cluster bus: the partitions of each ordered item this node reads, from the assignments (none
   * while the lease is lost, none of an item not assigned yet: one reader per partition, so the
   * messages of one patient are processed in order across the cluster).
   */
  private applyPartitions(projectId: string, r: Running, items = r.engine.production?.items ?? []): void {
    const bus = r.bus;
    if (!bus?.setOwnedPartitions) return;
    const assigned = this.assignments?.partitions[projectId] ?? {};
    for (const item of items) {
      if (item.queue.type !== 'fifo') continue;
      const mine = this.cfg.coordinator.clustered
        ? Object.entries(assigned[item.name] ?? {}).flatMap(([p, node]) => (node === this.nodeId ? [Number(p)] : []))
        : [];
      bus.setOwnedPartitions(item.name, mine);
    }
  }

  private onAssignments(a: Assignments): void {
    this.assignments = a;
    const lostLease = !this.cfg.coordinator.clustered;
    for (const [projectId, r] of this.running) {
      // A lost lease stops singletons at once, not behind a reconcile in progress.
      if (lostLease) {
        void r.engine.setOwnedSingletons(new Set());
        this.applyPartitions(projectId, r);
      }
      else r.chain = r.chain.then(() => this.applyOwnership(projectId, r));
    }
  }

  /** Start the singletons assigned here (after recovering what they had received elsewhere), stop the others. */
  private async applyOwnership(projectId: string, r: Running): Promise<void> {
    const desired = r.desired;
    const owned = desired?.state === 'running' ? this.ownedIn(projectId) : new Set<string>();
    this.applyPartitions(projectId, r);
    try {
      await r.engine.setOwnedSingletons(owned, async (items) => {
        if (!this.cfg.recover || !desired) return;
        const n = await this.cfg.recover(r.engine, desired, items);
        if (n > 0) this.log.warn({ production: desired.production, items, requeued: n }, 're-queued unfinished messages of singletons taken over');
      });
    } catch (e) {
      this.log.error({ err: ensureError(e), projectId }, 'could not apply the singleton assignments');
    }
  }

  private async onCommand(c: Command): Promise<CommandResult> {
    const r = this.running.get(c.projectId);
    if (!r) return { ok: false, error: { code: 'engine.not_found', message: 'this production is not running on this node' }, nodeId: this.nodeId };
    try {
      switch (c.kind) {
        case 'item.start':
          await r.engine.startItem(c.item);
          break;
        case 'item.stop':
          await r.engine.stopItem(c.item);
          break;
        case 'item.restart':
          await r.engine.restartItem(c.item);
          break;
        case 'message.inject': {
          const raw = Uint8Array.from(Buffer.from(c.raw, 'base64'));
          const env = storedEnvelope(c.messageId, raw, c.contentType, 'resend');
          if (c.parentId) env.header.parentId = c.parentId;
          await r.engine.inject(c.item, env);
          break;
        }
      }
      await this.report();
      return { ok: true, nodeId: this.nodeId };
    } catch (e) {
      const err = ensureError(e);
      return { ok: false, error: { code: codeOf(err), message: err.message }, nodeId: this.nodeId };
    }
  }

  /** Report productions, items and the registered item types. */
  async report(): Promise<void> {
    const productions: ReportedProduction[] = [];
    for (const [projectId, r] of this.running) {
      const st = r.engine.status();
      productions.push({
        projectId,
        production: r.desired?.production ?? st.name ?? '',
        version: r.desired?.version ?? 0,
        // An item that could not start (a listener's EADDRINUSE) makes the production failed, never running.
        ...reportedState(r.state, r.error, st.items),
        items: st.items.map((i): ReportedItemStatus => (this.standby(r, i) ? { ...i, state: 'standby' } : i.state === 'running' ? { ...i, nodes: [this.nodeId] } : i)),
        ...(r.tracker.backlog ? { storeBacklog: r.tracker.backlog() } : {}),
      });
    }
    try {
      await this.cfg.coordinator.reportStatus({
        nodeId: this.nodeId,
        startedAt: this.startedAt,
        heartbeatAt: Date.now(),
        productions,
        itemTypes: this.itemTypes(),
      });
    } catch (e) {
      this.log.warn({ err: ensureError(e) }, 'status report failed');
    }
  }

  /** A singleton another node runs (cluster), shown as standby here. */
  private standby(r: Running, item: { name: string; type: string; state: string; enabled: boolean }): boolean {
    return this.clustered && item.enabled && item.state === 'stopped' && r.engine.isSingleton(item.type) && !this.ownedIn(r.desired?.projectId ?? '').has(item.name);
  }

  private cachedTypes?: ReportedItemType[];
  private itemTypes(): ReportedItemType[] {
    if (!this.cachedTypes) {
      this.cachedTypes = createRegistry(this.cfg.plugins).list().map((d) => ({
        type: d.type,
        kind: d.kind,
        description: d.description,
        settingsSchema: z.toJSONSchema(d.settings, { io: 'input', unrepresentable: 'any' }),
      }));
    }
    return this.cachedTypes;
  }

  /** What retention needs: each running project, its production's name and retention days. */
  retentionTargets(): RetentionTarget[] {
    const out: RetentionTarget[] = [];
    for (const [projectId, r] of this.running) {
      const spec = r.engine.production;
      if (spec && r.state === 'running') out.push({ projectId, production: spec.name, retentionDays: spec.retentionDays });
    }
    return out;
  }

  /** The engine running a project (tests, resend). */
  engine(projectId: string): ProductionEngine | undefined {
    return this.running.get(projectId)?.engine;
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.timer) clearInterval(this.timer);
    for (const r of this.running.values()) {
      await r.chain;
      await r.engine.stop();
      await r.engine.tracker.flush();
      await r.bus?.close();
    }
    this.running.clear();
  }
}
