/**
 * The cluster Coordinator on etcd (etcd3 client). Keys, all under `${prefix}/`:
 * - `desired/<projectId>`: desired state (JSON), written by the control plane;
 * - `nodes/<nodeId>`: a live engine node, under its lease (TTL 5 s, kept alive);
 * - `status/<nodeId>`: the node's last status report, under the same lease;
 * - `election/leader/<lease>`: the etcd3 Election every node campaigns in;
 * - `assignments`: who runs which singleton and partition, written by the leader in a txn that
 *   compares its election key's create revision, so a deposed leader's write fails;
 * - `commands/<nodeId>/<id>` and `answers/<id>/<nodeId>`: commands to nodes and their answers.
 */
import { randomUUID } from 'node:crypto';
import type { Campaign, Election, Etcd3, IKeyValue, Lease, Namespace, Watcher } from 'etcd3';
import {
  type Assignments,
  type Command,
  type CommandResult,
  ClusterError,
  type Coordinator,
  type DesiredState,
  type NodeStatus,
} from './coordinator';
import { computeAssignments } from './assignments';
import { isSealedValue, type ValueCipher } from './sealed';

/** The few logger methods the coordinator uses (pino's Logger has them). */
export interface ClusterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EtcdNodeOptions {
  nodeId: string;
  /** Whether an item type runs on one node only (listeners, pollers, types declaring `singleton`). */
  isSingleton: (type: string) => boolean;
  /**
   * Lease TTL in seconds (etcd3 keeps it alive every TTL/3). A dead node's singletons move after
   * about TTL + 0.3 s: 4 s keeps failover under the 5 s bound. @defaultValue 4
   */
  ttlSec?: number;
  /** Partitions of an ordered item's stream. @defaultValue 16 */
  partitions?: number;
}

export interface EtcdCoordinatorOptions {
  /** etcd client URLs (ETCD_ENDPOINTS, comma-separated there). */
  endpoints: string[];
  /** Key prefix (HIE_CLUSTER_PREFIX). @defaultValue 'hie' */
  prefix?: string;
  /** Set on engine nodes: register under a lease, campaign, take commands and assignments. */
  node?: EtcdNodeOptions;
  /**
   * Seals desired state in etcd (it carries secret settings in clear for the engines); the same
   * secret on the control plane and every node (`etcdCipher(HIE_SECRET_KEY)`). Unset: stored in clear.
   */
  cipher?: ValueCipher;
  log?: ClusterLogger;
}

const silent: ClusterLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const text = (kv: IKeyValue) => kv.value.toString('utf8');

