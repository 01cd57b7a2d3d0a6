import type { BranchRelease, StreamBranches } from '@hie/bus';
import type { MessageEnvelope } from '@hie/envelope';

/** Message life-cycle events, as recorded in the store and shown in the trace. */
export type MessageEvent = 'received' | 'queued' | 'processing' | 'delivered' | 'failed' | 'discarded' | 'resent' | 'completed' | 'retry' | 'refused' | 'expired';

/** See @hie/item-sdk: the item-type API declares it (services hand refused input to `ctx.refuse`). */
export type { Refusal } from '@hie/item-sdk';
import type { Refusal } from '@hie/item-sdk';

/**
 * Records what happens to each message. The default keeps counts in memory; the store-backed
 * tracker writes raw-first rows and batched events. Keyed by the root message id
 * (`header.sessionId`), so a message's trace spans every item it crossed.
 */
export interface Tracker {
  /** Entries held by the message store writers, not yet committed (absent without a store). */
  backlog?(): number;
  /** Raw-first: store the received message. Resolves once durable (at once without a store). */
  received(envelope: MessageEnvelope, item: string): Promise<void>;
  event(envelope: MessageEnvelope, item: string, event: MessageEvent, detail?: Record<string, unknown>): void;
  /**
   * Stores refused input (see {@link Refusal}) as a finished `refused` message: the bytes (up to
   * `maxBytes`) and one `refused` event whose detail says why, and whether it was truncated.
   * Resolves with the message id once durable (`undefined` without a store).
   */
  refused(raw: Uint8Array, item: string, refusal: Refusal): Promise<string | undefined>;
  /** A branch of this message was queued somewhere. */
  opened(envelope: MessageEnvelope): void;
  /** A branch finished (processed, failed or discarded). When no branch is open the message is complete. */
  closed(envelope: MessageEnvelope, item: string): void;
  /**
   * A branch left this node without finishing (a retry deferred to a cluster job): forget it
   * without completing the message; the node that takes the job opens it again.
   */
  handedOver?(envelope: MessageEnvelope): void;
  /**
   * Cluster: count the branches that cross nodes in a shared counter (see {@link SharedBranches});
   * the tracker then also serves as the bus's {@link StreamBranches}.
   */
  shareBranches?(counter: SharedBranches): StreamBranches;
  readonly hasStore: boolean;
  flush(): Promise<void>;
  /** Called when a message completes here (every branch finished): the end-to-end latency metric. */
  onCompleted?: (envelope: MessageEnvelope, item: string) => void;
}

/** Root id of a message: the id the service gave it on receipt. */
export function rootId(envelope: MessageEnvelope): string {
  return envelope.header.sessionId ?? envelope.header.messageId;
}

/** The cluster-wide counter of a message's branches (the Redis Streams bus). */
export interface SharedBranches {
  /** Give back this node's credits of the root's counter; `failedAt`: an item a branch failed at here. */
  releaseBranches(root: string, credits: number, failedAt?: string): Promise<BranchRelease>;
}

/**
 * In-memory tracker: counts open branches so "completed" is known; no durable storage.
 *
 * Cluster ({@link shareBranches}): branches are still counted per node while they run here, and
 * a branch handed to a stream leaves this node's count. Its credit in the message's shared counter
 * travels with the entry and goes back when the entry finishes on the node that took it; the node
 * whose release brings the counter to 0 writes `completed`: once, after every branch on every node.
 */
export class MemoryTracker implements Tracker {
  readonly hasStore: boolean = false;
  onCompleted?: (envelope: MessageEnvelope, item: string) => void;
  private readonly open = new Map<string, number>();
  /**
   * Where a still-open message last failed, and whether another branch changed its status since.
   * Its `completed` event names that item (the operator's resend target), and a failure is never
   * hidden by a sibling branch delivered after it: the message ends `failed`.
   */
  private readonly failedAt = new Map<string, { item: string; overwritten: boolean }>();

  received(_envelope: MessageEnvelope, _item: string): Promise<void> {
    return Promise.resolve(); // nothing durable without a store
  }

