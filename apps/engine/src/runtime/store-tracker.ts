import type { Logger } from 'pino';
import type { MessageEnvelope } from '@hie/envelope';
import type { Hl7Message } from '@hie/hl7';
import type { MessageEventName, MessageScope, MessageStore, MessageWriter, StorageMode } from '@hie/store';
import { registerBuiltinCodecs } from './codecs';
import { envelopeFor, isHl7 } from './envelopes';
import { ensureError } from './errors';
import { type MessageEvent, type Refusal, MemoryTracker, rootId } from './tracker';

/**
 * PID-3.1 through the HL7 library (the parse is cached on the envelope: the MLLP listener already
 * made it). Never throws: a message that does not parse simply has no patient id.
 */
function patientIdOf(envelope: MessageEnvelope): string | undefined {
  if (!isHl7(envelope.header.contentType)) return undefined;
  try {
    return envelope.parse<Hl7Message>().get('PID-3.1') || undefined;
  } catch (_e) {
    return undefined;
  }
}

/** Engine events → store event names (a retry is recorded as processing with the attempt). */
function storeEvent(event: MessageEvent): MessageEventName {
  return event === 'retry' ? 'processing' : event;
}

/**
 * Raw-first tracking in the message store: `received` writes the raw bytes and header before the
 * service acknowledges (`after_store` awaits it), every hop and state change becomes one event
 * row, batched by the group-commit writer. `completed` is written when every branch is done.
 */
export class StoreTracker extends MemoryTracker {
  override readonly hasStore: boolean;
  /**
   * Hand-offs (`queued`) not written yet, by root id + item. A hop that finishes within
   * `foldMs` folds its queued time into its `delivered`/`failed`/`discarded` event (one row
   * instead of two); a message still waiting after `foldMs` gets its `queued` row, so the trace
   * always shows where a stuck message sits.
   */
  private readonly pendingQueued = new Map<string, { envelope: MessageEnvelope; item: string; at: number; detail?: Record<string, unknown> }>();
  private readonly sweeper: NodeJS.Timeout;

  /** Messages whose raw-first row is not committed yet: their events wait for it. */
  private readonly uncommitted = new Map<string, Promise<unknown>>();
  private readonly events: MessageWriter;

  /** The production's name, stored for display beside the project scope. */
  private readonly production: string;
  /** Whose messages these are: every row written carries it. */
  private readonly scope: MessageScope;

  /**
   * @param writer the raw-first writer (`received`: on the ACK path, kept small and fast)
   * @param owner the project (and workspace) the messages belong to, and the production's name
   * @param eventsWriter an optional second writer for events and body-text indexing (off the ACK
   *   path: larger, lazier batches); a message's entries are handed to it only once its `received`
   *   row has committed. Pair it with `bodyIndex: 'deferred'` on `writer`.
   */
  constructor(
    private readonly writer: MessageWriter,
    owner: MessageScope & { production: string },
    private readonly log: Logger,
    private readonly foldMs = 50,
    eventsWriter?: MessageWriter,
  ) {
    super();
    this.production = owner.production;
    this.scope = { projectId: owner.projectId, workspaceId: owner.workspaceId };
    registerBuiltinCodecs(); // patient ids come from the HL7 parse
    this.events = eventsWriter ?? writer;
    this.hasStore = writer.storage !== 'none';
    this.sweeper = setInterval(() => this.sweep(Date.now() - this.foldMs), Math.max(5, this.foldMs >> 1));
    this.sweeper.unref();
  }

  private sweep(olderThan: number): void {
    for (const [key, q] of this.pendingQueued) {
      if (q.at > olderThan) break; // insertion order = time order
      this.pendingQueued.delete(key);
      this.write(q.envelope, q.item, 'queued', q.detail, q.at);
    }
  }

  private write(envelope: MessageEnvelope, item: string, event: MessageEvent, detail: Record<string, unknown> | undefined, at?: number): void {
    const d = event === 'retry' ? { ...detail, retry: true } : detail;
    const id = rootId(envelope);
    const ev = { messageId: id, ...this.scope, production: this.production, item, event: storeEvent(event), detail: d ?? null, at: at ?? Date.now() };
    const fail = (e: unknown) => this.log.error({ err: ensureError(e), event, item }, 'could not record a message event');
    const gate = this.events === this.writer ? undefined : this.uncommitted.get(id);
    if (gate) gate.then(() => this.events.event(ev).catch(fail), fail);
    else this.events.event(ev).catch(fail);
  }

  /**
   * The tracker a production runs with: a raw-first writer on the ACK path (no idle wait, body text
   * indexed later) and a lazier writer for events and body-text indexing off it. `close()` closes both.
   */
  static forProduction(
    messages: MessageStore,
    owner: MessageScope & { production: string },
    storage: StorageMode,
    log: Logger,
    onCommit?: { raw: (ms: number) => void; events: (ms: number) => void },
  ): StoreTracker {
    const raw = messages.writer({ storage, maxDelayMs: 0, bodyIndex: 'deferred', onCommit: onCommit?.raw });
    const events = messages.writer({ storage, maxDelayMs: 50, maxBatch: 2000, maxInFlight: 1, onCommit: onCommit?.events });
    const tracker = new StoreTracker(raw, owner, log, 50, events);
    tracker.ownsWriters = true;
    return tracker;
  }

  private ownsWriters = false;

