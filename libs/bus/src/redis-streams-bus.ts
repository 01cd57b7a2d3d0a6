import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MessageEnvelope } from '@hie/envelope';
import { type Bus, BusError, type BusReceiver, type DeliverOptions, type ItemBusConfig, type ReplyFn } from './bus';
import { InProcessBus } from './in-process-bus';
import { DEFAULT_PARTITION_KEY, TRACEPARENT, partitionOf, traceparentOf } from './partition';

/** The little of a logger the bus uses (a pino logger fits). */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RedisStreamsBusOptions {
  /** A `redis://` URL, or a client (not closed by the bus; it makes its own blocking connections from it). */
  redis: string | Redis;
  /** Key prefix, e.g. `${HIE_CLUSTER_PREFIX}:bus:${projectId}`. Every key the bus writes starts with `${prefix}:`. */
  prefix: string;
  /** This node's consumer name in every group (stable across restarts: its leftovers are taken back at start). */
  nodeId: string;
  /** Partitions of an ordered item's stream; must be the same on every node. @defaultValue 16 */
  partitions?: number;
  /** Deliveries of one entry before it moves to the item's dead-letter stream. @defaultValue 5 */
  maxDeliveries?: number;
  /** An entry pending this long on a consumer that stopped confirming it is claimed by another. @defaultValue 30000 */
  claimIdleMs?: number;
  /**
   * A stream longer than this is trimmed (approximately: whole radix-tree nodes) of the entries
   * already acknowledged, never of one still pending or undelivered. @defaultValue 0 (trim all acknowledged)
   */
  maxLen?: number;
  log?: BusLogger;
  /** An entry went to the dead-letter stream (the engine marks the message failed in its store). */
  onDeadLetter?: (item: string, envelope: MessageEnvelope, deliveries: number) => void;
  /**
   * Awaited before each batch of XACKs, so an entry is acknowledged only after the store has
   * committed what processing it recorded (the engine passes its tracker's `flush`).
   */
  beforeAck?: () => Promise<void>;
  /** Longest XREADGROUP block (ms): how soon a consumer notices a new partition or a stop. @defaultValue 1000 */
  blockMs?: number;
  /** Entries one item's consumer holds at once (read, not yet acknowledged). @defaultValue 256 */
  window?: number;
  /**
   * Cluster-wide branch counting (the engine's tracker): each hand-off adds its credits to the
   * message's counter `${prefix}:open:${root}` in the same Lua call as its XADD, so the increment
   * always precedes any consumer's decrement (see {@link RedisStreamsBus.releaseBranches}).
   */
  branches?: StreamBranches;
  /** How long a branch counter lives untouched (a node lost before releasing it cannot grow Redis forever). @defaultValue 7 days */
  branchTtlMs?: number;
}

/**
 * The tracker's side of cluster-wide branch counting. A message's branches are counted per node
 * while they run there; a branch that crosses a stream carries one credit of the message's shared
 * counter to the node that takes it, and a node holding credits gives them back when its last
 * local branch of the message closes. The node whose release brings the counter to 0 completes
 * the message.
 */
export interface StreamBranches {
  /** Credits to add to the root's counter along with this hand-off's XADD (0: none). */
  sending(envelope: MessageEnvelope): number;
  /** The XADD carrying `credits` committed (`ok`), or failed (nothing was added). */
  sent(envelope: MessageEnvelope, credits: number, ok: boolean): void;
  /** An entry is handed to a receiver on this node: its branch and its credit arrive here. */
  arrived(envelope: MessageEnvelope): void;
  /** The receiver finished the entry at `item` (before its XACK): its credit goes back. */
  finished(envelope: MessageEnvelope, item: string): void;
  /** An entry that `arrived` was not taken, or was given back unfinished: it stays pending in the stream. */
  returned(envelope: MessageEnvelope): void;
}

/** What releasing a node's credits did to the message's counter. */
export interface BranchRelease {
  /** The counter reached 0 (now deleted): the message is complete, every branch on every node finished. */
  complete: boolean;
  /** The first item a branch failed at, on any node (only with `complete`). */
  failedAt?: string;
  /** The counter was not there (expired, or released already): nothing was counted. */
  missing?: boolean;
}

const GROUP = 'hie';
const NOT_FINISHED = new Set(['queue.closed', 'queue.aborted', 'engine.item_stopped', 'bus.closed']);
const quiet: BusLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Trim a stream of acknowledged entries only: below the oldest entry pending in any group, and
 * never past what a group has not been delivered yet. Atomic, so no entry can become pending
 * between the look and the trim. KEYS[1] stream; ARGV[1] maxLen. Returns the entries removed.
 */
const TRIM_LUA = `
local len = redis.call('XLEN', KEYS[1])
if len <= tonumber(ARGV[1]) then return 0 end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local cap = nil
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, g in ipairs(groups) do
  local name, pending, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1]
    elseif g[i] == 'pending' then pending = g[i + 1]
    elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  local bound = last
  if pending > 0 then
    local first = redis.call('XPENDING', KEYS[1], name, '-', '+', 1)
    bound = first[1][1]
  end
  if cap == nil or less(bound, cap) then cap = bound end
end
if cap == nil then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', cap)
`;
const TRIM_SHA = createHash('sha1').update(TRIM_LUA).digest('hex');

