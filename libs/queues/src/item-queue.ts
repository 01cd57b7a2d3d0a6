import { QueueError } from './errors';
import { RingBuffer } from './ring-buffer';
import { WaitHistogram, type WaitHistogramSnapshot } from './wait-histogram';
import { WaitStats } from './wait-stats';
import { WaiterList, type WaiterNode } from './waiter-list';

/**
 * Order in which entries leave the queue.
 * - `fifo`: first in, first out.
 * - `priority`: highest priority first (9 … 0), FIFO within a priority.
 * - `lifo`: last in, first out (a stack).
 * - `unordered`: no ordering promise at all; consumers must not rely on any order. Today it is
 *   served oldest-first (the fairest choice: waiting time stays bounded under steady load), but
 *   that may change.
 */
export type QueueType = 'fifo' | 'priority' | 'lifo' | 'unordered';

/**
 * What a full queue does with a new entry.
 * - `block`: the producer waits for room (FIFO among blocked producers) — backpressure.
 * - `drop_oldest`: the oldest entry is evicted to `onDrop` and the new one accepted.
 * - `reject_new`: the new entry is refused (`queue.full`).
 */
export type OverflowStrategy = 'block' | 'drop_oldest' | 'reject_new';

/** Why an entry was handed to `onDrop`. */
export type DropReason = 'overflow';

/** All queue types, in a stable order (for forms and schemas). */
export const QUEUE_TYPES: readonly QueueType[] = ['fifo', 'priority', 'lifo', 'unordered'];
/** All overflow strategies, in a stable order (for forms and schemas). */
export const OVERFLOW_STRATEGIES: readonly OverflowStrategy[] = ['block', 'drop_oldest', 'reject_new'];
/** Lowest priority. */
export const MIN_PRIORITY = 0;
/** Highest priority. */
export const MAX_PRIORITY = 9;
/** Priority used when `put` is called without one. */
export const DEFAULT_PRIORITY = 5;
/** Default queue capacity (entries). */
export const DEFAULT_QUEUE_SIZE = 10_000;

/** Options of {@link ItemQueue}. */
export interface ItemQueueOptions<T> {
  /**
   * Order in which entries are taken.
   * @defaultValue `'fifo'`
   */
  type?: QueueType;
  /**
   * Maximum number of queued entries (a positive integer).
   * @defaultValue `10_000`
   */
  size?: number;
  /**
   * What happens when the queue is full.
   * @defaultValue `'block'`
   */
  overflow?: OverflowStrategy;
  /**
   * Receives every entry evicted by `drop_oldest`, so none is silently lost (record it as
   * discarded). Required when `overflow` is `'drop_oldest'`. Called synchronously after the queue
   * is consistent again; it must not throw (if it does, the error is re-thrown asynchronously so
   * the bug is visible, and the queue is unaffected).
   */
  onDrop?: (item: T, reason: DropReason) => void;
  /**
   * Clock in milliseconds, used only for wait-time and throughput metrics.
   * @defaultValue `performance.now` (or `Date.now` where `performance` is missing)
   */
  now?: () => number;
  /**
   * Where wait times are also counted cumulatively (for Prometheus). Pass the same histogram to
   * the queues that succeed one another for one item, so a queue rebuilt by a reload keeps them.
   * @defaultValue a new histogram of this queue's own
   */
  waitHistogram?: WaitHistogram;
}

/** A point-in-time view of a queue, for dashboards and `/metrics`. */
export interface QueueMetrics {
  type: QueueType;
  capacity: number;
  /** Entries queued now. */
  depth: number;
  /** Entries accepted (including those later dropped or drained). */
  enqueued: number;
  /** Entries taken by consumers. */
  dequeued: number;
  /** Entries evicted to `onDrop` by `drop_oldest`. */
  dropped: number;
  /** Entries refused by `reject_new`. */
  rejected: number;
  /** Entries removed by {@link ItemQueue.drain}. Always `enqueued = dequeued + dropped + drained + depth`. */
  drained: number;
  /** Producers waiting for room (`block`). */
  blockedProducers: number;
  /** Consumers waiting in `take` for an entry. */
  waitingConsumers: number;
  /** Median time an entry spent queued, over the most recent 1024 dequeues (ms). */
  waitMsP50: number;
  /** 99th percentile of the same samples (ms). */
  waitMsP99: number;
  /** Dequeues per second over the last 10 seconds (or since the queue was created, if sooner). */
  throughputPerSec: number;
  /** Every wait time recorded, as cumulative histogram counts (see {@link ItemQueueOptions.waitHistogram}). */
  waitHistogram: WaitHistogramSnapshot;
}

