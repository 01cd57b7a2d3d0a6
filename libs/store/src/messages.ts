/**
 * The message store: the batching writer (hot path), recovery of unfinished messages, and the
 * message viewer's queries — search (keyset-paginated), get with full trace, resend, purge.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { decodeCursor, encodeCursor } from './cursor.js';
import { queryRows, toBytes, toDate, toStr, type RunStatement, type StoreDb } from './db.js';
import { StoreError, toStoreError } from './errors.js';
import { BatchingMessageWriter } from './message-writer.js';
import type {
  MessageDetail,
  MessageEvent,
  MessageSearchFilter,
  MessageSearchResult,
  MessageSummary,
  MessageWriter,
  PurgeOptions,
  ResendOptions,
  RetainOptions,
  RetentionPolicy,
  RetentionResult,
  ResendResult,
  SuspendedCount,
  UnfinishedMessage,
  WriterOptions,
} from './message-types.js';
import { messageEvents, messageStatus, messages, type MessageEventName, type MessageStatus } from './schema.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

const summaryColumns = {
  id: messages.id,
  projectId: messages.projectId,
  workspaceId: messages.workspaceId,
  production: messages.production,
  item: messages.item,
  receivedAt: messages.receivedAt,
  messageType: messages.messageType,
  controlId: messages.controlId,
  patientId: messages.patientId,
  contentType: messages.contentType,
  size: messages.size,
  status: messageStatus.status,
  finishedAt: messageStatus.finishedAt,
  parentId: messages.parentId,
  correlationId: messages.correlationId,
};

/**
 * The join of a message to its status row. Both carry the same received_at (written together), the
 * partition key of both: with it the join probes one day partition of message_status per message
 * instead of every day's (and the planner never hashes a whole table for a few messages).
 */
const statusOfMessage = and(eq(messageStatus.messageId, messages.id), eq(messageStatus.receivedAt, messages.receivedAt));

/** A message's status and finished time read from its status row, as columns of a messages-only query. */
const statusPerRow = {
  status: sql<MessageStatus>`(SELECT s.status FROM message_status s WHERE s.message_id = ${messages.id} AND s.received_at = ${messages.receivedAt})`,
  finishedAt: sql<Date | null>`(SELECT s.finished_at FROM message_status s WHERE s.message_id = ${messages.id} AND s.received_at = ${messages.receivedAt})`.mapWith(
    messageStatus.finishedAt,
  ),
};

/** Exact position of a row for keyset paging: microseconds since the epoch, as text. */
const micros = (col: SQLWrapper) => sql<string>`(extract(epoch from ${col}) * 1000000)::bigint::text`;
const fromMicros = (us: string): SQL => sql`(timestamptz 'epoch' + ${us}::bigint * interval '1 microsecond')`;

/**
 * The body text the trigram index covers is `encode(raw, 'escape')`: bytes as they are, except
 * NUL and bytes ≥ 0x80 as `\ooo` and `\` doubled. The search term gets the same encoding, then
 * LIKE escaping, so a UTF-8 term matches UTF-8 bodies byte for byte.
 */
export function bodyPattern(text: string): string {
  let encoded = '';
  for (const b of new TextEncoder().encode(text)) {
    if (b === 0 || b >= 0x80) encoded += '\\' + b.toString(8).padStart(3, '0');
    else if (b === 0x5c) encoded += '\\\\';
    else encoded += String.fromCharCode(b);
  }
  return '%' + encoded.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}


/**
 * True for a message no operator has resent since it last failed: it has no `resent` event that
 * is not followed by a later `failed` one. With `status = 'failed'`, what "suspended" means.
 */
const notResentSinceFailed = (messageId: SQLWrapper) =>
  sql`NOT EXISTS (
        SELECT 1 FROM message_events r
        WHERE r.message_id = ${messageId} AND r.event = 'resent'
          AND NOT EXISTS (SELECT 1 FROM message_events f WHERE f.message_id = ${messageId} AND f.event = 'failed' AND (f.at, f.id) > (r.at, r.id))
      )`;

