import type { MessageEnvelope } from '@hie/envelope';

/** Message life-cycle events, as recorded in the store and shown in the trace. */
export type MessageEvent = 'received' | 'queued' | 'processing' | 'delivered' | 'failed' | 'discarded' | 'resent' | 'completed' | 'retry';

/**
 * Records what happens to each message. The default keeps counts in memory; the store-backed
 * tracker writes raw-first rows and batched events. Keyed by the root message id
 * (`header.sessionId`), so a message's trace spans every item it crossed.
 */
export interface Tracker {
  /** Raw-first: store the received message. Resolves once durable (at once without a store). */
  received(envelope: MessageEnvelope, item: string): Promise<void>;
  event(envelope: MessageEnvelope, item: string, event: MessageEvent, detail?: Record<string, unknown>): void;
  /** A branch of this message was queued somewhere. */
  opened(envelope: MessageEnvelope): void;
  /** A branch finished (processed, failed or discarded). When no branch is open the message is complete. */
  closed(envelope: MessageEnvelope, item: string): void;
  readonly hasStore: boolean;
  flush(): Promise<void>;
}

/** Root id of a message: the id the service gave it on receipt. */
export function rootId(envelope: MessageEnvelope): string {
  return envelope.header.sessionId ?? envelope.header.messageId;
}

/** In-memory tracker: counts open branches so "completed" is known; no durable storage. */
export class MemoryTracker implements Tracker {
  readonly hasStore: boolean = false;
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

  /** Without a store, events are only counted by the hosts' stats; failures are remembered for `completed`. */
  event(envelope: MessageEnvelope, item: string, event: MessageEvent, _detail?: Record<string, unknown>): void {
    const id = rootId(envelope);
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
    const id = rootId(envelope);
    const n = (this.open.get(id) ?? 1) - 1;
    if (n > 0) {
      this.open.set(id, n);
      return;
    }
    this.open.delete(id);
    const failed = this.failedAt.get(id);
    this.failedAt.delete(id);
    if (failed?.overwritten) this.event(envelope, failed.item, 'failed', { branchFailed: true });
    this.event(envelope, failed?.item ?? item, 'completed');
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
