/**
 * The raw-first hot path: a group-commit writer. Callers hand in `received()` and `event()`
 * entries and await them; the writer gathers whatever arrives while the previous commit is in
 * flight (or for `maxDelayMs` when idle) and writes it as ONE statement — multi-row INSERTs of
 * the messages, their status rows, their `received` events and the other events, plus one
 * `UPDATE message_status … FROM (VALUES …)` for messages stored by earlier batches (a message
 * stored in the same batch gets its latest status on insert). The wide `messages` row is never
 * updated. A single statement is a transaction of
 * its own: one round trip, one commit (one WAL flush) for the whole batch. Promises resolve after
 * the commit and reject with a {@link StoreError} if it fails; a batch refused for bad data
 * (SQLSTATE 22/23) is retried entry by entry so one bad message cannot fail its neighbours.
 *
 * Up to `maxInFlight` batches are written at once (each on its own connection), but entries of
 * one message always commit in call order: a batch never takes an entry whose message has an
 * entry in a batch still in flight.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { StoreDb } from './db.js';
import { StoreError, toStoreError } from './errors.js';
import type {
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
};

/**
 * The terminal rule: a message is finished once it has a `completed` event (the engine writes it
 * when every branch is done — delivered, or failed for good) or a `discarded` event. Unfinished
 * messages are what {@link MessageStore.unfinished} hands back for recovery.
 */
export const finishingEvents: ReadonlySet<MessageEventName> = new Set<MessageEventName>(['completed', 'discarded']);

const MAX_BATCH = 2000; // ~22 parameters an entry: stays under PostgreSQL's 65,535 per statement

type Settle = { resolve: () => void; reject: (e: unknown) => void };
type Entry = (
  | { kind: 'received'; msg: ReceivedMessage; header: string }
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

const entryId = (e: Entry): string => (e.kind === 'received' ? e.msg.id : e.ev.messageId);

export class BatchingMessageWriter implements MessageWriter {
  readonly storage: StorageMode;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxInFlight: number;
  private queue: Entry[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Batches being written, and how many entries of each message id they hold. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightIds = new Map<string, number>();
  private inFlightEntries = 0;
  private readonly m = { batches: 0, rows: 0, lastFlushMs: 0, maxFlushMs: 0, totalFlushMs: 0, failedBatches: 0 };

  constructor(
    private readonly db: StoreDb,
    opts: WriterOptions = {},
  ) {
    this.storage = opts.storage ?? 'full';
    this.maxBatch = Math.max(1, Math.min(MAX_BATCH, Math.floor(opts.maxBatch ?? 500)));
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 2);
    this.maxInFlight = Math.max(1, Math.floor(opts.maxInFlight ?? 1));
  }

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
   * Starts batches while a slot is free. A batch takes entries from the head of the queue up to
   * the first one whose message has an entry in a batch still in flight: entries of one message
   * therefore commit in call order, even with several batches in flight.
   */
  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      let n = 0;
      const limit = Math.min(this.maxBatch, this.queue.length);
      if (this.inFlightIds.size === 0) n = limit;
      else while (n < limit && !this.inFlightIds.has(entryId(this.queue[n]))) n++;
      if (n === 0) return; // waits for the batch it depends on
      const batch = this.queue.splice(0, n);
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
      await this.db.execute(this.statement(batch));
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
    if (ms > this.m.maxFlushMs) this.m.maxFlushMs = ms;
  }

  /** One statement for the whole batch (see the module comment). */
  private statement(batch: Entry[]): SQL {
    const rows = new Map<string, MessageRow>();
    const events: Extract<Entry, { kind: 'event' }>[] = [];
    const updates = new Map<string, StatusUpdate>();
    for (const entry of batch) {
      if (entry.kind === 'received') {
        if (!rows.has(entry.msg.id)) rows.set(entry.msg.id, { msg: entry.msg, header: entry.header, status: 'received', finishedAt: null });
        continue;
      }
      events.push(entry);
      const status = statusOfEvent[entry.ev.event] ?? null;
      const finishedAt = finishingEvents.has(entry.ev.event) ? entry.at : null;
      if (status === null && finishedAt === null) continue;
      // A message stored in this very batch takes its latest status on insert; others get an UPDATE.
      const target = rows.get(entry.ev.messageId) ?? updates.get(entry.ev.messageId) ?? { status: null, finishedAt: null };
      if (status !== null) target.status = status;
      if (finishedAt !== null && target.finishedAt === null) target.finishedAt = finishedAt;
      if (!rows.has(entry.ev.messageId)) updates.set(entry.ev.messageId, target);
    }

    const ctes: SQL[] = [];
    const keepRaw = this.storage === 'full';
    if (rows.size > 0) {
      const values: SQL[] = [];
      const states: SQL[] = [];
      for (const { msg, header, status, finishedAt } of rows.values()) {
        const receivedAt = iso(msg.receivedAt);
        values.push(
          sql`(${msg.id}, ${msg.production}, ${msg.item}, ${receivedAt}::timestamptz, ${msg.messageType ?? null}, ${msg.controlId ?? null}, ${msg.patientId ?? null}, ${msg.contentType}, ${header}::jsonb, ${keepRaw ? msg.raw : null}::bytea, ${msg.raw.byteLength}::int, ${msg.parentId ?? null}, ${msg.correlationId ?? null})`,
        );
        states.push(
          sql`(${msg.id}, ${msg.production}, ${receivedAt}::timestamptz, ${status}, ${finishedAt === null ? null : iso(finishedAt)}::timestamptz)`,
        );
      }
      ctes.push(
        sql`m AS (INSERT INTO messages (id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size, parent_id, correlation_id) VALUES ${sql.join(values, sql`, `)} ON CONFLICT (id) DO NOTHING RETURNING id, production, item, received_at)`,
        sql`s AS (INSERT INTO message_status (message_id, production, received_at, status, finished_at) VALUES ${sql.join(states, sql`, `)} ON CONFLICT (message_id) DO NOTHING)`,
      );
    }
    const eventValues = events.map(
      ({ ev, at, detail }) =>
        sql`(${ev.messageId}, ${ev.production}, ${ev.item}, ${ev.event}, ${iso(at)}::timestamptz, ${detail}::jsonb)`,
    );
    const insertEvents = sql`INSERT INTO message_events (message_id, production, item, event, at, detail)`;
    if (rows.size > 0 && eventValues.length > 0) {
      ctes.push(sql`e AS (${insertEvents} SELECT id, production, item, 'received', received_at, NULL::jsonb FROM m UNION ALL VALUES ${sql.join(eventValues, sql`, `)})`);
    } else if (rows.size > 0) {
      ctes.push(sql`e AS (${insertEvents} SELECT id, production, item, 'received', received_at, NULL::jsonb FROM m)`);
    } else if (eventValues.length > 0) {
      ctes.push(sql`e AS (${insertEvents} VALUES ${sql.join(eventValues, sql`, `)})`);
    }
    if (updates.size > 0) {
      const values = [...updates].map(
        ([id, u]) => sql`(${id}, ${u.status}::text, ${u.finishedAt === null ? null : iso(u.finishedAt)}::timestamptz)`,
      );
      ctes.push(sql`u AS (UPDATE message_status AS t SET status = coalesce(v.status, t.status), finished_at = coalesce(t.finished_at, v.finished_at) FROM (VALUES ${sql.join(values, sql`, `)}) AS v(id, status, finished_at) WHERE t.message_id = v.id)`);
    }
    return sql`WITH ${sql.join(ctes, sql`, `)} SELECT 1 AS ok`;
  }
}

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
