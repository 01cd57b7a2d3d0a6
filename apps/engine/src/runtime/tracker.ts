import type { MessageEnvelope } from '@hie/envelope';

/** Message life-cycle events, as recorded in the store and shown in the trace. */
export type MessageEvent = 'received' | 'queued' | 'processing' | 'delivered' | 'failed' | 'discarded' | 'resent' | 'completed' | 'retry' | 'expired';

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

  received(_envelope: MessageEnvelope, _item: string): Promise<void> {
    return Promise.resolve(); // nothing durable without a store
  }

  /** Without a store, events are only counted by the hosts' stats. */
  event(_envelope: MessageEnvelope, _item: string, _event: MessageEvent, _detail?: Record<string, unknown>): void {
    return undefined;
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
    this.event(envelope, item, 'completed');
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
