/**
 * The raw-first hot path: a group-commit writer. Callers hand in `received()` and `event()`
 * entries and await them; the writer gathers whatever arrives while the previous commit is in
 * flight (or for `maxDelayMs` when idle) and writes it as ONE statement ({@link WRITE_BATCH}) —
 * multi-row INSERTs of the messages, their status rows, their `received` events and the other
 * events, plus one `UPDATE message_status … FROM unnest(…)` for messages stored by earlier
 * batches (a message stored in the same batch gets its latest status on insert). The wide
 * `messages` row is never updated. A single statement is a transaction of
 * its own: one round trip, one commit (one WAL flush) for the whole batch. Promises resolve after
 * the commit and reject with a {@link StoreError} if it fails; a batch refused for bad data
 * (SQLSTATE 22/23) is retried entry by entry so one bad message cannot fail its neighbours.
 *
 * Up to `maxInFlight` batches are written at once (each on its own connection), but entries of
 * one message always commit in call order: a batch never takes an entry whose message has an
 * entry in a batch still in flight.
 */
import type { RunStatement } from './db.js';
import { StoreError, toStoreError } from './errors.js';
import type {
  BodyToIndex,
  MessageEventInput,
  MessageWriter,
  ReceivedMessage,
  StorageMode,
  WriterMetrics,
  WriterOptions,
} from './message-types.js';
import type { MessageEventName, MessageStatus } from './schema.js';

/** The status an event sets; `resent` and `completed` leave it as it was. */
export const statusOfEvent: Readonly<Partial<Record<MessageEventName, MessageStatus>>> = {
  received: 'received',
  queued: 'queued',
  processing: 'processing',
  delivered: 'delivered',
  failed: 'failed',
  discarded: 'discarded',
  refused: 'refused',
  expired: 'expired',
};

/**
 * The terminal rule: a message is finished once it has a `completed` event (the engine writes it
 * when every branch is done — delivered, or failed for good), a `discarded` event, a `refused`
 * event (bytes kept for the operator, never routed: recovery must not replay them) or an `expired`
 * one (its time to live ran out: recovery must never bring it back). Unfinished
 * messages are what {@link MessageStore.unfinished} hands back for recovery.
 */
export const finishingEvents: ReadonlySet<MessageEventName> = new Set<MessageEventName>(['completed', 'discarded', 'refused', 'expired']);

const MAX_BATCH = 5000;

type Settle = { resolve: () => void; reject: (e: unknown) => void };
type Entry = (
  | { kind: 'received'; msg: ReceivedMessage; header: string }
  | { kind: 'text'; body: BodyToIndex }
  | { kind: 'event'; ev: MessageEventInput; at: number; detail: string | null }
) &
  Settle;

interface MessageRow {
  msg: ReceivedMessage;
  header: string;
  status: MessageStatus;
  finishedAt: number | null;
}
interface StatusUpdate {
  status: MessageStatus | null;
  finishedAt: number | null;
}

const iso = (t: Date | number): string => (typeof t === 'number' ? new Date(t) : t).toISOString();

const entryId = (e: Entry): string => (e.kind === 'received' ? e.msg.id : e.kind === 'text' ? e.body.id : e.ev.messageId);

export class BatchingMessageWriter implements MessageWriter {
  readonly storage: StorageMode;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxInFlight: number;
  private readonly bodyIndex: 'inline' | 'deferred';
  private queue: Entry[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Batches being written, and how many entries of each message id they hold. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightIds = new Map<string, number>();
  private inFlightEntries = 0;
  private readonly m = { batches: 0, rows: 0, lastFlushMs: 0, maxFlushMs: 0, totalFlushMs: 0, failedBatches: 0 };

  constructor(
    private readonly run: RunStatement,
    opts: WriterOptions = {},
  ) {
    this.storage = opts.storage ?? 'full';
    this.maxBatch = Math.max(1, Math.min(MAX_BATCH, Math.floor(opts.maxBatch ?? 500)));
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 2);
    this.maxInFlight = Math.max(1, Math.floor(opts.maxInFlight ?? 1));
    this.bodyIndex = opts.bodyIndex ?? 'inline';
    this.onCommit = opts.onCommit;
  }