/**
 * The item where a message failed: the item of the latest `failed` event of its trace (events in
 * trace order), or `undefined` when it never failed. Resend uses it as the default target.
 */
export function failedItemOf(events: readonly Pick<MessageEvent, 'event' | 'item'>[]): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i].event === 'failed') return events[i].item;
  return undefined;
}

export class MessageStore {
  constructor(
    private readonly db: StoreDb,
    private readonly run: RunStatement,
    private readonly defaultMaxInFlight = 1,
  ) {}

  private readonly writers = new Set<MessageWriter>();

  /** A new group-commit writer; see {@link BatchingMessageWriter}. `store.close()` closes it too. */
  writer(opts: WriterOptions = {}): MessageWriter {
    const w = new BatchingMessageWriter(this.run, { maxInFlight: this.defaultMaxInFlight, ...opts });
    this.writers.add(w);
    return w;
  }

  /** Flushes and closes every writer (before the store closes its connections). */
  async closeWriters(): Promise<void> {
    const all = [...this.writers];
    this.writers.clear();
    await Promise.allSettled(all.map((w) => w.close()));
  }

  /**
   * Every message of a project that is not finished — no `completed` and no `discarded`
   * event yet — oldest first, with its latest event, for the engine to resume after a restart.
   * Reads pages of `pageSize` over a partial index, so the cost follows the open messages only.
   */
  async *unfinished(projectId: string, opts: { pageSize?: number } = {}): AsyncIterable<UnfinishedMessage> {
    const pageSize = Math.max(1, opts.pageSize ?? 500);
    let after: { us: string; id: string } | undefined;
    for (;;) {
      const keyset = after ? sql`AND (s.received_at, s.message_id) > (${fromMicros(after.us)}, ${after.id})` : sql``;
      let rows: Record<string, unknown>[];
      try {
        rows = await queryRows(
          this.db,
          sql`SELECT m.id, m.project_id, m.workspace_id, m.production, m.item, m.received_at, m.content_type, m.header, m.raw, m.correlation_id, m.parent_id, s.status,
                (extract(epoch from s.received_at) * 1000000)::bigint::text AS us, le.event AS last_event, le.item AS last_item
              FROM message_status s
              JOIN messages m ON m.id = s.message_id AND m.received_at = s.received_at
              LEFT JOIN LATERAL (
                SELECT e.event, e.item FROM message_events e WHERE e.message_id = s.message_id ORDER BY e.at DESC, e.id DESC LIMIT 1
              ) le ON true
              WHERE s.project_id = ${projectId} AND s.finished_at IS NULL ${keyset}
              ORDER BY s.received_at, s.message_id
              LIMIT ${pageSize}`,
        );
      } catch (e) {
        throw toStoreError(e, 'messages.unfinished');
      }
      for (const r of rows) {
        yield {
          id: String(r['id']),
          projectId: String(r['project_id']),
          workspaceId: String(r['workspace_id']),
          production: String(r['production']),
          item: String(r['item']),
          receivedAt: toDate(r['received_at']),
          contentType: String(r['content_type']),
          header: asRecord(r['header']),
          raw: toBytes(r['raw']),
          correlationId: toStr(r['correlation_id']),
          parentId: toStr(r['parent_id']),
          status: String(r['status']) as MessageStatus,
          lastEvent: toStr(r['last_event']) as MessageEventName | null,
          lastItem: toStr(r['last_item']),
        };
      }
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { us: String(last['us']), id: String(last['id']) };
    }
  }

