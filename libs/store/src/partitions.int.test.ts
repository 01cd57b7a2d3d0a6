/**
 * Day partitions (migration 0005): rows land in their day's partition, or in the DEFAULT one when
 * the day has none (never refused); maintenance moves them out; retention drops whole days only
 * when every project with rows in them may lose them, and deletes row by row otherwise.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { queryRows } from './db.js';
import type { ReceivedMessage } from './message-types.js';
import type { Store } from './store.js';
import { BACKENDS, useTestStore } from './test-backends.js';

const DAY = 86_400_000;
const enc = new TextEncoder();
/** The UTC day `n` days from today, as `YYYY-MM-DD`. */
const dayFromToday = (n: number): string => new Date(Date.now() + n * DAY).toISOString().slice(0, 10);
/** Noon (UTC) of that day. */
const noonOf = (day: string): number => Date.parse(`${day}T12:00:00Z`);

function message(projectId: string, receivedAt: number): ReceivedMessage {
  const id = randomUUID();
  return {
    id,
    projectId,
    workspaceId: 'ws',
    production: projectId,
    item: 'in',
    receivedAt,
    controlId: `C-${id.slice(0, 8)}`,
    patientId: 'P-1',
    messageType: 'ADT^A01',
    contentType: 'application/hl7-v2',
    header: {},
    raw: enc.encode(`MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5\rPID|1||P-1\r`),
  };
}

/** The partition (table name) each row of `table` with one of these message ids is in. */
async function partitionsOf(store: Store, table: string, ids: string[]): Promise<string[]> {
  const key = table === 'messages' ? 'id' : 'message_id';
  const rows = await queryRows<{ part: string }>(
    store.db,
    sql`SELECT DISTINCT tableoid::regclass::text AS part FROM ${sql.identifier(table)} WHERE ${sql.identifier(key)} = ANY(${sql.param(ids)}::text[]) ORDER BY 1`,
  );
  return rows.map((r) => r.part);
}