  /** The writers' figures (for metrics and the shutdown log). */
  backlog(): number {
    return this.writer.metrics().pending + this.events.metrics().pending;
  }

  writerMetrics(): { raw: ReturnType<MessageWriter['metrics']>; events: ReturnType<MessageWriter['metrics']> } {
    return { raw: this.writer.metrics(), events: this.events.metrics() };
  }

  /** The raw-first row of a message. */
  private row(envelope: MessageEnvelope, item: string) {
    const h = envelope.header;
    return {
      id: h.messageId,
      ...this.scope,
      production: this.production,
      item,
      receivedAt: h.timestamp,
      messageType: h.messageType ?? null,
      controlId: h.controlId ?? null,
      patientId: patientIdOf(envelope) ?? null,
      contentType: h.contentType,
      header: { ...h }, // the writer serialises it once, at this call
      raw: envelope.body.raw,
      correlationId: h.correlationId ?? null,
      parentId: h.parentId ?? null,
    };
  }

  /** Text search indexing off the ACK path (the raw writer uses bodyIndex: 'deferred'), once the row has committed. */
  private indexLater(envelope: MessageEnvelope, committed: Promise<void>): void {
    const id = envelope.header.messageId;
    committed.then(
      () =>
        this.events
          .indexBody({ id, ...this.scope, production: this.production, raw: envelope.body.raw, receivedAt: envelope.header.timestamp })
          .catch((e: unknown) => this.log.error({ err: ensureError(e) }, 'could not index a message body')),
      () => undefined,
    );
  }

  override received(envelope: MessageEnvelope, item: string): Promise<void> {
    const id = envelope.header.messageId;
    const done = this.writer.received(this.row(envelope, item));
    if (this.events !== this.writer) {
      this.uncommitted.set(id, done);
      const clear = () => this.uncommitted.delete(id);
      done.then(clear, clear);
      this.indexLater(envelope, done);
    }
    return done;
  }

  /**
   * The row and its `refused` event go to the raw writer together, so they commit in call order
   * (usually in one batch): a crash between them cannot leave an unfinished message for recovery
   * to replay.
   */
  override async refused(raw: Uint8Array, item: string, refusal: Refusal): Promise<string | undefined> {
    if (!this.hasStore) return undefined; // storage `none`: nothing is kept, the service's log line is all
    const total = Math.max(refusal.totalBytes ?? 0, raw.byteLength);
    const kept = raw.byteLength > refusal.maxBytes ? raw.subarray(0, refusal.maxBytes) : raw;
    const envelope = envelopeFor(kept, refusal.contentType, item);
    envelope.header.sessionId = envelope.header.messageId;
    const detail = { reason: refusal.reason, error: refusal.error, bytes: total, ...(total > kept.byteLength ? { truncated: true, storedBytes: kept.byteLength } : {}), ...refusal.detail };
    const id = envelope.header.messageId;
    const row = this.writer.received(this.row(envelope, item));
    const ev = this.writer.event({ messageId: id, ...this.scope, production: this.production, item, event: 'refused', detail, at: Date.now() });
    if (this.events !== this.writer) this.indexLater(envelope, row);
    await Promise.all([row, ev]);
    return id;
  }

  override event(envelope: MessageEnvelope, item: string, event: MessageEvent, given?: Record<string, unknown>): void {
    const detail = this.streamDetail(envelope, event, given);
    super.event(envelope, item, event, detail);
    const key = `${rootId(envelope)}|${item}`;
    if (event === 'queued' && this.foldMs > 0) {
      // A second hand-off to the same item while one is pending: write the older one now.
      const older = this.pendingQueued.get(key);
      if (older) this.write(older.envelope, older.item, 'queued', older.detail, older.at);
      this.pendingQueued.delete(key);
      this.pendingQueued.set(key, { envelope, item, at: Date.now(), detail });
      return;
    }
    const q = this.pendingQueued.get(key);
    if (q && (event === 'delivered' || event === 'failed' || event === 'discarded' || event === 'expired' || event === 'retry')) {
      this.pendingQueued.delete(key);
      this.write(envelope, item, event, { ...q.detail, ...detail, queuedAt: new Date(q.at).toISOString() });
      return;
    }
    this.write(envelope, item, event, detail);
  }

  /** Cluster: a node's credits did not reach the shared counter; it expires and the message stays unfinished. */
  protected override releaseFailed(e: unknown, id: string): void {
    super.releaseFailed(e, id);
    this.log.error({ err: ensureError(e), messageId: id }, 'could not release the branches of a message in the cluster counter');
  }

  private releaseFlush?: Promise<void>;

  /** Commits what this node recorded so far (one flush shared by the releases of one moment). */
  protected override beforeRelease(): Promise<void> {
    this.releaseFlush ??= Promise.resolve().then(async () => {
      this.releaseFlush = undefined; // what is recorded from now on waits for the next flush
      await this.commit();
    });
    return this.releaseFlush;
  }

  private async commit(): Promise<void> {
    this.sweep(Infinity);
    await this.writer.flush();
    await Promise.allSettled([...this.uncommitted.values()]);
    await this.events.flush();
  }

  override async flush(): Promise<void> {
    await this.settled(); // releases of shared branches write their `completed` first
    await this.commit();
  }

  /** Write what is pending and stop the sweeper; writers made by {@link forProduction} are closed too. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.flush();
    if (!this.ownsWriters) return;
    await this.writer.close();
    if (this.events !== this.writer) await this.events.close();
  }
}