function parse<T>(raw: string | null | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

/**
 * {@link Coordinator} on etcd. The control plane opens one without `node`; each engine node opens
 * one with `node` and `await start()`s it before use.
 */
export class EtcdCoordinator implements Coordinator {
  readonly prefix: string;
  // etcd3 (gRPC) takes a second or more to load: only cluster processes load it, in start().
  private etcd?: { client: Etcd3; ns: Namespace };
  private readonly log: ClusterLogger;
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  // Node membership.
  private lease?: Lease;
  private alive = false;
  private lastKeepAlive = 0;
  private fenceTimer?: NodeJS.Timeout;
  private rejoinTimer?: NodeJS.Timeout;
  /** A lease for command keys on a control-plane coordinator (no node lease). */
  private sessionLease?: Lease;

  // Leadership.
  private election?: Election;
  private campaign?: Campaign;
  private fence?: { key: string; revision: string; epoch: string };
  private recomputeTimer?: NodeJS.Timeout;
  private computing: Promise<void> = Promise.resolve();

  // Assignments as this process last saw them.
  private assignments?: Assignments;
  private readonly assignmentListeners = new Set<(a: Assignments) => void>();
  private assignmentWatch?: Promise<void>;

  constructor(private readonly opts: EtcdCoordinatorOptions) {
    this.prefix = opts.prefix ?? 'hie';
    this.log = opts.log ?? silent;
  }

  private get client(): Etcd3 {
    if (!this.etcd) throw new ClusterError('cluster.not_started', 'EtcdCoordinator: call start() first');
    return this.etcd.client;
  }

  private get ns(): Namespace {
    if (!this.etcd) throw new ClusterError('cluster.not_started', 'EtcdCoordinator: call start() first');
    return this.etcd.ns;
  }

  /** The node id when this coordinator is an engine node's. */
  get nodeId(): string | undefined {
    return this.opts.node?.nodeId;
  }

  get clustered(): boolean {
    return this.alive;
  }

  /** True while this node is the leader (holds the election and its fencing key). */
  get leading(): boolean {
    return this.fence !== undefined;
  }

  /**
   * Connect (before any other call): check etcd answers; on a node also register under a lease, start campaigning and
   * watching assignments. Resolves once registered.
   */
  async start(): Promise<void> {
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({ hosts: this.opts.endpoints });
    this.etcd = { client, ns: client.namespace(`${this.prefix}/`) };
    try {
      await this.ns.get('ping').exec();
    } catch (e) {
      throw new ClusterError('cluster.unreachable', `etcd does not answer at ${this.opts.endpoints.join(',')}: ${(e as Error).message}`);
    }
    if (!this.opts.node) return;
    await this.join();
    this.ensureAssignmentWatch();
    await this.assignmentWatch;
    this.campaignForLeader();
    await this.watchPrefix('nodes/', () => this.scheduleRecompute(), () => this.scheduleRecompute());
    await this.watchPrefix('desired/', () => this.scheduleRecompute());
  }

  // ── membership ──────────────────────────────────────────────────────────────────────────────

  private get ttlSec(): number {
    return this.opts.node?.ttlSec ?? 4;
  }

  /** Register under a fresh lease; the fence timer stops singletons before etcd could expire it. */
  private async join(): Promise<void> {
    const node = this.opts.node!;
    const lease = this.ns.lease(this.ttlSec, { autoKeepAlive: true });
    this.lease = lease;
    lease.on('keepaliveSucceeded', () => {
      if (this.lease === lease) this.lastKeepAlive = Date.now();
    });
    lease.on('lost', (err) => {
      if (this.lease === lease) this.lost(`lease lost: ${err.message}`);
    });
    await lease.grant();
    await lease.put(`nodes/${node.nodeId}`).value(JSON.stringify({ nodeId: node.nodeId, joinedAt: Date.now() }));
    this.lastKeepAlive = Date.now();
    this.alive = true;
    this.log.info({ node: node.nodeId, lease: await lease.grant() }, 'joined the cluster');
    this.emitAssignments();
    // etcd expires the lease TTL after the last keep-alive it received; we stop our singletons half a
    // second before that counted from the last keep-alive we saw answered, so two nodes never overlap.
    clearInterval(this.fenceTimer);
    this.fenceTimer = setInterval(() => {
      if (this.alive && Date.now() - this.lastKeepAlive > this.ttlSec * 1000 - 500) this.lost('no keep-alive answered within the lease TTL');
    }, 100);
    this.fenceTimer.unref();
  }

  private lost(reason: string): void {
    if (!this.alive || this.closed) return;
    this.alive = false;
    this.log.warn({ node: this.nodeId, reason }, 'lost the cluster lease: stopping singletons');
    this.stepDown('the node lease was lost');
    this.emitAssignments();
    const old = this.lease;
    this.lease = undefined;
    void old?.revoke().catch(() => undefined);
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    if (this.closed) return;
    clearTimeout(this.rejoinTimer);
    this.rejoinTimer = setTimeout(() => {
      this.join().then(
        () => this.campaignForLeader(),
        (e: unknown) => {
          this.log.warn({ err: e }, 'could not rejoin the cluster; retrying');
          void this.lease?.revoke().catch(() => undefined);
          this.lease = undefined;
          this.scheduleRejoin();
        },
      );
    }, 1000);
    this.rejoinTimer.unref();
  }

  // ── leadership and assignments ──────────────────────────────────────────────────────────────

  private campaignForLeader(): void {
    if (this.closed || !this.opts.node || this.campaign) return;
    this.election ??= this.ns.election('leader', this.ttlSec);
    const campaign = this.election.campaign(this.opts.node.nodeId);
    this.campaign = campaign;
    campaign.on('elected', () => {
      void this.becomeLeader(campaign).catch((e: unknown) => this.log.error({ err: e }, 'could not take up leadership'));
    });
    campaign.on('error', (err) => {
      if (this.campaign !== campaign) return;
      this.log.warn({ err }, 'election campaign failed');
      this.stepDown('campaign error');
      this.campaign = undefined;
      if (this.alive) setTimeout(() => this.campaignForLeader(), 500).unref();
    });
  }

  private async becomeLeader(campaign: Campaign): Promise<void> {
    if (this.campaign !== campaign) return;
    const key = await campaign.getCampaignKey();
    const res = await this.client.get(key).exec();
    const kv = res.kvs[0];
    if (!kv) throw new ClusterError('cluster.not_leader', 'elected, but the election key is gone');
    this.fence = { key, revision: String(kv.create_revision), epoch: `${kv.lease}:${kv.create_revision}` };
    this.log.info({ node: this.nodeId, epoch: this.fence.epoch }, 'elected leader');
    this.scheduleRecompute(0);
  }

  private stepDown(reason: string): void {
    if (this.fence) this.log.warn({ node: this.nodeId, reason }, 'no longer the leader');
    this.fence = undefined;
    const c = this.campaign;
    this.campaign = undefined;
    void c?.resign().catch(() => undefined);
  }

  private scheduleRecompute(delayMs = 50): void {
    if (!this.fence || this.closed) return;
    clearTimeout(this.recomputeTimer);
    this.recomputeTimer = setTimeout(() => {
      this.computing = this.computing.then(() => this.recompute()).catch((e: unknown) => {
        this.log.error({ err: e }, 'could not compute assignments; retrying');
        this.scheduleRecompute(500);
      });
    }, delayMs);
  }

  /** Leader only: compute assignments from live nodes and desired state; write them fenced. */
  private async recompute(): Promise<void> {
    const fence = this.fence;
    const node = this.opts.node;
    if (!fence || !node) return;
    const [nodes, desired, current] = await Promise.all([this.ns.getAll().prefix('nodes/').keys(), this.listDesired(), this.readAssignments()]);
    const live = nodes.map((k) => k.slice('nodes/'.length)).sort();
    const next = computeAssignments({
      previous: current,
      nodes: live,
      desired,
      isSingleton: node.isSingleton,
      partitions: node.partitions ?? 16,
      leaderNodeId: node.nodeId,
      epoch: fence.epoch,
    });
    if (current && current.epoch === next.epoch && JSON.stringify([current.singletons, current.partitions]) === JSON.stringify([next.singletons, next.partitions])) return;
    const r = await this.client
      .if(fence.key, 'Create', '==', fence.revision)
      .then(this.client.put(`${this.prefix}/assignments`).value(JSON.stringify(next)))
      .commit();
    if (!r.succeeded) {
      this.stepDown('fenced out: the election key changed');
      if (this.alive) setTimeout(() => this.campaignForLeader(), 500).unref();
      return;
    }
    this.log.info({ epoch: next.epoch, nodes: live, singletons: next.singletons }, 'assignments written');
  }

  private async readAssignments(): Promise<Assignments | undefined> {
    return parse<Assignments>(await this.ns.get('assignments').string());
  }

  private ensureAssignmentWatch(): void {
    this.assignmentWatch ??= (async () => {
      const res = await this.ns.get('assignments').exec();
      const kv = res.kvs[0];
      if (kv) this.assignments = parse<Assignments>(text(kv));
      const w = await this.ns.watch().key('assignments').startRevision(String(Number(res.header.revision) + 1)).create();
      this.watchers.add(w);
      w.on('put', (kv2) => {
        const a = parse<Assignments>(text(kv2));
        if (!a) return;
        this.assignments = a;
        this.emitAssignments();
      });
    })();
  }

  private emitAssignments(): void {
    const a = this.assignments ?? { epoch: '', leaderNodeId: '', singletons: {}, partitions: {}, computedAt: 0 };
    for (const l of this.assignmentListeners) l(structuredClone(a));
  }

  watchAssignments(listener: (a: Assignments) => void): () => void {
    this.assignmentListeners.add(listener);
    this.ensureAssignmentWatch();
    void this.assignmentWatch!.then(
      () => {
        if (this.assignmentListeners.has(listener)) listener(structuredClone(this.assignments ?? { epoch: '', leaderNodeId: '', singletons: {}, partitions: {}, computedAt: 0 }));
      },
      (e: unknown) => this.log.error({ err: e }, 'could not watch assignments'),
    );
    return () => this.assignmentListeners.delete(listener);
  }

  /** The assignments this process saw last (tests, status). */
  currentAssignments(): Assignments | undefined {
    return this.assignments && structuredClone(this.assignments);
  }

  // ── desired state ───────────────────────────────────────────────────────────────────────────

  async setDesired(state: DesiredState): Promise<void> {
    const key = `desired/${state.projectId}`;
    const json = JSON.stringify(state);
    await this.ns.put(key).value(this.opts.cipher ? this.opts.cipher.seal(json, `${this.prefix}/${key}`) : json);
  }

  /** A stored desired state, opened when sealed; undefined (and logged) when it cannot be. */
  private desiredOf(key: string, value: string | null): DesiredState | undefined {
    if (value === null) return undefined;
    if (!isSealedValue(value)) return parse<DesiredState>(value);
    try {
      if (!this.opts.cipher) throw new ClusterError('cluster.sealed', `${key} is sealed: set HIE_SECRET_KEY (the control plane's) on this process`);
      return parse<DesiredState>(this.opts.cipher.open(value, `${this.prefix}/${key}`));
    } catch (e) {
      this.log.error({ err: e, key }, 'cannot read a desired state');
      return undefined;
    }
  }

  async getDesired(projectId: string): Promise<DesiredState | undefined> {
    const key = `desired/${projectId}`;
    return this.desiredOf(key, await this.ns.get(key).string());
  }

  async listDesired(): Promise<DesiredState[]> {
    const all = await this.ns.getAll().prefix('desired/').strings();
    return Object.entries(all).flatMap(([k, v]) => this.desiredOf(k, v) ?? []);
  }

  watchDesired(listener: (state: DesiredState) => void): () => void {
    return this.watchKvs(
      'desired/',
      (kv) => {
        const raw = kv.key.toString('utf8');
        const d = this.desiredOf(raw.startsWith(`${this.prefix}/`) ? raw.slice(this.prefix.length + 1) : raw, text(kv));
        if (d) listener(d);
      },
      true,
    );
  }

  // ── status ──────────────────────────────────────────────────────────────────────────────────

  async reportStatus(status: NodeStatus): Promise<void> {
    const value = JSON.stringify(status);
    // A node's status lives under its lease: a dead node's report disappears with it.
    if (status.nodeId === this.nodeId && this.lease && this.alive) await this.lease.put(`status/${status.nodeId}`).value(value);
    else if (status.nodeId !== this.nodeId) await this.ns.put(`status/${status.nodeId}`).value(value);
  }

  async listStatus(): Promise<NodeStatus[]> {
    const all = await this.ns.getAll().prefix('status/').strings();
    return Object.values(all).flatMap((v) => parse<NodeStatus>(v) ?? []);
  }

  watchStatus(listener: (status: NodeStatus) => void): () => void {
    return this.watchValues<NodeStatus>('status/', listener, false);
  }

  /** Live node ids (registered under a lease). */
  async listNodes(): Promise<string[]> {
    const keys = await this.ns.getAll().prefix('nodes/').keys();
    return keys.map((k) => k.slice('nodes/'.length)).sort();
  }

  // ── commands ────────────────────────────────────────────────────────────────────────────────

  /**
   * `message.inject` goes to one node running the project (a resend must run once); item
   * start/stop/restart go to every node running it (a singleton's owner, if assigned, alone),
   * and resolve ok when all answered ok, else with the first failure.
   */
  async sendCommand(command: Command, timeoutMs = 30_000): Promise<CommandResult> {
    const live = new Set(await this.listNodes());
    const running = (await this.listStatus())
      .filter((s) => live.has(s.nodeId) && s.productions.some((p) => p.projectId === command.projectId))
      .map((s) => s.nodeId)
      .sort();
    if (running.length === 0) throw new ClusterError('cluster.no_node', 'no live engine node runs this production');
    const owner = this.assignments?.singletons[command.projectId]?.[command.item] ?? (await this.readAssignments())?.singletons[command.projectId]?.[command.item];
    const targets = command.kind === 'message.inject' ? [running[0]!] : owner && running.includes(owner) ? [owner] : running;

    const id = randomUUID();
    const answers = new Map<string, CommandResult>();
    const lease = await this.commandLease();
    let settle: () => void = () => undefined;
    const done = new Promise<void>((r) => (settle = r));
    const w = await this.ns.watch().prefix(`answers/${id}/`).create();
    let timer: NodeJS.Timeout | undefined;
    try {
      w.on('put', (kv) => {
        const r = parse<CommandResult>(text(kv));
        const from = kv.key.toString('utf8').split('/').pop()!;
        if (r && targets.includes(from)) answers.set(from, r);
        if (answers.size === targets.length) settle();
      });
      for (const t of targets) await lease.put(`commands/${t}/${id}`).value(JSON.stringify(command));
      await Promise.race([
        done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ClusterError('cluster.timeout', `no answer to ${command.kind} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await w.cancel();
      await this.ns.delete().prefix(`answers/${id}/`).catch(() => undefined);
      for (const t of targets) await this.ns.delete().key(`commands/${t}/${id}`).catch(() => undefined);
    }
    const results = targets.map((t) => answers.get(t)!);
    return results.find((r) => !r.ok) ?? results[0]!;
  }

  private async commandLease(): Promise<Lease> {
    if (this.lease && this.alive) return this.lease;
    if (!this.sessionLease) {
      const l = this.ns.lease(30, { autoKeepAlive: true });
      l.on('lost', () => {
        if (this.sessionLease === l) this.sessionLease = undefined;
      });
      this.sessionLease = l;
    }
    await this.sessionLease.grant();
    return this.sessionLease;
  }

  onCommand(handler: (command: Command) => Promise<CommandResult>): () => void {
    const nodeId = this.nodeId;
    if (!nodeId) throw new ClusterError('cluster.not_a_node', 'only an engine node takes commands');
    const base = `commands/${nodeId}/`;
    const handle = async (kv: IKeyValue) => {
      const command = parse<Command>(text(kv));
      const id = kv.key.toString('utf8').split('/').pop()!;
      if (!command) return;
      let result: CommandResult;
      try {
        result = await handler(command);
      } catch (e) {
        result = { ok: false, error: { code: 'engine.command_failed', message: (e as Error).message }, nodeId };
      }
      await this.ns.put(`answers/${id}/${nodeId}`).value(JSON.stringify(result)).catch(() => undefined);
      await this.ns.delete().key(`${base}${id}`).catch(() => undefined);
    };
    return this.watchKvs(base, (kv) => void handle(kv), true);
  }

  // ── watch plumbing ──────────────────────────────────────────────────────────────────────────

  private watchValues<T>(prefix: string, listener: (v: T) => void, initial: boolean): () => void {
    return this.watchKvs(
      prefix,
      (kv) => {
        const v = parse<T>(text(kv));
        if (v) listener(v);
      },
      initial,
    );
  }

  /** Current keys under `prefix` (when `initial`), then every put, from the same revision on. */
  private watchKvs(prefix: string, onPut: (kv: IKeyValue) => void, initial: boolean): () => void {
    let cancelled = false;
    let watcher: Watcher | undefined;
    void (async () => {
      const res = await this.ns.getAll().prefix(prefix).exec();
      if (cancelled) return;
      if (initial) for (const kv of res.kvs) onPut(kv);
      const w = await this.ns.watch().prefix(prefix).startRevision(String(Number(res.header.revision) + 1)).create();
      if (cancelled) return void w.cancel();
      watcher = w;
      this.watchers.add(w);
      w.on('put', (kv) => onPut(kv));
    })().catch((e: unknown) => this.log.error({ err: e, prefix }, 'etcd watch failed'));
    return () => {
      cancelled = true;
      if (watcher) {
        this.watchers.delete(watcher);
        void watcher.cancel();
      }
    };
  }

  private async watchPrefix(prefix: string, onPut: () => void, onDelete?: () => void): Promise<void> {
    const w = await this.ns.watch().prefix(prefix).create();
    this.watchers.add(w);
    w.on('put', () => onPut());
    if (onDelete) w.on('delete', () => onDelete());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.fenceTimer);
    clearTimeout(this.rejoinTimer);
    clearTimeout(this.recomputeTimer);
    this.assignmentListeners.clear();
    const campaign = this.campaign;
    this.campaign = undefined;
    this.fence = undefined;
    this.alive = false;
    await campaign?.resign().catch(() => undefined);
    for (const w of this.watchers) await w.cancel().catch(() => undefined);
    this.watchers.clear();
    await this.lease?.revoke().catch(() => undefined);
    await this.sessionLease?.revoke().catch(() => undefined);
    this.etcd?.client.close();
  }
}