/** XADD plus the root counter's credits, atomically. KEYS[1] stream, KEYS[2] counter; ARGV credits, ttl ms, fields… */
const COUNTED_XADD_LUA = `
redis.call('HINCRBY', KEYS[2], 'n', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
`;

/**
 * Give back credits of a root counter. KEYS[1] counter; ARGV[1] credits, ARGV[2] failed item or ''.
 * Returns {-1} when the counter is gone, {n} while branches remain, {0[, failedAt]} when it reached 0 (deleted).
 */
const RELEASE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if ARGV[2] ~= '' then redis.call('HSETNX', KEYS[1], 'f', ARGV[2]) end
local n = redis.call('HINCRBY', KEYS[1], 'n', -tonumber(ARGV[1]))
if n > 0 then return {n} end
local f = redis.call('HGET', KEYS[1], 'f')
redis.call('DEL', KEYS[1])
if f then return {0, f} end
return {0}
`;
const RELEASE_SHA = createHash('sha1').update(RELEASE_LUA).digest('hex');
const WEEK_MS = 7 * 24 * 3600_000;

type Fields = Map<string, Buffer>;
interface StreamEntry {
  id: string;
  fields: Fields | null;
}

function toFields(raw: unknown): Fields | null {
  if (!Array.isArray(raw)) return null;
  const m: Fields = new Map();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const v: unknown = raw[i + 1];
    m.set(String(raw[i]), Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
  }
  return m;
}

function toEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const e of raw) {
    if (Array.isArray(e) && e.length >= 2) out.push({ id: String(e[0]), fields: toFields(e[1]) });
  }
  return out;
}

/** A Buffer over the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function ensureError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

/** An error crossing the reply stream: its code, kind, message and details survive. */
function errorJson(e: Error): string {
  const { code, kind, details } = e as Error & { code?: unknown; kind?: unknown; details?: unknown };
  return JSON.stringify({ name: e.name, message: e.message, code, kind, details });
}

function errorFromJson(text: string): Error {
  try {
    const o = JSON.parse(text) as { name?: string; message?: string; code?: string; kind?: string; details?: unknown };
    const err = Object.assign(new Error(o.message ?? 'remote error'), { code: o.code, kind: o.kind, details: o.details });
    if (o.name) err.name = o.name;
    return err;
  } catch {
    return new Error(text);
  }
}

/** One item's reader on this node. */
class Consumer {
  stopped = false;
  /** Streams whose group exists and whose leftovers were taken over. */
  readonly prepared = new Set<string>();
  /** stream → entry id → when it was handed to the receiver. */
  readonly inFlight = new Map<string, Map<string, number>>();
  held = 0;
  nextClaim = 0;
  private wake?: () => void;
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly item: string,
    readonly receiver: BusReceiver,
    readonly conn: Redis,
  ) {}

  hold(stream: string, id: string): boolean {
    let m = this.inFlight.get(stream);
    if (!m) this.inFlight.set(stream, (m = new Map()));
    if (m.has(id)) return false;
    m.set(id, Date.now());
    this.held++;
    return true;
  }

  isHeld(stream: string, id: string): boolean {
    return this.inFlight.get(stream)?.has(id) ?? false;
  }

  release(stream: string, id: string): void {
    if (this.inFlight.get(stream)?.delete(id)) {
      this.held--;
      this.notify();
    }
  }

  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves on the next release or stop, or after `ms`. */
  waitForRoom(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        r();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        r();
      };
    });
  }
}

interface PendingCall {
  resolve: (r: MessageEnvelope | undefined) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * The cluster bus: hand-offs travel as entries of Redis streams read by consumer groups.
 *
 * - Keys: `${prefix}:${item}:${partition}` (unordered items: partition 0 only, one stream shared
 *   by every node through the group), `${prefix}:${item}:dead` (dead letters) and
 *   `${prefix}:reply:${nodeId}` (responses to this node's sync hand-offs).
 * - An entry is `e` = the envelope in its binary form (header JSON + raw bytes, see
 *   `MessageEnvelope.toBytes`), plus `tp` = its W3C traceparent when it has one, and `rt`/`rc`
 *   (reply stream and correlation id) for a sync hand-off.
 * - Consumer group `hie` per stream; the consumer is the node id. XREADGROUP blocks on a
 *   dedicated connection per item. An entry is acknowledged (XACK, batched) only once the
 *   receiver has finished it: the `reply` the bus always passes to `accept` was called (after
 *   {@link RedisStreamsBusOptions.beforeAck}), never when it is merely queued.
 * - At-least-once: entries pending on a consumer that stopped confirming them for `claimIdleMs`
 *   are taken over with XAUTOCLAIM (a live consumer keeps its long-running entries fresh); after
 *   `maxDeliveries` deliveries an entry moves to the dead-letter stream.
 * - Sync hand-offs (`expectResponse`) go straight to the local receiver when the target runs on
 *   this node (as in-process); otherwise through the stream, the response coming back on this
 *   node's reply stream.
 */
export class RedisStreamsBus implements Bus {
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly prefix: string;
  private readonly nodeId: string;
  private readonly partitions: number;
  private readonly maxDeliveries: number;
  private readonly claimIdleMs: number;
  private readonly maxLen: number;
  private readonly blockMs: number;
  private readonly window: number;
  private readonly branchTtlMs: number;
  private readonly log: BusLogger;
  private readonly opts: RedisStreamsBusOptions;
  /** Sync hand-offs to items on this node skip Redis. */
  private readonly local = new InProcessBus();
  private readonly configs = new Map<string, ItemBusConfig>();
  private readonly owned = new Map<string, ReadonlySet<number> | 'all'>();
  private readonly consumers = new Map<string, Consumer>();
  /** Streams seen at or above their `maxQueue`: the next sender checks the real backlog first. */
  private readonly full = new Map<string, Promise<void> | true>();
  /** XADDs waiting for this event-loop turn's pipeline. */
  private adds: { key: string; fields: (string | Buffer)[]; withLength: boolean; credits?: { key: string; n: number }; resolve: (len: number) => void; reject: (e: Error) => void }[] = [];
  /** Per stream: its length at the last look, and this node's XADDs since. */
  private readonly lengths = new Map<string, { len: number; adds: number }>();
  private acks = new Map<string, string[]>();
  private ackScheduled = false;
  private acking: Promise<void> = Promise.resolve();
  private readonly trimState = new Map<string, { acks: number; at: number }>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly replyKey: string;
  private readonly calls = new Map<string, PendingCall>();
  private replyConn?: Redis;
  private replyLoop?: Promise<void>;
  private closed = false;
  /** Set when close() starts: no new hand-offs or registrations. */
  private closing = false;

  constructor(opts: RedisStreamsBusOptions) {
    this.opts = opts;
    this.prefix = opts.prefix;
    this.nodeId = opts.nodeId;
    this.partitions = opts.partitions ?? 16;
    this.maxDeliveries = opts.maxDeliveries ?? 5;
    this.claimIdleMs = opts.claimIdleMs ?? 30_000;
    this.maxLen = opts.maxLen ?? 0;
    this.blockMs = opts.blockMs ?? 1000;
    this.window = opts.window ?? 256;
    this.branchTtlMs = opts.branchTtlMs ?? WEEK_MS;
    this.log = opts.log ?? quiet;
    if (!Number.isInteger(this.partitions) || this.partitions < 1) throw new BusError('bus.invalid', 'partitions must be a positive integer');
    if (!Number.isInteger(this.maxDeliveries) || this.maxDeliveries < 1) throw new BusError('bus.invalid', 'maxDeliveries must be a positive integer');
    if (!opts.prefix || !opts.nodeId) throw new BusError('bus.invalid', 'prefix and nodeId are required');
    if (typeof opts.redis === 'string') {
      this.redis = new Redis(opts.redis, { maxRetriesPerRequest: 3 });
      this.ownsRedis = true;
    } else {
      this.redis = opts.redis;
      this.ownsRedis = false;
    }
    this.redis.on('error', (e: unknown) => this.log.warn({ err: ensureError(e) }, 'bus: redis connection error'));
    this.replyKey = `${this.prefix}:reply:${this.nodeId}`;
    this.heartbeat = setInterval(() => void this.keepFresh(), Math.max(50, Math.floor(this.claimIdleMs / 3)));
    this.heartbeat.unref();
  }

  // ── configuration ─────────────────────────────────────────────────────────────────────────

  /** How `item`'s stream is partitioned and bounded. Configure every item of the project, on every node. */
  configureItem(item: string, config: ItemBusConfig): void {
    if (config.maxQueue !== undefined && (!Number.isInteger(config.maxQueue) || config.maxQueue < 1)) {
      throw new BusError('bus.invalid', `maxQueue of "${item}" must be a positive integer`, { item });
    }
    this.configs.set(item, { ...config });
    this.full.clear();
    this.consumers.get(item)?.prepared.clear();
  }

  /** Which partitions of an ordered item this node reads (from the leader's assignments). @defaultValue `'all'` */
  setOwnedPartitions(item: string, partitions: number[] | 'all'): void {
    if (partitions !== 'all') {
      for (const p of partitions) {
        if (!Number.isInteger(p) || p < 0 || p >= this.partitions) {
          throw new BusError('bus.invalid', `partition ${p} of "${item}" is not in 0…${this.partitions - 1}`, { item, partition: p });
        }
      }
    }
    this.owned.set(item, partitions === 'all' ? 'all' : new Set(partitions));
    const c = this.consumers.get(item);
    if (!c) return;
    // A partition given up is prepared afresh if it comes back (its pending entries taken over again).
    const now = new Set(this.streamsOf(item));
    for (const key of c.prepared) if (!now.has(key)) c.prepared.delete(key);
    c.notify();
  }

  /**
   * Stop taking `item`'s entries from its streams (see {@link Bus.stopReading}). Entries already
   * taken stay fresh until finished, then are acknowledged; `register` reads again.
   */
  stopReading(item: string): void {
    const c = this.consumers.get(item);
    if (c && !c.stopped) void this.stopConsumer(c);
  }

  /** The stream key of one partition of an item. */
  streamKey(item: string, partition: number): string {
    return `${this.prefix}:${item}:${partition}`;
  }

  /** The dead-letter stream of an item. */
  deadLetterKey(item: string): string {
    return `${this.prefix}:${item}:dead`;
  }

  private configOf(item: string): ItemBusConfig | undefined {
    return this.configs.get(item) ?? (this.consumers.has(item) ? { ordered: false } : undefined);
  }

  /** The streams this node reads for an item now. */
  private streamsOf(item: string): string[] {
    const cfg = this.configOf(item);
    if (!cfg?.ordered) return [this.streamKey(item, 0)];
    const owned = this.owned.get(item) ?? 'all';
    const out: string[] = [];
    for (let p = 0; p < this.partitions; p++) if (owned === 'all' || owned.has(p)) out.push(this.streamKey(item, p));
    return out;
  }

  // ── Bus ───────────────────────────────────────────────────────────────────────────────────

  register(item: string, receiver: BusReceiver): () => void {
    if (this.closing) throw new BusError('bus.closed', 'the bus is closed');
    const unregisterLocal = this.local.register(item, receiver);
    const old = this.consumers.get(item);
    if (old) void this.stopConsumer(old);
    const conn = this.redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null, lazyConnect: false });
    conn.on('error', (e: unknown) => this.log.warn({ err: ensureError(e), item }, 'bus: blocking connection error'));
    const consumer = new Consumer(item, receiver, conn);
    this.consumers.set(item, consumer);
    consumer.done = this.consume(consumer);
    return () => {
      unregisterLocal();
      if (this.consumers.get(item) !== consumer) return;
      this.consumers.delete(item);
      void this.stopConsumer(consumer);
    };
  }

  has(item: string): boolean {
    return this.consumers.has(item) || this.configs.has(item);
  }

  async deliver(to: string, envelope: MessageEnvelope, opts: DeliverOptions = {}): Promise<MessageEnvelope | undefined> {
    if (this.closing) throw new BusError('bus.closed', 'the bus is closed');
    if (opts.expectResponse && this.local.has(to)) return this.local.deliver(to, envelope, opts);
    const cfg = this.configOf(to);
    if (!cfg) throw new BusError('bus.no_receiver', `no item named "${to}" is configured on the bus`, { to });
    const partition = cfg.ordered ? partitionOf(envelope, cfg.partitionKey ?? DEFAULT_PARTITION_KEY, this.partitions) : 0;
    const key = this.streamKey(to, partition);
    const deadline = opts.timeoutMs && opts.timeoutMs > 0 ? Date.now() + opts.timeoutMs : undefined;
    if (cfg.maxQueue !== undefined) await this.room(to, key, cfg, deadline);
    const fields: (string | Buffer)[] = ['e', asBuffer(envelope.toBytes())];
    const tp = traceparentOf(envelope);
    if (tp) fields.push('tp', tp);
    if (!opts.expectResponse) {
      await this.appendCounted(envelope, key, fields, cfg);
      opts.onQueued?.();
      return undefined;
    }
    const corr = randomUUID();
    fields.push('rt', this.replyKey, 'rc', corr);
    await this.startReplies();
    const response = new Promise<MessageEnvelope | undefined>((resolve, reject) => {
      const call: PendingCall = { resolve, reject };
      if (deadline !== undefined) {
        call.timer = setTimeout(() => {
          this.calls.delete(corr);
          reject(new BusError('bus.timeout', `no response from "${to}" within ${opts.timeoutMs} ms`, { to, timeoutMs: opts.timeoutMs }));
        }, Math.max(0, deadline - Date.now()));
      }
      this.calls.set(corr, call);
    });
    try {
      await this.appendCounted(envelope, key, fields, cfg);
    } catch (e) {
      const call = this.calls.get(corr);
      this.calls.delete(corr);
      if (call?.timer) clearTimeout(call.timer);
      response.catch(() => undefined);
      throw e;
    }
    opts.onQueued?.();
    return response;
  }

  /** The counter of a message's branches across the cluster (see {@link StreamBranches}). */
  branchKey(root: string): string {
    return `${this.prefix}:open:${root}`;
  }

  /** XADD with the tracker's credits for the envelope's root (when it counts branches). */
  private async appendCounted(envelope: MessageEnvelope, key: string, fields: (string | Buffer)[], cfg: ItemBusConfig): Promise<void> {
    const branches = this.opts.branches;
    const n = branches?.sending(envelope) ?? 0;
    if (!branches || n <= 0) return this.append(key, fields, cfg);
    const root = envelope.header.sessionId ?? envelope.header.messageId;
    try {
      await this.append(key, fields, cfg, { key: this.branchKey(root), n });
    } catch (e) {
      branches.sent(envelope, n, false);
      throw e;
    }
    branches.sent(envelope, n, true);
  }

  /**
   * Give back `credits` of a root's counter (see {@link StreamBranches}); `failedAt` names an item
   * a branch failed at, kept for whichever node completes the message.
   */
  async releaseBranches(root: string, credits: number, failedAt?: string): Promise<BranchRelease> {
    const key = this.branchKey(root);
    let res: unknown;
    try {
      res = await this.redis.call('EVALSHA', RELEASE_SHA, 1, key, credits, failedAt ?? '');
    } catch (e) {
      if (!ensureError(e).message.includes('NOSCRIPT')) throw e;
      res = await this.redis.call('EVAL', RELEASE_LUA, 1, key, credits, failedAt ?? '');
    }
    const [n, f] = res as [number, string?];
    if (Number(n) < 0) return { complete: false, missing: true };
    return Number(n) === 0 ? { complete: true, ...(f ? { failedAt: String(f) } : {}) } : { complete: false };
  }

  /** XADD; with a `maxQueue`, learns in the same round trip whether the stream is now full. */
  private async append(key: string, fields: (string | Buffer)[], cfg: ItemBusConfig, credits?: { key: string; n: number }): Promise<void> {
    // The length is asked along with the XADD when the stream may be near its bound: from half
    // of it on (by the last length seen plus this node's adds since), and every 32nd add anyway
    // (other nodes add too). Far from the bound an XADD goes alone.
    const max = cfg.maxQueue;
    let withLength = false;
    if (max !== undefined) {
      const seen = this.lengths.get(key) ?? { len: 0, adds: 0 };
      seen.adds++;
      this.lengths.set(key, seen);
      withLength = seen.len + seen.adds >= max / 2 || seen.adds >= 32;
      if (withLength) seen.adds = 0;
    }
    const len = await new Promise<number>((resolve, reject) => {
      this.adds.push({ key, fields, withLength, credits, resolve, reject });
      if (this.adds.length === 1) setImmediate(() => this.flushAdds());
    });
    if (!withLength || max === undefined) return;
    const seen = this.lengths.get(key);
    if (seen) seen.len = len;
    // XLEN counts acknowledged entries not trimmed yet too: only a hint to check the real backlog.
    if (len >= max && !this.full.has(key)) this.full.set(key, true);
  }

  /**
   * The XADDs of one event-loop turn leave in one pipeline: one write and one round trip for
   * many hand-offs (a command per write costs a syscall each). Order is kept: a pipeline runs
   * its commands in order, and a sender awaiting each hand-off puts the next in a later batch.
   */
  private flushAdds(): void {
    const batch = this.adds;
    this.adds = [];
    const pipe = this.redis.pipeline();
    for (const a of batch) {
      if (a.credits) pipe.call('EVAL', COUNTED_XADD_LUA, 2, a.key, a.credits.key, a.credits.n, this.branchTtlMs, ...a.fields);
      else pipe.call('XADD', a.key, '*', ...a.fields);
      if (a.withLength) pipe.call('XLEN', a.key);
    }
    pipe.exec().then(
      (res) => {
        let i = 0;
        for (const a of batch) {
          const [err] = res?.[i++] ?? [new Error('no reply from Redis')];
          const len = a.withLength ? Number(res?.[i++]?.[1] ?? 0) : 0;
          if (err) a.reject(err);
          else a.resolve(len);
        }
      },
      (e: unknown) => {
        for (const a of batch) a.reject(ensureError(e));
      },
    );
  }

  /**
   * A command whose reply keeps binary values as Buffers. Through a one-command pipeline: with
   * auto-pipelining on, ioredis 5.11.1's `callBuffer` drops the command name.
   */
  private async callBuffer(...args: [string, ...(string | number | Buffer)[]]): Promise<unknown> {
    const res = await this.redis.pipeline().callBuffer(...args).exec();
    const [err, value] = res?.[0] ?? [new Error('no reply'), undefined];
    if (err) throw err;
    return value;
  }

  /** Undelivered plus pending entries of a stream (XLEN when the group does not exist yet). */
  private async backlog(key: string): Promise<number> {
    const res = await this.redis.pipeline().call('XLEN', key).call('XINFO', 'GROUPS', key).exec();
    const len = Number(res?.[0]?.[1] ?? 0);
    const groups = res?.[1]?.[0] ? [] : (res?.[1]?.[1] as unknown[][] | undefined) ?? [];
    for (const g of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
      if (info.get('name') !== GROUP) continue;
      const lag = info.get('lag');
      const pending = Number(info.get('pending') ?? 0);
      // `lag` is null when Redis cannot tell (entries deleted mid-stream): the length bounds it.
      return lag === null || lag === undefined ? len : Number(lag) + pending;
    }
    return len;
  }

  /** Backpressure: wait (block) or refuse (reject) while the stream holds `maxQueue` entries. */
  private async room(item: string, key: string, cfg: ItemBusConfig, deadline: number | undefined): Promise<void> {
    const max = cfg.maxQueue ?? Infinity;
    for (let delay = 5; this.full.has(key); delay = Math.min(delay * 2, 200)) {
      if (this.closed) throw new BusError('bus.closed', 'the bus is closed');
      // One look at the backlog per stream at a time, however many senders wait.
      let check = this.full.get(key);
      if (check === true || check === undefined) {
        check = this.backlog(key).then((n) => {
          if (n < max) this.full.delete(key);
          else this.full.set(key, true);
        });
        this.full.set(key, check);
        check.catch(() => this.full.set(key, true));
      }
      await check;
      if (!this.full.has(key)) return;
      if (cfg.overflow === 'reject') throw new BusError('bus.full', `the stream of "${item}" holds ${max} entries (maxQueue)`, { to: item, maxQueue: max });
      if (deadline !== undefined && Date.now() >= deadline) {
        throw new BusError('bus.timeout', `"${item}" had no room within the time allowed`, { to: item });
      }
      await sleep(delay);
    }
  }

  // ── consuming ─────────────────────────────────────────────────────────────────────────────

  private async consume(c: Consumer): Promise<void> {
    let backoff = 100;
    while (!c.stopped && !this.closed) {
      try {
        const streams: string[] = [];
        for (const key of this.streamsOf(c.item)) if (c.prepared.has(key) || (await this.prepare(c, key))) streams.push(key);
        if (streams.length === 0) {
          // nothing owned yet, or partitions still finishing on their previous owner
          await c.waitForRoom(Math.min(this.blockMs, 250));
          continue;
        }
        if (Date.now() >= c.nextClaim) {
          c.nextClaim = Date.now() + Math.max(50, Math.floor(this.claimIdleMs / 2));
          for (const key of streams) await this.reclaim(c, key);
        }
        // Never more than the item's own queue can take: its `accept` then never refuses for room.
        const window = Math.min(this.window, this.configOf(c.item)?.maxQueue ?? Infinity);
        if (c.held >= window) {
          await c.waitForRoom(this.blockMs);
          continue;
        }
        const reply = await c.conn.callBuffer(
          'XREADGROUP',
          'GROUP',
          GROUP,
          this.nodeId,
          'COUNT',
          window - c.held,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...streams,
          ...streams.map(() => '>'),
        );
        if (Array.isArray(reply)) {
          for (const [rawKey, rawEntries] of reply as [Buffer, unknown][]) {
            const key = String(rawKey);
            for (const entry of toEntries(rawEntries)) await this.dispatch(c, key, entry, 1);
          }
        }
        backoff = 100;
      } catch (e) {
        if (c.stopped || this.closed) break;
        const err = ensureError(e);
        // The group is gone (Redis lost its data): create it again before the next read.
        if (err.message.includes('NOGROUP')) c.prepared.clear();
        this.log.warn({ err, item: c.item }, 'bus: reading the stream failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  /**
   * First read of a stream by this consumer: create the group (from the start, so entries added
   * before any node read them are kept) and take over what is pending there before reading new
   * entries. Unordered: this node's own leftovers from before a restart. Ordered partition (just
   * assigned here): every pending entry, oldest first, but only once no other live consumer works
   * on it: while the previous owner still confirms entries (it finishes what it had read), this
   * returns false and the partition waits; a dead owner's entries count as abandoned after
   * `claimIdleMs`. So a patient's messages never overtake each other across a handover.
   */
  private async prepare(c: Consumer, key: string): Promise<boolean> {
    try {
      await this.redis.call('XGROUP', 'CREATE', key, GROUP, '0', 'MKSTREAM');
    } catch (e) {
      if (!ensureError(e).message.includes('BUSYGROUP')) throw e;
    }
    const ordered = this.configOf(c.item)?.ordered ?? false;
    const page = 500;
    const take: { id: string; count: number }[] = [];
    for (let start = '-'; ; ) {
      const args: [string, ...(string | number)[]] = ['XPENDING', key, GROUP, start, '+', page];
      if (!ordered) args.push(this.nodeId);
      const pending = (await this.redis.call(...args)) as [string, string, number, number][];
      for (const [id, consumer, idle, count] of pending) {
        if (consumer === this.nodeId) {
          if (!c.isHeld(key, id)) take.push({ id, count: Number(count) });
        } else if (Number(idle) >= this.claimIdleMs) take.push({ id, count: Number(count) });
        else return false;
      }
      if (pending.length < page) break;
      start = `(${pending[pending.length - 1][0]}`;
    }
    for (let i = 0; i < take.length; i += page) {
      const chunk = take.slice(i, i + page);
      const counts = new Map(chunk.map((p) => [p.id, p.count + 1]));
      const claimed = toEntries(await this.callBuffer('XCLAIM', key, GROUP, this.nodeId, 0, ...chunk.map((p) => p.id)));
      for (const entry of claimed) await this.dispatch(c, key, entry, counts.get(entry.id) ?? 1);
    }
    c.prepared.add(key);
    return true;
  }

  /** XAUTOCLAIM entries idle for `claimIdleMs` (their consumer died or lost them), then deliver or dead-letter each. */
  private async reclaim(c: Consumer, key: string): Promise<void> {
    let cursor = '0-0';
    do {
      if (c.held >= this.window) return;
      const res = (await this.callBuffer('XAUTOCLAIM', key, GROUP, this.nodeId, this.claimIdleMs, cursor, 'COUNT', 100)) as unknown[];
      cursor = String(res[0]);
      const entries = toEntries(res[1]).filter((e) => !c.isHeld(key, e.id));
      if (entries.length === 0) continue;
      const pending = (await this.redis.call('XPENDING', key, GROUP, entries[0].id, entries[entries.length - 1].id, entries.length, this.nodeId)) as [string, string, number, number][];
      const counts = new Map(pending.map((p) => [p[0], Number(p[3])]));
      for (const entry of entries) await this.dispatch(c, key, entry, counts.get(entry.id) ?? this.maxDeliveries);
    } while (cursor !== '0-0' && !c.stopped);
  }

  /** Hand one entry to the receiver; its `reply` acknowledges it. */
  private async dispatch(c: Consumer, key: string, entry: StreamEntry, deliveries: number): Promise<void> {
    const bytes = entry.fields?.get('e');
    let envelope: MessageEnvelope | undefined;
    let problem: string | undefined;
    if (!bytes) problem = 'the entry holds no envelope';
    else {
      try {
        envelope = MessageEnvelope.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      } catch (e) {
        problem = ensureError(e).message;
      }
    }
    if (!envelope || deliveries > this.maxDeliveries) {
      // Reported: the deliveries made to the item (this claim is not one of them).
      await this.deadLetter(c.item, key, entry, envelope ? deliveries - 1 : deliveries, envelope, problem);
      return;
    }
    if (!c.hold(key, entry.id)) return;
    // The entry's trace context (W3C traceparent) is the one the consumer continues.
    const tp = entry.fields?.get('tp')?.toString('latin1');
    if (tp && TRACEPARENT.test(tp)) envelope.header.customProperties['traceparent'] = tp;
    const branches = this.opts.branches;
    branches?.arrived(envelope);
    const arrived = envelope;
    const replyTo = entry.fields?.get('rt');
    const corr = entry.fields?.get('rc');
    let answered = false;
    const reply: ReplyFn = (result) => {
      if (answered) return;
      answered = true;
      c.release(key, entry.id);
      if (result.error && NOT_FINISHED.has(errorCode(result.error) ?? '')) {
        // Never processed here (the item stopped): left pending for this or another node to take.
        branches?.returned(arrived);
        return;
      }
      branches?.finished(arrived, c.item);
      this.ack(key, entry.id);
      if (replyTo && corr) void this.sendReply(String(replyTo), String(corr), result);
    };
    try {
      await c.receiver.accept(envelope, reply);
    } catch (e) {
      // Not queued: the entry stays pending and is claimed again after claimIdleMs.
      if (!answered) {
        answered = true;
        c.release(key, entry.id);
        branches?.returned(arrived);
      }
      this.log.warn({ err: ensureError(e), item: c.item, entry: entry.id }, 'bus: the item did not take the entry; it stays pending');
    }
  }

  private async deadLetter(item: string, key: string, entry: StreamEntry, deliveries: number, envelope: MessageEnvelope | undefined, problem?: string): Promise<void> {
    const fields: (string | Buffer)[] = ['stream', key, 'id', entry.id, 'deliveries', String(deliveries)];
    for (const [f, v] of entry.fields ?? []) fields.push(f, v);
    if (problem) fields.push('error', problem);
    await this.redis.multi().callBuffer('XADD', this.deadLetterKey(item), '*', ...fields).call('XACK', key, GROUP, entry.id).exec();
    this.log.error({ item, entry: entry.id, deliveries, messageId: envelope?.header.messageId, problem }, 'bus: entry moved to the dead-letter stream');
    const replyTo = entry.fields?.get('rt');
    const corr = entry.fields?.get('rc');
    if (replyTo && corr) {
      const error = new BusError('bus.dead_letter', `"${item}" gave up on the message after ${deliveries} deliveries`, { to: item, deliveries });
      void this.sendReply(String(replyTo), String(corr), { error });
    }
    if (envelope) {
      try {
        this.opts.onDeadLetter?.(item, envelope, deliveries);
      } catch (e) {
        this.log.error({ err: ensureError(e), item }, 'bus: onDeadLetter failed');
      }
    }
  }

  /** Keep entries still being processed here from looking abandoned (XCLAIM JUSTID: no delivery counted). */
  private async keepFresh(): Promise<void> {
    const old = Date.now() - Math.floor(this.claimIdleMs / 3);
    const pipe = this.redis.pipeline();
    let n = 0;
    for (const c of this.consumers.values()) {
      for (const [key, ids] of c.inFlight) {
        const stale = [...ids].filter(([, at]) => at <= old).map(([id]) => id);
        if (stale.length === 0) continue;
        pipe.call('XCLAIM', key, GROUP, this.nodeId, 0, ...stale, 'JUSTID');
        n++;
      }
    }
    if (n > 0) await pipe.exec().catch(() => undefined);
  }

  // ── acknowledging ────────────────────────────────────────────────────────────────────────

  private ack(key: string, id: string): void {
    if (this.closed) return;
    let ids = this.acks.get(key);
    if (!ids) this.acks.set(key, (ids = []));
    ids.push(id);
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => {
        this.ackScheduled = false;
        this.acking = this.acking.then(() => this.flushAcks());
      });
    }
  }

  /** One round trip for every XACK due (after `beforeAck`), then trims the streams that had many. */
  private async flushAcks(): Promise<void> {
    const batch = this.acks;
    if (batch.size === 0) return;
    this.acks = new Map();
    try {
      await this.opts.beforeAck?.();
      const pipe = this.redis.pipeline();
      for (const [key, ids] of batch) pipe.call('XACK', key, GROUP, ...ids);
      const res = await pipe.exec();
      for (const [err] of res ?? []) if (err) throw err;
    } catch (e) {
      if (this.closed) return;
      // Kept for the next flush: an ack lost here would mean the entry is processed twice.
      for (const [key, ids] of batch) this.acks.set(key, [...ids, ...(this.acks.get(key) ?? [])]);
      this.log.warn({ err: ensureError(e) }, 'bus: acknowledging failed; retrying');
      await sleep(200);
      this.acking = this.acking.then(() => this.flushAcks());
      return;
    }
    const now = Date.now();
    for (const [key, ids] of batch) {
      const t = this.trimState.get(key) ?? { acks: 0, at: 0 };
      t.acks += ids.length;
      this.trimState.set(key, t);
      if (t.acks >= 100 || now - t.at >= 1000) {
        t.acks = 0;
        t.at = now;
        await this.trim(key).catch((e: unknown) => this.log.warn({ err: ensureError(e), key }, 'bus: trimming failed'));
      }
    }
  }

  /** Trim acknowledged entries of a stream beyond `maxLen` (never a pending or undelivered one). */
  async trim(key: string): Promise<number> {
    try {
      return Number(await this.redis.call('EVALSHA', TRIM_SHA, 1, key, this.maxLen));
    } catch (e) {
      if (!ensureError(e).message.includes('NOSCRIPT')) throw e;
      return Number(await this.redis.call('EVAL', TRIM_LUA, 1, key, this.maxLen));
    }
  }

  // ── sync hand-offs across nodes ───────────────────────────────────────────────────────────

  private async sendReply(replyTo: string, corr: string, result: { response?: MessageEnvelope; error?: Error }): Promise<void> {
    const fields: (string | Buffer)[] = ['rc', corr];
    if (result.error) fields.push('x', errorJson(result.error));
    else if (result.response) fields.push('e', asBuffer(result.response.toBytes()));
    try {
      // A reply stream is short-lived: bounded, and gone a while after its node stops asking.
      await this.redis.pipeline().callBuffer('XADD', replyTo, 'MAXLEN', '~', 10_000, '*', ...fields).call('PEXPIRE', replyTo, 600_000).exec();
    } catch (e) {
      this.log.warn({ err: ensureError(e), replyTo }, 'bus: sending a response failed (the caller times out)');
    }
  }

  private async startReplies(): Promise<void> {
    if (this.replyLoop) return;
    const conn = this.redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: null });
    conn.on('error', (e: unknown) => this.log.warn({ err: ensureError(e) }, 'bus: reply connection error'));
    this.replyConn = conn;
    // Replies meant for an earlier life of this node are of no use: start empty.
    const ready = this.redis.call('DEL', this.replyKey);
    this.replyLoop = ready.then(() => this.readReplies(conn));
    await ready;
  }

  private async readReplies(conn: Redis): Promise<void> {
    let last = '0-0';
    while (!this.closed) {
      try {
        const res = await conn.callBuffer('XREAD', 'COUNT', 500, 'BLOCK', this.blockMs, 'STREAMS', this.replyKey, last);
        if (!Array.isArray(res)) continue;
        for (const [, raw] of res as [Buffer, unknown][]) {
          for (const entry of toEntries(raw)) {
            last = entry.id;
            this.settleCall(entry.fields);
          }
        }
      } catch (e) {
        if (this.closed) return;
        this.log.warn({ err: ensureError(e) }, 'bus: reading responses failed; retrying');
        await sleep(200);
      }
    }
  }

  private settleCall(fields: Fields | null): void {
    const corr = fields?.get('rc');
    const call = corr ? this.calls.get(String(corr)) : undefined;
    if (!call || !fields) return;
    this.calls.delete(String(corr));
    if (call.timer) clearTimeout(call.timer);
    const error = fields.get('x');
    const bytes = fields.get('e');
    if (error) call.reject(errorFromJson(String(error)));
    else if (!bytes) call.resolve(undefined);
    else {
      try {
        call.resolve(MessageEnvelope.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
      } catch (e) {
        call.reject(ensureError(e));
      }
    }
  }

  // ── life-cycle ───────────────────────────────────────────────────────────────────────────

  private async stopConsumer(c: Consumer): Promise<void> {
    c.stopped = true;
    c.notify();
    // Cuts a blocked XREADGROUP short; entries still held stay pending (another node claims them).
    c.conn.disconnect();
    await c.done;
  }

  /** Stops reading, sends the acknowledgements due, rejects waiting sync calls; closes only the connections it opened. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.all(consumers.map((c) => this.stopConsumer(c)));
    await this.acking;
    await this.flushAcks().catch(() => undefined);
    this.closed = true;
    for (const [corr, call] of this.calls) {
      if (call.timer) clearTimeout(call.timer);
      call.reject(new BusError('bus.closed', 'the bus closed before the response came', { corr }));
    }
    this.calls.clear();
    this.replyConn?.disconnect();
    await this.replyLoop?.catch(() => undefined);
    await this.local.close();
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