  private readonly onCommit?: (ms: number) => void;

  received(msg: ReceivedMessage): Promise<void> {
    if (this.storage === 'none') return this.closed ? Promise.reject(closedError()) : Promise.resolve();
    let header: string;
    try {
      if (!(msg.raw instanceof Uint8Array)) throw new TypeError('raw must be a Uint8Array');
      header = JSON.stringify(msg.header);
    } catch (e) {
      return Promise.reject(invalid(e, msg.id));
    }
    return this.enqueue((s) => ({ kind: 'received', msg, header, ...s }));
  }

  event(ev: MessageEventInput): Promise<void> {
    if (this.storage === 'none') return this.closed ? Promise.reject(closedError()) : Promise.resolve();
    const at = ev.at === undefined ? Date.now() : typeof ev.at === 'number' ? ev.at : ev.at.getTime();
    let detail: string | null;
    try {
      detail = ev.detail == null ? null : JSON.stringify(ev.detail);
    } catch (e) {
      return Promise.reject(invalid(e, ev.messageId));
    }
    return this.enqueue((s) => ({ kind: 'event', ev, at, detail, ...s }));
  }

  indexBody(body: BodyToIndex): Promise<void> {
    if (this.storage !== 'full') return this.closed ? Promise.reject(closedError()) : Promise.resolve();
    return this.enqueue((s) => ({ kind: 'text', body, ...s }));
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      this.pump();
      if (this.inFlight.size > 0) await Promise.race(this.inFlight);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  metrics(): WriterMetrics {
    const { batches, rows } = this.m;
    return {
      ...this.m,
      avgBatchSize: batches === 0 ? 0 : rows / batches,
      pending: this.queue.length + this.inFlightEntries,
    };
  }

  private enqueue(make: (s: Settle) => Entry): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<void>((resolve, reject) => {
      this.queue.push(make({ resolve, reject }));
      if (this.queue.length >= this.maxBatch) this.pump();
      else if (this.inFlight.size < this.maxInFlight) this.timer ??= setTimeout(() => this.pump(), this.maxDelayMs);
      // else: started when a batch in flight commits
    });
  }