interface Taker<T> extends WaiterNode {
  resolve: (item: T) => void;
  reject: (e: QueueError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Producer<T> extends WaiterNode {
  item: T;
  priority: number;
  resolve: () => void;
  reject: (e: QueueError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: QueueError) => void;
}

const MODE_FIFO = 0;
const MODE_LIFO = 1;
const MODE_PRIORITY = 2;
const LEVELS = MAX_PRIORITY + 1;
const RESOLVED: Promise<void> = Promise.resolve();

function defaultClock(): () => number {
  return typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? performance.now.bind(performance)
    : Date.now;
}

function isValidPriority(p: number): boolean {
  return p >= MIN_PRIORITY && p <= MAX_PRIORITY && (p | 0) === p;
}

function detach(w: { signal: AbortSignal | undefined; onAbort: (() => void) | undefined }): void {
  if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
}

/**
 * A bounded in-memory queue of items in front of a host's workers: one of four orders, one of
 * three overflow strategies, backpressure for socket readers, and cheap metrics.
 *
 * Hot path: `fifo`, `lifo` and `unordered` sit on one growable ring buffer; `priority` on ten
 * (one per level, FIFO within a level, the highest non-empty level found with a bit mask), so
 * put and take are O(1) and allocate nothing on the synchronous path.
 *
 * @example
 * ```ts
 * const q = new ItemQueue<Envelope>({ type: 'priority', size: 1000, overflow: 'block' });
 * await q.put(envelope, envelope.header.priority);
 * const next = await q.take(signal);
 * ```
 */
export class ItemQueue<T> {
  /** Order in which entries are taken. */
  readonly type: QueueType;
  /** Maximum number of queued entries. */
  readonly capacity: number;
  /** What happens when the queue is full. */
  readonly overflow: OverflowStrategy;

  private readonly mode: number;
  private readonly ring: RingBuffer<T>;
  private readonly levels: RingBuffer<T>[];
  /** Bit i set ⇔ priority level i is non-empty. */
  private levelMask = 0;
  private count = 0;
  private takenStamp = 0;
  private isClosed = false;
  private readonly onDrop: ((item: T, reason: DropReason) => void) | undefined;
  private readonly now: () => number;
  private readonly stats: WaitStats;
  private readonly histogram: WaitHistogram;
  private readonly takers = new WaiterList<Taker<T>>();
  private readonly producers = new WaiterList<Producer<T>>();
  private space: Deferred | null = null;
  private enqueuedCount = 0;
  private dequeuedCount = 0;
  private droppedCount = 0;
  private rejectedCount = 0;
  private drainedCount = 0;

  /**
   * @throws QueueError `queue.invalid_options` (kind `user`) for an unknown type or overflow, a
   * size that is not a positive integer, or `drop_oldest` without `onDrop`.
   */
  constructor(opts: ItemQueueOptions<T> = {}) {
    const type = opts.type ?? 'fifo';
    const size = opts.size ?? DEFAULT_QUEUE_SIZE;
    const overflow = opts.overflow ?? 'block';
    if (!QUEUE_TYPES.includes(type)) throw invalidOptions('type', type);
    if (!OVERFLOW_STRATEGIES.includes(overflow)) throw invalidOptions('overflow', overflow);
    if (!Number.isSafeInteger(size) || size < 1) throw invalidOptions('size', size);
    if (overflow === 'drop_oldest' && typeof opts.onDrop !== 'function') {
      throw invalidOptions('onDrop', undefined, 'drop_oldest needs onDrop so evicted entries are never silently lost');
    }
    this.type = type;
    this.capacity = size;
    this.overflow = overflow;
    this.onDrop = opts.onDrop;
    this.now = opts.now ?? defaultClock();
    this.mode = type === 'priority' ? MODE_PRIORITY : type === 'lifo' ? MODE_LIFO : MODE_FIFO;
    this.ring = new RingBuffer<T>(this.mode === MODE_PRIORITY ? 2 : Math.min(size, 64));
    this.levels = [];
    if (this.mode === MODE_PRIORITY) for (let i = 0; i < LEVELS; i++) this.levels.push(new RingBuffer<T>(Math.min(size, 16)));
    this.histogram = opts.waitHistogram ?? new WaitHistogram();
    this.stats = new WaitStats(this.now());
  }

  /** Entries queued now. */
  get depth(): number {
    return this.count;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Adds an entry, waiting for room if the queue is full and `overflow` is `block` (blocked
   * producers are admitted in arrival order). With `drop_oldest` the oldest entry is evicted to
   * `onDrop` — for `priority`, the oldest of the lowest non-empty level; if the new entry's
   * priority is below every queued entry's, the new entry itself is the one handed to `onDrop`.
   * If a consumer is waiting in {@link take}, the entry goes straight to it.
   *
   * @param priority - 0 (lowest) … 9 (highest); used by `priority` queues, ignored by the others.
   * @defaultValue priority `5`
   * @param signal - aborts a blocked put (the entry is then not queued).
   * @returns resolves once the entry is accepted.
   * Rejects with `queue.full` (`reject_new`, full), `queue.closed`, `queue.aborted`, or
   * `queue.invalid_priority` (kind `user`).
   */
  put(item: T, priority: number = DEFAULT_PRIORITY, signal?: AbortSignal): Promise<void> {
    if (this.isClosed) return Promise.reject(closedError('put'));
    if (this.mode === MODE_PRIORITY && !isValidPriority(priority)) return Promise.reject(invalidPriority(priority));
    if (this.offer(item, priority)) return RESOLVED;
    if (this.overflow === 'reject_new') {
      return Promise.reject(
        new QueueError('queue.full', `queue is full (${this.capacity} entries)`, {
          details: { capacity: this.capacity, depth: this.count },
        }),
      );
    }
    if (signal?.aborted) return Promise.reject(abortedError('put', signal.reason));
    return new Promise<void>((resolve, reject) => {
      const p: Producer<T> = { prev: null, next: null, linked: false, item, priority, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        p.onAbort = () => {
          this.producers.remove(p);
          reject(abortedError('put', signal.reason));
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.producers.push(p);
    });
  }

  /**
   * Adds an entry without ever waiting. Returns `false` when it would have to wait (`block`) or
   * is refused (`reject_new`, counted in `rejected`); `drop_oldest` always accepts.
   *
   * @param priority - 0 (lowest) … 9 (highest); used by `priority` queues only.
   * @defaultValue priority `5`
   * @throws QueueError `queue.closed`, or `queue.invalid_priority` (kind `user`).
   */
  tryPut(item: T, priority: number = DEFAULT_PRIORITY): boolean {
    if (this.isClosed) throw closedError('put');
    if (this.mode === MODE_PRIORITY && !isValidPriority(priority)) throw invalidPriority(priority);
    return this.offer(item, priority);
  }

  /**
   * Hands back an entry that was taken but not finished (its consumer is stopping), so that it is
   * the next one taken: a FIFO head being retried keeps its place instead of going behind the
   * entries that arrived meanwhile. It already held a place, so capacity is not checked and
   * nothing is dropped or refused. A waiting consumer gets it at once.
   *
   * @param priority - 0 (lowest) … 9 (highest); used by `priority` queues only.
   * @throws QueueError `queue.closed`, or `queue.invalid_priority` (kind `user`).
   */
  putBack(item: T, priority: number = DEFAULT_PRIORITY): void {
    if (this.isClosed) throw closedError('put');
    if (this.mode === MODE_PRIORITY && !isValidPriority(priority)) throw invalidPriority(priority);
    if (this.takers.size !== 0 && this.offer(item, priority)) return;
    const now = this.now();
    if (this.mode === MODE_PRIORITY) {
      this.levels[priority].unshift(item, now);
      this.levelMask |= 1 << priority;
    } else if (this.mode === MODE_LIFO) {
      this.ring.push(item, now); // lifo takes from the tail
    } else {
      this.ring.unshift(item, now);
    }
    this.count++;
    this.enqueuedCount++;
  }

  /**
   * Takes the next entry, waiting until one arrives. Concurrent takers are served in arrival
   * order. Entries still queued after {@link close} can be taken; once the queue is closed and
   * empty this rejects with `queue.closed`. Aborting `signal` rejects with `queue.aborted`
   * (the abort reason is the error's `cause`) and takes nothing.
   */
  take(signal?: AbortSignal): Promise<T> {
    if (this.count !== 0) return Promise.resolve(this.tryTake() as T);
    if (this.isClosed) return Promise.reject(closedError('take'));
    if (signal?.aborted) return Promise.reject(abortedError('take', signal.reason));
    return new Promise<T>((resolve, reject) => {
      const w: Taker<T> = { prev: null, next: null, linked: false, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        w.onAbort = () => {
          this.takers.remove(w);
          reject(abortedError('take', signal.reason));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.takers.push(w);
    });
  }

  /** Takes the next entry if there is one; never waits. */
  tryTake(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.removeNext();
    this.count--;
    this.dequeuedCount++;
    const t = this.now();
    this.stats.record(t - this.takenStamp, t);
    this.histogram.observe(t - this.takenStamp);
    if (this.producers.size !== 0 || this.space !== null) this.roomFreed();
    return item;
  }

  /** True when a put would be accepted right now without waiting, evicting or being refused. */
  hasRoom(): boolean {
    return !this.isClosed && this.count < this.capacity && this.producers.size === 0;
  }

  /**
   * Resolves when {@link hasRoom} is true (at once if it already is) — for a socket reader doing
   * backpressure: pause, `await onSpace()`, resume. Rejects with `queue.closed` on close.
   */
  onSpace(): Promise<void> {
    if (this.isClosed) return Promise.reject(closedError('onSpace'));
    if (this.hasRoom()) return RESOLVED;
    if (this.space === null) {
      let resolve!: () => void;
      let reject!: (e: QueueError) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.space = { promise, resolve, reject };
    }
    return this.space.promise;
  }

  /**
   * Removes and returns every entry in take order — to move them into a replacement host on hot
   * reload. Producers blocked in `put` are admitted first (their puts resolve), so their entries
   * are handed over too, in their place in take order, and nothing is left behind.
   */
  drain(): T[] {
    while (this.producers.size !== 0) {
      const p = this.producers.shift() as Producer<T>;
      detach(p);
      this.insert(p.item, p.priority, 0);
      this.count++;
      this.enqueuedCount++;
      p.resolve();
    }
    const out = new Array<T>(this.count);
    for (let i = 0; i < out.length; i++) out[i] = this.removeNext();
    this.drainedCount += this.count;
    this.count = 0;
    if (this.space !== null) this.roomFreed();
    return out;
  }

  /**
   * Closes the queue: further puts fail with `queue.closed`; waiting takers, blocked producers
   * (whose entries are not queued) and `onSpace` waiters are rejected with `queue.closed`.
   * Entries already queued stay takeable (or drainable). Idempotent.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (let w = this.takers.shift(); w !== null; w = this.takers.shift()) {
      detach(w);
      w.reject(closedError('take'));
    }
    for (let p = this.producers.shift(); p !== null; p = this.producers.shift()) {
      detach(p);
      p.reject(closedError('put'));
    }
    if (this.space !== null) {
      const s = this.space;
      this.space = null;
      s.reject(closedError('onSpace'));
    }
  }

  /** Counters, wait-time percentiles and throughput. Cheap enough to call every few seconds. */
  metrics(): QueueMetrics {
    const { p50, p99 } = this.stats.percentiles();
    return {
      type: this.type,
      capacity: this.capacity,
      depth: this.count,
      enqueued: this.enqueuedCount,
      dequeued: this.dequeuedCount,
      dropped: this.droppedCount,
      rejected: this.rejectedCount,
      drained: this.drainedCount,
      blockedProducers: this.producers.size,
      waitingConsumers: this.takers.size,
      waitMsP50: p50,
      waitMsP99: p99,
      throughputPerSec: this.stats.throughput(this.now()),
      waitHistogram: this.histogram.snapshot(),
    };
  }

  /** Accepts the entry if it can without waiting; the shared core of put and tryPut. */
  private offer(item: T, priority: number): boolean {
    if (this.takers.size !== 0) {
      // Only possible when empty: hand it straight to the longest-waiting consumer.
      const w = this.takers.shift() as Taker<T>;
      detach(w);
      this.enqueuedCount++;
      this.dequeuedCount++;
      this.stats.record(0, this.now());
      this.histogram.observe(0);
      w.resolve(item);
      return true;
    }
    if (this.count < this.capacity && this.producers.size === 0) {
      this.insert(item, priority, this.now());
      this.count++;
      this.enqueuedCount++;
      return true;
    }
    if (this.overflow === 'drop_oldest') {
      this.evictFor(item, priority);
      return true;
    }
    if (this.overflow === 'reject_new') this.rejectedCount++;
    return false;
  }

  private insert(item: T, priority: number, stamp: number): void {
    if (this.mode === MODE_PRIORITY) {
      this.levels[priority].push(item, stamp);
      this.levelMask |= 1 << priority;
    } else {
      this.ring.push(item, stamp);
    }
  }

  /** Removes the next entry in take order (caller checks count > 0) and sets `takenStamp`. */
  private removeNext(): T {
    if (this.mode === MODE_FIFO) {
      const item = this.ring.shift();
      this.takenStamp = this.ring.lastStamp;
      return item;
    }
    if (this.mode === MODE_LIFO) {
      const item = this.ring.pop();
      this.takenStamp = this.ring.lastStamp;
      return item;
    }
    const level = 31 - Math.clz32(this.levelMask);
    const ring = this.levels[level];
    const item = ring.shift();
    this.takenStamp = ring.lastStamp;
    if (ring.length === 0) this.levelMask &= ~(1 << level);
    return item;
  }

  /** drop_oldest on a full queue: evict the oldest (lowest level first) and accept the new entry. */
  private evictFor(item: T, priority: number): void {
    let victim: T;
    if (this.mode === MODE_PRIORITY) {
      const lowest = 31 - Math.clz32(this.levelMask & -this.levelMask);
      if (priority < lowest) {
        // Everything queued outranks the newcomer: it is the one to drop.
        this.enqueuedCount++;
        this.droppedCount++;
        this.notifyDrop(item);
        return;
      }
      const ring = this.levels[lowest];
      victim = ring.shift();
      if (ring.length === 0) this.levelMask &= ~(1 << lowest);
    } else {
      // The ring's head is the oldest entry for fifo, lifo and unordered alike.
      victim = this.ring.shift();
    }
    this.droppedCount++;
    this.insert(item, priority, this.now());
    this.enqueuedCount++;
    this.notifyDrop(victim);
  }

  private notifyDrop(item: T): void {
    if (this.onDrop === undefined) return;
    try {
      this.onDrop(item, 'overflow');
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** Room appeared: admit blocked producers in order, then wake `onSpace` waiters. */
  private roomFreed(): void {
    while (this.count < this.capacity && this.producers.size !== 0) {
      const p = this.producers.shift() as Producer<T>;
      detach(p);
      this.insert(p.item, p.priority, this.now());
      this.count++;
      this.enqueuedCount++;
      p.resolve();
    }
    if (this.space !== null && this.count < this.capacity && this.producers.size === 0) {
      const s = this.space;
      this.space = null;
      s.resolve();
    }
  }
}

function closedError(op: string): QueueError {
  return new QueueError('queue.closed', `queue is closed (${op})`, { details: { op } });
}

function abortedError(op: string, reason: unknown): QueueError {
  return new QueueError('queue.aborted', `${op} aborted`, { details: { op }, cause: reason });
}

function invalidPriority(priority: number): QueueError {
  return new QueueError('queue.invalid_priority', `priority must be an integer ${MIN_PRIORITY}–${MAX_PRIORITY}, got ${String(priority)}`, {
    kind: 'user',
    details: { priority, min: MIN_PRIORITY, max: MAX_PRIORITY },
  });
}

function invalidOptions(field: string, value: unknown, why?: string): QueueError {
  return new QueueError('queue.invalid_options', why ?? `invalid queue option ${field}: ${String(value)}`, {
    kind: 'user',
    details: { field, value },
  });
}
