import type { MessageEnvelope } from '@hie/envelope';

/** Message life-cycle events, as recorded in the store and shown in the trace. */
export type MessageEvent = 'received' | 'queued' | 'processing' | 'delivered' | 'failed' | 'discarded' | 'resent' | 'completed' | 'retry' | 'refused' | 'expired';

/**
 * Input a service could not take as a message (not HL7, a frame too large or cut off, a file with
 * no message in it). It is stored as a `refused` message, finished at once and never routed, so
 * the message viewer shows it instead of it disappearing without a trace.
 */
export interface Refusal {
  /** Why, as a stable code: `not_hl7`, `too_large`, `partial_frame`, `not_a_message`… */
  reason: string;
  /** What went wrong, for people. */
  error: string;
  /** How the bytes read: the service's content type (what a repaired copy would be resent as). */
  contentType: string;
  /** Most bytes stored; beyond them the message is truncated and its trace says so. */
  maxBytes: number;
  /** How many bytes there were in all, when more than were handed in (a frame dropped on the way). */
  totalBytes?: number;
  /** More for the trace: remote address, file name, limits. JSON values only. */
  detail?: Record<string, unknown>;
}

/**
 * Records what happens to each message. The default keeps counts in memory; the store-backed
 * tracker writes raw-first rows and batched events. Keyed by the root message id
 * (`header.sessionId`), so a message's trace spans every item it crossed.
 */
export interface Tracker {
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

  /** Without a store, refused input is only logged (by the service). */
  refused(_raw: Uint8Array, _item: string, _refusal: Refusal): Promise<string | undefined> {
    return Promise.resolve(undefined);
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

  handedOver(envelope: MessageEnvelope): void {
    const id = rootId(envelope);
    const n = (this.open.get(id) ?? 1) - 1;
    if (n > 0) this.open.set(id, n);
    else {
      this.open.delete(id);
      this.failedAt.delete(id);
    }
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }
}