  /** One project's messages, newest first, keyset-paginated on (received_at desc, id desc). */
  async search(projectId: string, filter: MessageSearchFilter = {}): Promise<MessageSearchResult> {
    const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(filter.limit ?? DEFAULT_LIMIT)));
    const statuses = filter.suspended ? ['failed' as const] : filter.status === undefined ? [] : Array.isArray(filter.status) ? filter.status : [filter.status];
    // With a status filter, walk message_status's (project_id, status, received_at) index and
    // look the messages up; otherwise walk the messages indexes. Both copies of received_at and
    // the id are equal, so the cursor means the same either way.
    const byStatus = statuses.length > 0;
    const receivedAt = byStatus ? messageStatus.receivedAt : messages.receivedAt;
    const idCol = byStatus ? messageStatus.messageId : messages.id;
    const conds: SQL[] = [eq(byStatus ? messageStatus.projectId : messages.projectId, projectId)];
    if (filter.item !== undefined) conds.push(eq(messages.item, filter.item));
    if (byStatus) conds.push(statuses.length === 1 ? eq(messageStatus.status, statuses[0]) : inArray(messageStatus.status, statuses));
    if (filter.suspended) conds.push(notResentSinceFailed(messageStatus.messageId));
    // The bounds go on both copies of received_at (equal by construction): each side then prunes to
    // the days in range, instead of the join reading every day of the other table.
    for (const col of byStatus ? [messages.receivedAt, messageStatus.receivedAt] : [messages.receivedAt]) {
      if (filter.from !== undefined) conds.push(gte(col, filter.from));
      if (filter.to !== undefined) conds.push(lt(col, filter.to));
    }
    if (filter.messageType !== undefined) conds.push(eq(messages.messageType, filter.messageType));
    if (filter.controlId !== undefined) conds.push(eq(messages.controlId, filter.controlId));
    if (filter.patientId !== undefined) conds.push(eq(messages.patientId, filter.patientId));
    if (filter.text !== undefined && filter.text !== '') {
      // The trigram index lives on message_text (see schema.ts); never looks outside the project.
      conds.push(
        sql`${messages.id} IN (SELECT mt.message_id FROM message_text mt WHERE mt.body ILIKE ${bodyPattern(filter.text)} AND mt.project_id = ${projectId})`,
      );
    }
    if (filter.cursor !== undefined) {
      const [us, id] = decodeCursor(filter.cursor, ['string', 'string'] as const);
      if (!/^-?\d{1,20}$/.test(us)) throw new StoreError('store.invalid', 'invalid cursor', { details: { field: 'cursor' } });
      conds.push(sql`(${receivedAt}, ${idCol}) < (${fromMicros(us)}, ${id})`);
    }
    try {
      // Without a status filter, the status is read per row of the page (one day's index each),
      // after the LIMIT: a join would be planned before it, over every row in range.
      const rows = byStatus
        ? await this.db
            .select({ ...summaryColumns, us: micros(receivedAt) })
            .from(messages)
            .innerJoin(messageStatus, statusOfMessage)
            .where(and(...conds))
            .orderBy(desc(receivedAt), desc(idCol))
            .limit(limit + 1)
        : await this.db
            .select({ ...summaryColumns, ...statusPerRow, us: micros(receivedAt) })
            .from(messages)
            .where(and(...conds))
            .orderBy(desc(receivedAt), desc(idCol))
            .limit(limit + 1);
      const page = rows.slice(0, limit);
      const items: MessageSummary[] = page.map(({ us: _us, ...summary }) => summary);
      if (rows.length <= limit) return { items };
      const last = page[page.length - 1];
      return { items, nextCursor: encodeCursor([last.us, last.id]) };
    } catch (e) {
      throw toStoreError(e, 'messages.search');
    }
  }

  /**
   * One message of the project with its full trace (events by at, id) and the ids resent from it;
   * `undefined` when there is none with that id in that project.
   */
  async get(projectId: string, id: string, opts: { includeBody?: boolean } = {}): Promise<MessageDetail | undefined> {
    try {
      const [row] = await this.db
        .select({
          ...summaryColumns,
          header: messages.header,
          ...(opts.includeBody ? { raw: messages.raw } : {}),
        })
        .from(messages)
        .innerJoin(messageStatus, statusOfMessage)
        .where(and(eq(messages.id, id), eq(messages.projectId, projectId)));
      if (!row) return undefined;
      const [events, resends] = await Promise.all([
        this.trace(projectId, id),
        this.db
          .select({ id: messages.id })
          .from(messages)
          .where(and(eq(messages.parentId, id), eq(messages.projectId, projectId)))
          .orderBy(asc(messages.receivedAt), asc(messages.id)),
      ]);
      return { ...row, events, resends: resends.map((r) => r.id) };
    } catch (e) {
      throw toStoreError(e, 'messages.get');
    }
  }

  /** The events of one message of the project, ordered by (at, id). */
  async trace(projectId: string, id: string): Promise<MessageEvent[]> {
    try {
      const rows = await this.db
        .select()
        .from(messageEvents)
        .where(and(eq(messageEvents.messageId, id), eq(messageEvents.projectId, projectId)))
        .orderBy(asc(messageEvents.at), asc(messageEvents.id));
      return rows.map((r) => ({ ...r, detail: r.detail ?? null }));
    } catch (e) {
      throw toStoreError(e, 'messages.trace');
    }
  }

  /**
   * When an item last received a message of the project, looking back no further than `since`
   * (the partitions and the (project_id, received_at) index bound the scan): undefined when it
   * received none since then. What the silence alert asks.
   */
  async lastReceivedAt(projectId: string, item: string, since: Date): Promise<Date | undefined> {
    try {
      const rows = await queryRows<{ at: unknown }>(
        this.db,
        sql`SELECT max(received_at) AS at FROM messages WHERE project_id = ${projectId} AND item = ${item} AND received_at >= ${since.toISOString()}`,
      );
      const at = rows[0]?.at;
      return at === null || at === undefined ? undefined : toDate(at);
    } catch (e) {
      throw toStoreError(e, 'messages.lastReceivedAt');
    }
  }

  /**
   * Suspended messages per item, as IRIS shows them: the project's messages whose status is
   * `failed` (failed for good), grouped by the item where they failed (the item of their latest
   * `failed` event, else of their latest event), leaving out those resent since that failure —
   * an operator who resent them has dealt with them. Walks the (project_id, status, received_at)
   * index of message_status and the per-message events index, so its cost follows the failed
   * messages only.
   */
  async suspendedCounts(projectId: string): Promise<SuspendedCount[]> {
    try {
      const rows = await queryRows<{ item: string | null; n: number }>(
        this.db,
        sql`SELECT coalesce(lf.item, le.item) AS item, count(*)::int AS n
            FROM message_status s
            LEFT JOIN LATERAL (
              SELECT e.item FROM message_events e
              WHERE e.message_id = s.message_id AND e.event = 'failed'
              ORDER BY e.at DESC, e.id DESC LIMIT 1
            ) lf ON true
            LEFT JOIN LATERAL (
              SELECT e.item FROM message_events e WHERE e.message_id = s.message_id ORDER BY e.at DESC, e.id DESC LIMIT 1
            ) le ON true
            WHERE s.project_id = ${projectId} AND s.status = 'failed' AND ${notResentSinceFailed(sql`s.message_id`)}
            GROUP BY 1
            ORDER BY 1`,
      );
      return rows.map((r) => ({ item: r.item ?? '', count: Number(r.n) }));
    } catch (e) {
      throw toStoreError(e, 'messages.suspendedCounts');
    }
  }

  /**
   * Stores a copy of a message (or an edited body) as a new message linked by `parent_id`, with a
   * `received` event on the copy and a `resent` event on the original, in one transaction. The
   * engine then injects the copy into `toItem`; until it completes, `unfinished()` lists it.
   */
  async resend(projectId: string, id: string, opts: ResendOptions): Promise<ResendResult> {
    try {
      return await this.db.transaction(async (tx) => {
        const [orig] = await tx
          .select()
          .from(messages)
          .where(and(eq(messages.id, id), eq(messages.projectId, projectId)));
        if (!orig) throw new StoreError('store.not_found', `message ${id} not found`, { details: { id } });
        const raw = opts.raw ?? orig.raw;
        if (!raw) {
          throw new StoreError('store.no_body', `message ${id} was stored without its body; pass raw to resend it`, {
            details: { id },
          });
        }
        const newId = randomUUID();
        const receivedAt = new Date();
        const correlationId = orig.correlationId ?? orig.id;
        const actor = opts.actor ?? null;
        const scope = { projectId: orig.projectId, workspaceId: orig.workspaceId };
        await tx.insert(messages).values({
          id: newId,
          ...scope,
          production: orig.production,
          item: opts.toItem,
          receivedAt,
          messageType: orig.messageType,
          controlId: orig.controlId,
          patientId: orig.patientId,
          contentType: orig.contentType,
          header: orig.header,
          raw,
          size: raw.byteLength,
          parentId: orig.id,
          correlationId,
        });
        await tx.insert(messageStatus).values({ messageId: newId, ...scope, production: orig.production, receivedAt, status: 'received' });
        await tx.insert(messageEvents).values([
          {
            messageId: orig.id,
            ...scope,
            production: orig.production,
            item: opts.toItem,
            event: 'resent',
            at: receivedAt,
            detail: { newId, toItem: opts.toItem, actor, edited: opts.raw !== undefined },
          },
          {
            messageId: newId,
            ...scope,
            production: orig.production,
            item: opts.toItem,
            event: 'received',
            at: receivedAt,
            detail: { resentFrom: orig.id, actor },
          },
        ]);
        return {
          newId,
          ...scope,
          parentId: orig.id,
          production: orig.production,
          item: opts.toItem,
          receivedAt,
          contentType: orig.contentType,
          header: orig.header,
          raw,
          messageType: orig.messageType,
          controlId: orig.controlId,
          patientId: orig.patientId,
          correlationId,
        };
      });
    } catch (e) {
      throw toStoreError(e, 'messages.resend');
    }
  }

  /**
   * Deletes a project's messages received before `olderThan`, with their events, in batches of
   * `batchSize`: each batch is one statement (its own short transaction), so writers never wait
   * long. Returns the number of messages deleted. Row by row: {@link retain} drops whole days
   * first and leaves this for the rows it may not drop.
   */
  async purge(opts: PurgeOptions): Promise<number> {
    const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 5000));
    const olderThan = opts.olderThan.toISOString();
    let total = 0;
    for (;;) {
      let n: number;
      try {
        const [row] = await queryRows<{ n: number }>(
          this.db,
          sql`WITH doomed AS (
                SELECT id FROM messages
                WHERE project_id = ${opts.projectId} AND received_at < ${olderThan}::timestamptz
                ORDER BY received_at LIMIT ${batchSize}
              ), ev AS (
                DELETE FROM message_text WHERE message_id IN (SELECT id FROM doomed)
              ), dt AS (
                DELETE FROM message_events WHERE message_id IN (SELECT id FROM doomed)
              ), st AS (
                DELETE FROM message_status WHERE message_id IN (SELECT id FROM doomed)
              ), del AS (
                DELETE FROM messages WHERE id IN (SELECT id FROM doomed) RETURNING 1
              )
              SELECT count(*)::int AS n FROM del`,
        );
        n = Number(row?.n ?? 0);
      } catch (e) {
        throw toStoreError(e, 'messages.purge');
      }
      total += n;
      if (n < batchSize) return total;
    }
  }

  /**
   * Partition maintenance: makes the day partitions (UTC) of the per-message tables from yesterday
   * to `aheadDays` ahead, moving any rows of those days out of the DEFAULT partition. Idempotent,
   * serialised across processes; the store runs it on open and {@link retain} on each run. A row
   * of a day without a partition still lands in the DEFAULT partition: storing never fails for it.
   */
  async ensurePartitions(aheadDays = 3): Promise<void> {
    const ahead = Math.max(0, Math.min(366, Math.floor(aheadDays)));
    try {
      await this.db.execute(
        sql`SELECT hie_ensure_day_partitions((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + ${ahead}::int)`,
      );
    } catch (e) {
      throw toStoreError(e, 'messages.ensurePartitions');
    }
  }

  /** The days (UTC, `YYYY-MM-DD`) that have their own partition, oldest first. */
  async partitionDays(): Promise<string[]> {
    try {
      const rows = await queryRows<{ name: string }>(
        this.db,
        sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'messages'::regclass AND c.relname ~ '^messages_p[0-9]{8}$' ORDER BY 1`,
      );
      return rows.map((r) => dayOfPartition(String(r.name)));
    } catch (e) {
      throw toStoreError(e, 'messages.partitionDays');
    }
  }

  /**
   * Retention over every project at once: first drops the whole day partitions (messages, status,
   * text and events of that day) that every project having rows in them may lose — a day goes
   * when it ends at or before the cutoff of each project found in its messages or its events,
   * i.e. when it is older than the LONGEST retention among them; a project with no policy here
   * (kept for ever, or run by another node) keeps the day. Then, per project, the batched DELETE
   * of {@link purge} removes what is left below its cutoff: days shared with a project that keeps
   * them longer, and the DEFAULT partition. A day whose tables are busy (a drop waits at most
   * `lockTimeoutMs` for the lock on the parent tables) is left to the DELETE and the next run.
   */
  async retain(policies: readonly RetentionPolicy[], opts: RetainOptions = {}): Promise<RetentionResult> {
    const result: RetentionResult = { droppedDays: [], droppedMessages: 0, deletedMessages: 0, busyDays: [] };
    const cutoff = new Map<string, number>();
    for (const p of policies) if (p.olderThan !== null) cutoff.set(p.projectId, p.olderThan.getTime());
    if (cutoff.size === 0) return result;
    await this.ensurePartitions(opts.aheadDays);
    const latest = Math.max(...cutoff.values());
    const lockTimeoutMs = Math.max(1, Math.floor(opts.lockTimeoutMs ?? 5000));
    for (const day of await this.partitionDays()) {
      const end = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
      if (end > latest) break;
      const suffix = day.replaceAll('-', '');
      const droppable = [...cutoff].filter(([, t]) => t >= end).map(([id]) => id);
      if (droppable.length === 0) continue;
      const part = (table: string) => sql.identifier(`${table}_p${suffix}`);
      try {
        const n = await this.db.transaction(async (tx) => {
          await tx.execute(sql.raw(`SET LOCAL lock_timeout = ${lockTimeoutMs}`));
          // One retention at a time (engines share the database), and no row may arrive in the day
          // between the check and the drop: SHARE blocks writers to that day only, not readers.
          await tx.execute(sql`SELECT pg_advisory_xact_lock(${RETAIN_LOCK})`);
          await tx.execute(sql`LOCK TABLE ${part('messages')}, ${part('message_events')} IN SHARE MODE`);
          const [row] = await queryRows<{ blocked: boolean; n: number }>(
            tx,
            sql`SELECT
                  EXISTS (SELECT 1 FROM ${part('messages')} WHERE project_id <> ALL(${sql.param(droppable)}::text[]))
                  OR EXISTS (SELECT 1 FROM ${part('message_events')} WHERE project_id <> ALL(${sql.param(droppable)}::text[])) AS blocked,
                  (SELECT count(*) FROM ${part('messages')})::int AS n`,
          );
          if (!row || row.blocked) return undefined;
          for (const table of PARTITIONED) await tx.execute(sql`DROP TABLE IF EXISTS ${part(table)}`);
          return Number(row.n);
        });
        if (n === undefined) continue;
        result.droppedDays.push(day);
        result.droppedMessages += n;
      } catch (e) {
        const err = toStoreError(e, 'messages.retain');
        if (err.code !== 'store.busy') throw err;
        result.busyDays.push(day); // lock timeout (or deadlock): the DELETEs below take its rows
      }
    }
    for (const [projectId, olderThan] of cutoff) {
      result.deletedMessages += await this.purge({ projectId, olderThan: new Date(olderThan), batchSize: opts.batchSize });
    }
    return result;
  }
}

/** The tables partitioned by day (migration 0005); each day's partition is `<table>_pYYYYMMDD`. */
const PARTITIONED = ['messages', 'message_status', 'message_text', 'message_events'] as const;
// Any constant: serialises partition drops of several engines sharing one database.
const RETAIN_LOCK = 72_620_021;

const dayOfPartition = (name: string): string => {
  const d = name.slice(-8);
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
};

function asRecord(v: unknown): Record<string, unknown> {
  if (typeof v === 'string') return asRecord(JSON.parse(v));
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  return {};
}