  /** Without a store, refused input is only logged (by the service). */
  refused(_raw: Uint8Array, _item: string, _refusal: Refusal): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  /**
   * Cluster: the detail of a `queued` event whose hand-off went into a stream gets `stream: true`
   * (the stream holds it now). Mutates and returns `detail`; call before recording it.
   */
  protected streamDetail(envelope: MessageEnvelope, event: MessageEvent, detail: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (event !== 'queued') return detail;
    const id = rootId(envelope);
    const n = this.streamQueued.get(id) ?? 0;
    if (n === 0) return detail;
    if (n > 1) this.streamQueued.set(id, n - 1);
    else this.streamQueued.delete(id);
    return { ...detail, stream: true };
  }

  /** Without a store, events are only counted by the hosts' stats; failures are remembered for `completed`. */
  event(envelope: MessageEnvelope, item: string, event: MessageEvent, detail?: Record<string, unknown>): void {
    if (event === 'completed') this.onCompleted?.(envelope, item);
    const id = rootId(envelope);
    if (event === 'queued' && detail?.['stream'] !== true) this.streamDetail(envelope, event, detail); // not recorded here: just consumed
    if (!this.open.has(id)) return;
    if (event === 'failed') this.failedAt.set(id, { item, overwritten: false });
    else if (event !== 'completed' && event !== 'resent') {
      const f = this.failedAt.get(id);
      if (f) f.overwritten = true;
    }
  }

  opened(envelope: MessageEnvelope): void {
    const id = rootId(envelope);
    this.open.set(id, (this.open.get(id) ?? 0) + 1);
  }

  closed(envelope: MessageEnvelope, item: string): void {
    if (this.drop(rootId(envelope))) this.end(envelope, item, true);
  }

  handedOver(envelope: MessageEnvelope): void {
    if (this.drop(rootId(envelope))) this.end(envelope, envelope.header.source ?? '', false);
  }

  /** One branch of the root less here; true when it was the last. */
  private drop(id: string): boolean {
    const n = (this.open.get(id) ?? 1) - 1;
    if (n > 0) {
      this.open.set(id, n);
      return false;
    }
    this.open.delete(id);
    return true;
  }

  /** Messages with branches or state still open on this node (0 once every message passing here has ended here). */
  get openMessages(): number {
    return new Set([...this.open.keys(), ...this.credits.keys(), ...this.streamedOpen.keys(), ...this.streamedRoots, ...this.streamQueued.keys()]).size;
  }

  /**
   * The last branch of a message on this node ended. Holding the message's own share of the
   * shared counter (it went to a stream from here): the share goes back, and the message is
   * complete if that emptied the counter. Touched by a stream otherwise: its stream branches give
   * their credits back themselves. Alone: it is complete here when `complete` (closed, not handed over).
   */
  private end(envelope: MessageEnvelope, item: string, complete: boolean): void {
    const id = rootId(envelope);
    const failed = this.failedAt.get(id);
    this.failedAt.delete(id);
    const own = this.credits.get(id) ?? 0;
    this.credits.delete(id);
    const streamed = this.streamedRoots.delete(id);
    if (own > 0) this.release(envelope, item, own, failed?.item, complete);
    else if (streamed) return;
    else if (complete) {
      if (failed?.overwritten) this.event(envelope, failed.item, 'failed', { branchFailed: true });
      this.event(envelope, failed?.item ?? item, 'completed');
    }
  }

  /** Give `credits` back to the shared counter; the node whose release empties it writes `completed`. */
  private release(envelope: MessageEnvelope, item: string, credits: number, failedAt: string | undefined, complete: boolean): void {
    const shared = this.shared;
    if (!shared) return;
    const id = rootId(envelope);
    // This node's events of the message are durable before its credits go back: the node that
    // completes the message writes after every other node's outcome (the status ends right).
    const p = this.beforeRelease()
      .then(() => shared.releaseBranches(id, credits, failedAt))
      .then(
        (r) => {
          if (!complete || !r.complete) return;
          // A branch failed on some node: the message ends failed even if a sibling delivered later.
          const at = failedAt ?? r.failedAt;
          if (at) this.event(envelope, at, 'failed', { branchFailed: true });
          this.event(envelope, at ?? item, 'completed');
        },
        (e: unknown) => this.releaseFailed(e, id),
      );
    this.releasing.add(p);
    void p.finally(() => this.releasing.delete(p));
  }

