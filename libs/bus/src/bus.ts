import type { MessageEnvelope } from '@hie/envelope';

/** Options for one hand-off between hosts. */
export interface DeliverOptions {
  /** Await the target's response envelope (sync patterns). */
  expectResponse?: boolean;
  /** Give up after this long (ms). For `expectResponse` this bounds the whole round trip. */
  timeoutMs?: number;
  /**
   * Called once the target has taken the envelope into its queue (before any response). A sync
   * caller learns from it whether a failed hand-off was refused (never queued: nobody else will
   * finish it) or failed later (the target owns it).
   */
  onQueued?: () => void;
}

/** What a target host gives the bus: it accepts an envelope into its queue. */
export interface BusReceiver {
  /**
   * Take the envelope into the item's queue. Resolves once queued (backpressure: awaits room when
   * the queue is full with `block` overflow). When `reply` is given the item must call it exactly
   * once with its response (or an error) after processing.
   */
  accept(envelope: MessageEnvelope, reply?: ReplyFn): Promise<void>;
}

/** Completes a sync hand-off. */
export type ReplyFn = (result: { response?: MessageEnvelope; error?: Error }) => void;

/**
 * How a target item's envelopes travel on a shared bus (cluster). Every node of a project
 * configures every item alike; the in-process bus needs none of it.
 */
export interface ItemBusConfig {
  /**
   * FIFO items: the item's stream is split into partitions by {@link partitionKey}, and each
   * partition is read by one node at a time, so the messages of one key (patient) are processed
   * in the order they were sent, cluster-wide. Unordered items are read by every node.
   */
  ordered: boolean;
  /** HL7 path the partition is chosen by. @defaultValue `'PID-3.1'` */
  partitionKey?: string;
  /**
   * Most envelopes waiting for the item on the bus (not yet delivered plus delivered but not
   * finished). At that length `block` makes senders wait and `reject` refuses with `bus.full`.
   * Absent: no bound.
   */
  maxQueue?: number;
  /** @defaultValue `'block'` */
  overflow?: 'block' | 'reject';
}

/**
 * The bus moves envelopes between hosts by item name. The in-process bus calls the receiver
 * directly; the Redis Streams bus (cluster) appends to a stream per item read by a consumer group.
 */
export interface Bus {
  /** Register the receiver for an item name (replaces any previous one). Returns an unregister function. */
  register(item: string, receiver: BusReceiver): () => void;
  /**
   * Hand an envelope to an item. Without `expectResponse` resolves when the target has queued it;
   * with it, resolves with the target's response envelope (or undefined when it has none).
   */
  deliver(to: string, envelope: MessageEnvelope, opts?: DeliverOptions): Promise<MessageEnvelope | undefined>;
  /** True when an item is registered. */
  has(item: string): boolean;
  close(): Promise<void>;
  /** Cluster buses: how an item's envelopes travel (see {@link ItemBusConfig}). Set before `register`. */
  configureItem?(item: string, config: ItemBusConfig): void;
  /** Cluster buses: which partitions of an ordered item this node reads (from the leader's assignments). */
  setOwnedPartitions?(item: string, partitions: number[] | 'all'): void;
  /**
   * Cluster buses: stop taking the item's envelopes from the shared stream (they stay there for
   * the other nodes, or for this one's next start); what was taken is still acknowledged when
   * finished. Called before draining an item that is removed, so a drain ends with this node's
   * own work instead of the whole cluster's backlog. Local sync hand-offs still reach the item
   * until it is unregistered.
   */
  stopReading?(item: string): void;
}

/** Stable codes of {@link BusError}. */
export type BusErrorCode =
  | 'bus.no_receiver'
  | 'bus.timeout'
  | 'bus.closed'
  /** The target's stream is at its `maxQueue` and the item's overflow is `reject`. */
  | 'bus.full'
  /** The target gave up on the envelope after too many deliveries (moved to its dead-letter stream). */
  | 'bus.dead_letter'
  /** A bad argument to the bus (an unknown partition, a bad option). */
  | 'bus.invalid';

/** Error raised by a bus hand-off; `code` is stable. */
export class BusError extends Error {
  readonly kind: 'operational' | 'user';
  constructor(
    readonly code: BusErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'BusError';
    this.kind = code === 'bus.invalid' ? 'user' : 'operational';
  }
  toJSON() {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message, details: this.details };
  }
}