  /**
   * Starts batches while a slot is free. A batch takes queued entries in order, passing over (and
   * leaving queued) the entries of messages that have an entry in a batch still in flight: entries
   * of one message therefore commit in call order, even with several batches in flight, and one
   * busy message never holds up the others (no head-of-line blocking).
   */
  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      let batch: Entry[];
      if (this.inFlightIds.size === 0) {
        batch = this.queue.splice(0, Math.min(this.maxBatch, this.queue.length));
      } else {
        batch = [];
        const kept: Entry[] = [];
        // Ids passed over in this scan: their later entries must wait too (call order).
        const blocked = new Set<string>();
        for (const e of this.queue) {
          const id = entryId(e);
          if (batch.length < this.maxBatch && !this.inFlightIds.has(id) && !blocked.has(id)) batch.push(e);
          else {
            blocked.add(id);
            kept.push(e);
          }
        }
        if (batch.length === 0) return; // everything waits for a batch in flight
        this.queue = kept;
      }
      this.start(batch);
    }
  }

  private start(batch: Entry[]): void {
    for (const e of batch) {
      const id = entryId(e);
      this.inFlightIds.set(id, (this.inFlightIds.get(id) ?? 0) + 1);
    }
    this.inFlightEntries += batch.length;
    const done = () => {
      this.inFlight.delete(p);
      this.inFlightEntries -= batch.length;
      for (const e of batch) {
        const id = entryId(e);
        const left = (this.inFlightIds.get(id) ?? 1) - 1;
        if (left === 0) this.inFlightIds.delete(id);
        else this.inFlightIds.set(id, left);
      }
      this.pump(); // whatever arrived during the commit goes next, without waiting
    };
    const p: Promise<void> = this.writeBatch(batch).then(done, done);
    this.inFlight.add(p);
  }

  private async writeBatch(batch: Entry[]): Promise<void> {
    const t0 = performance.now();
    try {
      await this.run('hie_write_batch_v2', WRITE_BATCH, this.params(batch));
      this.record(batch.length, performance.now() - t0);
      for (const e of batch) e.resolve();
    } catch (e) {
      this.m.failedBatches++;
      const err = toStoreError(e, 'messages.writer');
      if (batch.length > 1 && err.kind === 'user') {
        // Bad data in one entry: isolate it, commit the others.
        for (const entry of batch) await this.writeBatch([entry]);
        return;
      }
      for (const entry of batch) entry.reject(err);
    }
  }

  private record(rows: number, ms: number): void {
    this.m.batches++;
    this.m.rows += rows;
    this.m.lastFlushMs = ms;
    this.m.totalFlushMs += ms;
    this.onCommit?.(ms);
    if (ms > this.m.maxFlushMs) this.m.maxFlushMs = ms;
  }

  /** The parameters of {@link WRITE_BATCH} for the whole batch (see the module comment). */
  private params(batch: Entry[]): unknown[] {
    const rows = new Map<string, MessageRow>();
    const updates = new Map<string, StatusUpdate>();
    const ev = {
      id: [] as string[],
      projectId: [] as string[],
      workspaceId: [] as string[],
      production: [] as string[],
      item: [] as string[],
      event: [] as string[],
      at: [] as string[],
      detail: [] as (string | null)[],
    };
    const text = {
      id: [] as string[],
      projectId: [] as string[],
      workspaceId: [] as string[],
      production: [] as string[],
      raw: [] as Uint8Array[],
      receivedAt: [] as (string | null)[],
    };
    const addText = (b: BodyToIndex) => {
      text.receivedAt.push(b.receivedAt === undefined ? null : iso(b.receivedAt));
      text.id.push(b.id);
      text.projectId.push(b.projectId);
      text.workspaceId.push(b.workspaceId);
      text.production.push(b.production);
      text.raw.push(b.raw);
    };
    const keepText = this.storage === 'full';
    for (const entry of batch) {
      if (entry.kind === 'received') {
        if (!rows.has(entry.msg.id)) {
          rows.set(entry.msg.id, { msg: entry.msg, header: entry.header, status: 'received', finishedAt: null });
          if (keepText && this.bodyIndex === 'inline') addText(entry.msg);
        }
        continue;
      }
      if (entry.kind === 'text') {
        addText(entry.body);
        continue;
      }
      const e = entry.ev;
      ev.id.push(e.messageId);
      ev.projectId.push(e.projectId);
      ev.workspaceId.push(e.workspaceId);
      ev.production.push(e.production);
      ev.item.push(e.item);
      ev.event.push(e.event);
      ev.at.push(iso(entry.at));
      ev.detail.push(entry.detail);
      const status = statusOfEvent[e.event] ?? null;
      const finishedAt = finishingEvents.has(e.event) ? entry.at : null;
      if (status === null && finishedAt === null) continue;
      // A message stored in this very batch takes its latest status on insert; others get an UPDATE.
      const target = rows.get(e.messageId) ?? updates.get(e.messageId) ?? { status: null, finishedAt: null };
      if (status !== null) target.status = status;
      if (finishedAt !== null && target.finishedAt === null) target.finishedAt = finishedAt;
      if (!rows.has(e.messageId)) updates.set(e.messageId, target);
    }
    const keepRaw = this.storage === 'full';
    const msgs = [...rows.values()];
    const col = <T>(f: (r: MessageRow) => T): T[] => msgs.map(f);
    const ups = [...updates];
    return [
      col((r) => r.msg.id),
      col((r) => r.msg.projectId),
      col((r) => r.msg.workspaceId),
      col((r) => r.msg.production),
      col((r) => r.msg.item),
      col((r) => iso(r.msg.receivedAt)),
      col((r) => r.msg.messageType ?? null),
      col((r) => r.msg.controlId ?? null),
      col((r) => r.msg.patientId ?? null),
      col((r) => r.msg.contentType),
      col((r) => r.header),
      col((r) => (keepRaw ? r.msg.raw : null)),
      col((r) => r.msg.raw.byteLength),
      col((r) => r.msg.parentId ?? null),
      col((r) => r.msg.correlationId ?? null),
      col((r) => r.status),
      col((r) => (r.finishedAt === null ? null : iso(r.finishedAt))),
      ev.id,
      ev.projectId,
      ev.workspaceId,
      ev.production,
      ev.item,
      ev.event,
      ev.at,
      ev.detail,
      ups.map(([id]) => id),
      ups.map(([, u]) => u.status),
      ups.map(([, u]) => (u.finishedAt === null ? null : iso(u.finishedAt))),
      text.id,
      text.projectId,
      text.workspaceId,
      text.production,
      text.raw,
      text.receivedAt,
    ];
  }
}