  /** Awaited before credits go back to the shared counter (the store tracker commits its events). */
  protected beforeRelease(): Promise<void> {
    return Promise.resolve();
  }

  /** Releases that did not reach the shared counter (it expires; those messages are not marked completed). */
  releaseErrors = 0;

  /** A release that did not reach the shared counter: counted (the store tracker logs it too). */
  protected releaseFailed(_e: unknown, _id: string): void {
    this.releaseErrors++;
  }

  // ── cluster (StreamBranches) ──────────────────────────────────────────────────────────────

  /** The message's own share of its shared counter, held while its branches run here (root id → 1). */
  private readonly credits = new Map<string, number>();
  /** Stream entries being processed here, by root id: each holds one credit until it finishes. */
  private readonly streamedOpen = new Map<string, number>();
  /** Hand-offs added to a stream whose `queued` event is not recorded yet, by root id. */
  private readonly streamQueued = new Map<string, number>();
  /** Messages that crossed a stream to or from here while open: never completed locally. */
  private readonly streamedRoots = new Set<string>();
  private shared?: SharedBranches;
  private readonly releasing = new Set<Promise<void>>();

  /**
   * Each stream entry carries one credit of its message's counter, added in its XADD and given
   * back when the entry finishes on the node that took it (before its XACK). A hand-off made while
   * a stream entry of the message runs here is covered by that entry's credit (it finishes only
   * after its outputs were added); any other (the service's first hand-off, a recovery's) adds the
   * message's own share once too, given back when the message's last branch here ends.
   */
  shareBranches(counter: SharedBranches): StreamBranches {
    this.shared = counter;
    return {
      sending: (envelope) => {
        const id = rootId(envelope);
        this.streamedRoots.add(id);
        if ((this.streamedOpen.get(id) ?? 0) > 0 || (this.credits.get(id) ?? 0) > 0) return 1;
        this.credits.set(id, 1);
        return 2;
      },
      sent: (envelope, credits, ok) => {
        const id = rootId(envelope);
        if (!ok) {
          if (credits > 1) this.credits.delete(id);
          return;
        }
        // Its `queued` event (next) says it is in a stream: a takeover need not replay it.
        this.streamQueued.set(id, (this.streamQueued.get(id) ?? 0) + 1);
        // The branch now waits in the stream: whichever node takes it holds it (and its credit).
        if (this.drop(id)) this.end(envelope, envelope.header.source ?? '', true);
      },
      arrived: (envelope) => {
        const id = rootId(envelope);
        this.streamedRoots.add(id);
        this.open.set(id, (this.open.get(id) ?? 0) + 1);
        this.streamedOpen.set(id, (this.streamedOpen.get(id) ?? 0) + 1);
      },
      finished: (envelope, item) => {
        const id = rootId(envelope);
        this.leaveStream(id);
        this.release(envelope, item, 1, this.failedAt.get(id)?.item, true);
      },
      returned: (envelope) => {
        const id = rootId(envelope);
        this.leaveStream(id); // its credit stays with the entry, pending in the stream
        if (this.drop(id)) this.end(envelope, envelope.header.source ?? '', false);
      },
    };
  }

  private leaveStream(id: string): void {
    const n = (this.streamedOpen.get(id) ?? 1) - 1;
    if (n > 0) this.streamedOpen.set(id, n);
    else this.streamedOpen.delete(id);
  }

  /** Releases of shared credits still on their way (and the events they write). */
  protected async settled(): Promise<void> {
    while (this.releasing.size > 0) await Promise.allSettled([...this.releasing]);
  }

  flush(): Promise<void> {
    return this.settled();
  }
}