async function countOf(store: Store, table: string, projectId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    store.db,
    sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE project_id = ${projectId}`,
  );
  return Number(row?.n ?? 0);
}

async function exists(store: Store, table: string): Promise<boolean> {
  const [row] = await queryRows<{ r: string | null }>(store.db, sql`SELECT to_regclass(${table})::text AS r`);
  return row?.r != null;
}

describe.each(BACKENDS)('day partitions on %s', (backend) => {
  const t = useTestStore(backend);

  it('stores every table of a message in its day partition, the body text included (inline and deferred)', async () => {
    const today = dayFromToday(0).replaceAll('-', '');
    const inline = message(`p-${randomUUID()}`, Date.now());
    const deferred = message(inline.projectId, Date.now());
    const w = t.store.messages.writer();
    const d = t.store.messages.writer({ bodyIndex: 'deferred' });
    await w.received(inline);
    await d.received(deferred);
    // Deferred indexing as the engine does it, without the received time: it is looked up.
    await d.indexBody({ id: deferred.id, projectId: deferred.projectId, workspaceId: 'ws', production: deferred.production, raw: deferred.raw });
    await w.event({ messageId: inline.id, projectId: inline.projectId, workspaceId: 'ws', production: inline.production, item: 'out', event: 'delivered' });
    await Promise.all([w.close(), d.close()]);
    for (const table of ['messages', 'message_status', 'message_text', 'message_events']) {
      expect(await partitionsOf(t.store, table, [inline.id, deferred.id]), table).toEqual([`${table}_p${today}`]);
    }
    expect((await t.store.messages.get(inline.projectId, inline.id))?.status).toBe('delivered');
    const found = await t.store.messages.search(inline.projectId, { text: deferred.id });
    expect(found.items.map((m) => m.id)).toEqual([deferred.id]);
    // received() stays idempotent for the same message (same id, same received time).
    const again = t.store.messages.writer();
    await again.received(inline);
    await again.close();
    expect(await countOf(t.store, 'messages', inline.projectId)).toBe(2);
    expect(await countOf(t.store, 'message_events', inline.projectId)).toBe(3);
  });

  it('stores a message whose day has no partition in the DEFAULT one, and maintenance moves it to its day', async () => {
    const far = dayFromToday(40);
    const m = message(`p-${randomUUID()}`, noonOf(far));
    const w = t.store.messages.writer();
    await w.received(m);
    await w.event({ messageId: m.id, projectId: m.projectId, workspaceId: 'ws', production: m.production, item: 'out', event: 'delivered', at: noonOf(far) });
    await w.close();
    for (const table of ['messages', 'message_status', 'message_text', 'message_events']) {
      expect(await partitionsOf(t.store, table, [m.id]), table).toEqual([`${table}_default`]);
    }
    expect((await t.store.messages.get(m.projectId, m.id))?.status).toBe('delivered');
    await t.store.messages.ensurePartitions(41);
    const suffix = far.replaceAll('-', '');
    for (const table of ['messages', 'message_status', 'message_text', 'message_events']) {
      expect(await partitionsOf(t.store, table, [m.id]), table).toEqual([`${table}_p${suffix}`]);
    }
    expect((await t.store.messages.get(m.projectId, m.id))?.events.map((e) => e.event)).toEqual(['received', 'delivered']);
    expect(await t.store.messages.partitionDays()).toContain(far);
  });

  it('retention drops a day every project in it may lose, and deletes row by row in days shared with a longer retention', async () => {
    const tag = randomUUID().slice(0, 8);
    const [a, b, keep] = [`a-${tag}`, `b-${tag}`, `keep-${tag}`];
    // Days of their own, far back so that no other test writes there.
    const d = [dayFromToday(-300), dayFromToday(-299), dayFromToday(-298), dayFromToday(-297)];
    const w = t.store.messages.writer();
    const put = async (projectId: string, day: string, n: number) => {
      const ms = Array.from({ length: n }, () => message(projectId, noonOf(day)));
      await Promise.all(ms.map((m) => w.received(m)));
      return ms;
    };
    // Written before the days have partitions (DEFAULT), then maintenance for those days moves them.
    await put(a, d[0], 3); // only a: dropped
    await put(a, d[1], 2); // a and keep: a's rows deleted, keep's stay
    const kept = await put(keep, d[1], 1);
    await put(a, d[2], 2); // only a's messages, but an event of keep's message on that day: a's deleted
    await w.event({ messageId: kept[0].id, projectId: keep, workspaceId: 'ws', production: keep, item: 'out', event: 'delivered', at: noonOf(d[2]) });
    await put(a, d[3], 1); // a and b, b keeps it longer: a's deleted
    const bs = await put(b, d[3], 1);
    const ancient = await put(a, '2001-01-01', 1); // no partition ever: stays in DEFAULT, deleted
    await w.close();
    await t.store.db.execute(sql`SELECT hie_ensure_day_partitions(${d[0]}::date, ${d[3]}::date)`);
    expect(await partitionsOf(t.store, 'messages', kept.map((m) => m.id))).toEqual([`messages_p${d[1].replaceAll('-', '')}`]);
    expect(await partitionsOf(t.store, 'messages', ancient.map((m) => m.id))).toEqual(['messages_default']);

    const now = Date.now();
    const result = await t.store.messages.retain([
      { projectId: a, olderThan: new Date(now - 10 * DAY) },
      { projectId: b, olderThan: new Date(noonOf(d[3]) - DAY) },
      { projectId: keep, olderThan: null },
    ]);
    expect(result.droppedDays).toContain(d[0]);
    for (const day of d.slice(1)) expect(result.droppedDays).not.toContain(day);
    expect(result.busyDays).toEqual([]);
    const s0 = d[0].replaceAll('-', '');
    for (const table of ['messages', 'message_status', 'message_text', 'message_events']) {
      expect(await exists(t.store, `${table}_p${s0}`), table).toBe(false);
      expect(await exists(t.store, `${table}_p${d[1].replaceAll('-', '')}`), table).toBe(true);
    }
    expect(result.deletedMessages).toBe(2 + 2 + 1 + 1);
    for (const table of ['messages', 'message_status', 'message_text', 'message_events']) {
      expect(await countOf(t.store, table, a), table).toBe(0);
    }
    expect(await countOf(t.store, 'messages', b)).toBe(1);
    expect(await countOf(t.store, 'messages', keep)).toBe(1);
    expect((await t.store.messages.get(keep, kept[0].id))?.events.map((e) => e.event)).toEqual(['received', 'delivered']);
    expect(await t.store.messages.get(b, bs[0].id)).toBeDefined();

    // Once b's and keep's rows are gone, their days go whole.
    const later = await t.store.messages.retain([
      { projectId: a, olderThan: new Date(now - 10 * DAY) },
      { projectId: b, olderThan: new Date(now - 10 * DAY) },
      { projectId: keep, olderThan: new Date(now - 10 * DAY) },
    ]);
    expect(later.droppedDays).toEqual(expect.arrayContaining(d.slice(1)));
    expect(later.droppedMessages).toBe(2); // keep's on d[1], b's on d[3]
    expect(later.deletedMessages).toBe(0);
    expect(await countOf(t.store, 'messages', b) + (await countOf(t.store, 'messages', keep))).toBe(0);
  });

  it.runIf(backend === 'postgres')('leaves a day whose tables are busy to the batched DELETE, never waiting long for the lock', async () => {
    const projectId = `busy-${randomUUID().slice(0, 8)}`;
    const day = dayFromToday(-200);
    await t.store.db.execute(sql`SELECT hie_ensure_day_partitions(${day}::date, ${day}::date)`);
    const w = t.store.messages.writer();
    await Promise.all([message(projectId, noonOf(day)), message(projectId, noonOf(day))].map((m) => w.received(m)));
    await w.close();
    // A long read of the messages holds a lock the drop would have to wait for.
    const reader = new pg.Client({ connectionString: t.databaseUrl });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM messages');
      const r = await t.store.messages.retain([{ projectId, olderThan: new Date(Date.now() - 100 * DAY) }], { lockTimeoutMs: 200 });
      expect(r.busyDays).toContain(day);
      expect(r.droppedDays).not.toContain(day);
      expect(r.deletedMessages).toBe(2);
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    expect(await t.store.messages.partitionDays()).toContain(day);
    expect(await countOf(t.store, 'messages', projectId)).toBe(0);
  });
});