/**
 * The writer's one statement: columns travel as arrays and `unnest` turns them into rows, so the
 * text never changes with the batch size and PostgreSQL prepares and plans it once per connection.
 * All parts run in one implicit transaction; `m` returns only rows actually inserted, so a
 * repeated `received()` adds neither a row nor a `received` event.
 */
export const WRITE_BATCH = `WITH m AS (
  INSERT INTO messages (id, project_id, workspace_id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size, parent_id, correlation_id)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[], $12::bytea[], $13::int[], $14::text[], $15::text[])
  ON CONFLICT (id, received_at) DO NOTHING
  RETURNING id, project_id, workspace_id, production, item, received_at
), s AS (
  INSERT INTO message_status (message_id, project_id, workspace_id, production, received_at, status, finished_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::timestamptz[], $16::text[], $17::timestamptz[])
  ON CONFLICT (message_id, received_at) DO NOTHING
), e AS (
  INSERT INTO message_events (message_id, project_id, workspace_id, production, item, event, at, detail)
  SELECT id, project_id, workspace_id, production, item, 'received', received_at, NULL::jsonb FROM m
  UNION ALL
  SELECT * FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::timestamptz[], $25::jsonb[])
), u AS (
  UPDATE message_status AS t
  SET status = coalesce(v.status, t.status), finished_at = coalesce(t.finished_at, v.finished_at)
  FROM unnest($26::text[], $27::text[], $28::timestamptz[]) AS v(id, status, finished_at)
  WHERE t.message_id = v.id
), x AS (
  INSERT INTO message_text (message_id, project_id, workspace_id, production, body, received_at)
  SELECT id, project_id, workspace_id, production, encode(raw, 'escape'),
    -- The message's day (its partition): given inline; looked up for a deferred body (committed by then).
    coalesce(received_at, (SELECT mm.received_at FROM messages mm WHERE mm.id = v.id LIMIT 1), now())
  FROM unnest($29::text[], $30::text[], $31::text[], $32::text[], $33::bytea[], $34::timestamptz[]) AS v(id, project_id, workspace_id, production, raw, received_at)
  ON CONFLICT (message_id, received_at) DO NOTHING
)
SELECT 1 AS ok`;

function invalid(e: unknown, id: string): StoreError {
  const cause = e instanceof Error ? e : undefined;
  return new StoreError('store.invalid', `message ${id}: ${cause?.message ?? 'not serialisable'}`, {
    details: { id },
    cause,
  });
}

function closedError(): StoreError {
  return new StoreError('store.closed', 'the message writer is closed');
}
