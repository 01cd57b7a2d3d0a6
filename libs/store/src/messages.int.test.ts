import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './store.js';
import { BACKENDS, useTestStore } from './test-backends.js';
import type { MessageSummary, ReceivedMessage } from './message-types.js';
import { bodyPattern } from './messages.js';
import { StoreError } from './errors.js';

/** How many migrations the journal lists (each applied exactly once). */
const journalEntries = (): number => (JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }).entries.length;

const enc = new TextEncoder();
const hl7 = (controlId: string, patientId: string, extra = '') =>
  enc.encode(
    `MSH|^~\\&|LAB|HOSP|EPR|HOSP|20240101120000||ADT^A01|${controlId}|P|2.5\rPID|1||${patientId}^^^HOSP^MR||${extra}^JOHN\r`,
  );

/** Rows of a test "project": its id is the production name here, its workspace derived from it. */
const scoped = (production: string) => ({ production, projectId: production, workspaceId: `ws-${production}` });

function message(production: string, over: Partial<ReceivedMessage> = {}): ReceivedMessage {
  const id = over.id ?? randomUUID();
  return {
    id,
    ...scoped(production),
    item: 'mllp-in',
    receivedAt: Date.now(),
    messageType: 'ADT^A01',
    controlId: `C-${id.slice(0, 8)}`,
    patientId: 'P-1',
    contentType: 'application/hl7-v2',
    header: { source: 'LAB', priority: 5 },
    raw: hl7(`C-${id.slice(0, 8)}`, 'P-1'),
    ...over,
  };
}

async function count(store: Store, table: 'messages' | 'message_events' | 'message_status', production: string): Promise<number> {
  const res: unknown = await store.db.execute(
    sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE project_id = ${production}`,
  );
  const rows = (res as { rows: { n: number }[] }).rows;
  return Number(rows[0].n);
}

const ids0 = (items: MessageSummary[]) => items.map((m) => m.id);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.each(BACKENDS)('message store on %s', (backend) => {
  const t = useTestStore(backend);

  it('applies the migrations twice without change', async () => {
    await t.store.migrate();
    await t.store.migrate();
    const res: unknown = await t.store.db.execute(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
    expect((res as { rows: { n: number }[] }).rows[0].n).toBe(journalEntries());
    const ext: unknown = await t.store.db.execute(sql`SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'`);
    expect((ext as { rows: unknown[] }).rows).toHaveLength(1);
  });

  it('group-commits many concurrent received() into few batches', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer({ maxBatch: 500, maxDelayMs: 2 });
    const msgs = Array.from({ length: 1200 }, () => message(production));
    await Promise.all(msgs.map((m) => writer.received(m)));
    const m = writer.metrics();
    expect(m.rows).toBe(1200);
    expect(m.batches).toBeLessThanOrEqual(6);
    expect(m.avgBatchSize).toBeGreaterThanOrEqual(200);
    expect(m.pending).toBe(0);
    expect(await count(t.store, 'messages', production)).toBe(1200);
    expect(await count(t.store, 'message_events', production)).toBe(1200);
    await writer.close();
  });

  it('resolves only after commit: the row is readable when received() resolves', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const msg = message(production);
    await writer.received(msg);
    const got = await t.store.messages.get(production, msg.id, { includeBody: true });
    expect(got?.raw).toEqual(msg.raw);
    expect(got?.header).toEqual(msg.header);
    expect(got?.size).toBe(msg.raw.byteLength);
    expect(got?.status).toBe('received');
    await writer.close();
    await expect(writer.received(message(production))).rejects.toMatchObject({ code: 'store.closed' });
  });

  it('honours storage modes: metadata keeps header and events without the body; none writes nothing', async () => {
    const production = `p-${randomUUID()}`;
    const meta = t.store.messages.writer({ storage: 'metadata' });
    const m1 = message(production);
    await meta.received(m1);
    await meta.event({ messageId: m1.id, ...scoped(production), item: 'router', event: 'queued' });
    const got = await t.store.messages.get(production, m1.id, { includeBody: true });
    expect(got?.raw).toBeNull();
    expect(got?.size).toBe(m1.raw.byteLength);
    expect(got?.header).toEqual(m1.header);
    expect(got?.status).toBe('queued');
    expect(got?.events.map((e) => e.event)).toEqual(['received', 'queued']);

    const none = t.store.messages.writer({ storage: 'none' });
    const m2 = message(production);
    await none.received(m2);
    await none.event({ messageId: m2.id, ...scoped(production), item: 'router', event: 'queued' });
    await none.flush();
    expect(none.metrics().batches).toBe(0);
    expect(await t.store.messages.get(production, m2.id)).toBeUndefined();
    expect(await count(t.store, 'messages', production)).toBe(1);
    await meta.close();
    await none.close();
  });

  it('keeps the trace in order and the latest status, across batches and within one batch', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const t0 = Date.parse('2024-03-01T10:00:00.000Z');
    // Across batches: each call awaited, so each event is its own commit (UPDATE path).
    const a = message(production, { receivedAt: t0 });
    await writer.received(a);
    await writer.event({ messageId: a.id, ...scoped(production), item: 'router', event: 'queued', at: t0 + 1 });
    await writer.event({ messageId: a.id, ...scoped(production), item: 'router', event: 'processing', at: t0 + 2 });
    await writer.event({ messageId: a.id, ...scoped(production), item: 'out', event: 'failed', at: t0 + 3, detail: { code: 'net.timeout', attempt: 1 } });
    await writer.event({ messageId: a.id, ...scoped(production), item: 'out', event: 'delivered', at: t0 + 4, detail: { attempt: 2 } });
    // Within one batch: not awaited in between, coalesced into the INSERT.
    const b = message(production, { receivedAt: t0 });
    await Promise.all([
      writer.received(b),
      writer.event({ messageId: b.id, ...scoped(production), item: 'router', event: 'queued', at: t0 + 1 }),
      writer.event({ messageId: b.id, ...scoped(production), item: 'router', event: 'discarded', at: t0 + 2, detail: { reason: 'filtered' } }),
    ]);
    const ga = await t.store.messages.get(production, a.id);
    expect(ga?.events.map((e) => [e.event, e.item])).toEqual([
      ['received', 'mllp-in'],
      ['queued', 'router'],
      ['processing', 'router'],
      ['failed', 'out'],
      ['delivered', 'out'],
    ]);
    expect(ga?.events[3].detail).toEqual({ code: 'net.timeout', attempt: 1 });
    expect(ga?.events.map((e) => e.at.getTime())).toEqual([t0, t0 + 1, t0 + 2, t0 + 3, t0 + 4]);
    expect(ga?.status).toBe('delivered');
    expect(ga?.finishedAt).toBeNull();
    const gb = await t.store.messages.get(production, b.id);
    expect(gb?.status).toBe('discarded');
    expect(gb?.finishedAt?.getTime()).toBe(t0 + 2);
    expect(gb?.events.map((e) => e.event)).toEqual(['received', 'queued', 'discarded']);
    // completed finishes without changing the status
    await writer.event({ messageId: a.id, ...scoped(production), item: 'out', event: 'completed', at: t0 + 5 });
    const ga2 = await t.store.messages.get(production, a.id);
    expect(ga2?.status).toBe('delivered');
    expect(ga2?.finishedAt?.getTime()).toBe(t0 + 5);
    expect(await t.store.messages.trace(production, a.id)).toHaveLength(6);
    await writer.close();
  });

  it('keeps per-message order with several batches in flight and nothing awaited in between', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer({ maxBatch: 40, maxDelayMs: 0, maxInFlight: 3 });
    const msgs = Array.from({ length: 300 }, () => message(production));
    const all: Promise<void>[] = [];
    const base = Date.now();
    for (const [i, m] of msgs.entries()) {
      all.push(writer.received({ ...m, receivedAt: base }));
      all.push(writer.event({ messageId: m.id, ...scoped(production), item: 'router', event: 'queued', at: base + 1 }));
      if (i % 2 === 0) all.push(writer.event({ messageId: m.id, ...scoped(production), item: 'out', event: 'failed', at: base + 2 }));
      all.push(writer.event({ messageId: m.id, ...scoped(production), item: 'out', event: i % 2 === 0 ? 'delivered' : 'processing', at: base + 3 }));
      if (i % 3 === 0) all.push(writer.event({ messageId: m.id, ...scoped(production), item: 'out', event: 'completed', at: base + 4 }));
    }
    await Promise.all(all);
    expect(writer.metrics().batches).toBeGreaterThan(1);
    for (const [i, m] of msgs.entries()) {
      const got = await t.store.messages.get(production, m.id);
      expect(got?.status).toBe(i % 2 === 0 ? 'delivered' : 'processing');
      expect(got?.finishedAt === null).toBe(i % 3 !== 0);
    }
    const open = await collect(t.store.messages.unfinished(production));
    expect(open).toHaveLength(msgs.filter((_, i) => i % 3 !== 0).length);
    await writer.close();
  });

  it('stores awkward values exactly (quotes, commas, braces, backslashes, NULLs, non-ASCII, empty body)', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const odd = ['a,b', 'q"uote', '{brace}', 'back\\slash', 'NULL', '', 'é→✓', ' lead', 'x\ny'];
    const msgs = odd.map((v, i) =>
      message(production, {
        controlId: v,
        patientId: i % 2 ? null : v,
        messageType: undefined,
        header: { v, nested: { arr: [v, null, 1] } },
        raw: i === 5 ? new Uint8Array(0) : new Uint8Array([0, 255, ...enc.encode(v)]),
        correlationId: v,
      }),
    );
    await Promise.all(msgs.map((m) => writer.received(m)));
    await Promise.all(
      msgs.map((m, i) => writer.event({ messageId: m.id, ...scoped(production), item: odd[i], event: 'queued', detail: { note: odd[i] } })),
    );
    for (const [i, m] of msgs.entries()) {
      const got = await t.store.messages.get(production, m.id, { includeBody: true });
      expect(got).toMatchObject({
        controlId: odd[i],
        patientId: i % 2 ? null : odd[i],
        messageType: null,
        correlationId: odd[i],
        header: m.header,
        raw: m.raw,
        size: m.raw.byteLength,
      });
      expect(got?.events[1]).toMatchObject({ item: odd[i], detail: { note: odd[i] } });
    }
    await writer.close();
  });

  it('is idempotent on message id', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const m = message(production);
    await writer.received(m);
    await writer.received({ ...m, item: 'other' });
    await Promise.all([writer.received(m), writer.received(m)]);
    expect(await count(t.store, 'messages', production)).toBe(1);
    expect(await count(t.store, 'message_events', production)).toBe(1);
    expect((await t.store.messages.get(production, m.id))?.item).toBe('mllp-in');
    await writer.close();
  });

  it('rejects only the bad entry of a batch and commits the others', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const good = Array.from({ length: 20 }, () => message(production));
    // jsonb refuses \u0000: a data error (SQLSTATE 22P05) for this one entry.
    const bad = message(production, { header: { oops: 'a\u0000b' } });
    const results = await Promise.allSettled([...good.slice(0, 10), bad, ...good.slice(10)].map((m) => writer.received(m)));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const reason: unknown = (rejected[0] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(StoreError);
    expect(reason).toMatchObject({ code: 'store.invalid', kind: 'user' });
    expect(JSON.parse(JSON.stringify(reason))).toMatchObject({ name: 'StoreError', code: 'store.invalid' });
    expect(await count(t.store, 'messages', production)).toBe(20);
    expect(writer.metrics().failedBatches).toBeGreaterThanOrEqual(1);
    await writer.close();
  });

  describe('search', () => {
    const production = `search-${randomUUID()}`;
    const other = `search-other-${randomUUID()}`;
    const base = Date.parse('2024-05-01T00:00:00.000Z');
    const all: ReceivedMessage[] = [];

    beforeAll(async () => {
      const writer = t.store.messages.writer();
      for (let i = 0; i < 130; i++) {
        // ties on received_at (3 messages per millisecond) exercise the id tie-break of the keyset
        all.push(
          message(i % 10 === 9 ? other : production, {
            receivedAt: base + Math.floor(i / 3),
            item: i % 2 === 0 ? 'mllp-in' : 'file-in',
            messageType: i % 3 === 0 ? 'ORU^R01' : 'ADT^A01',
            controlId: `CTL${i}`,
            patientId: `PAT${i % 7}`,
            raw: hl7(`CTL${i}`, `PAT${i % 7}`, i === 42 ? 'Müller 50%_off \\x' : `SMITH${i}`),
          }),
        );
      }
      await Promise.all(all.map((m) => writer.received(m)));
      const failed = all.filter((_, i) => i % 11 === 0);
      await Promise.all(failed.map((m) => writer.event({ messageId: m.id, ...scoped(m.production), item: 'out', event: 'failed' })));
      await writer.close();
    });

    const ids = (items: MessageSummary[]) => items.map((m) => m.id);
    const expected = (pred: (m: ReceivedMessage, i: number) => boolean) =>
      all
        .map((m, i) => ({ m, i }))
        .filter(({ m, i }) => pred(m, i))
        .sort((x, y) => Number(y.m.receivedAt) - Number(x.m.receivedAt) || (y.m.id < x.m.id ? -1 : y.m.id > x.m.id ? 1 : 0))
        .map(({ m }) => m.id);

    it('filters by production, item, status, time, type, control id and patient id', async () => {
      const inProd = (m: ReceivedMessage) => m.production === production;
      expect(ids((await t.store.messages.search(production, { limit: 500 })).items)).toEqual(expected(inProd));
      expect(ids((await t.store.messages.search(production, { item: 'file-in', limit: 500 })).items)).toEqual(
        expected((m) => inProd(m) && m.item === 'file-in'),
      );
      expect(ids((await t.store.messages.search(production, { status: 'failed', limit: 500 })).items)).toEqual(
        expected((m, i) => inProd(m) && i % 11 === 0),
      );
      expect(ids((await t.store.messages.search(production, { status: ['failed', 'received'], limit: 500 })).items)).toEqual(
        expected(inProd),
      );
      const from = new Date(base + 10);
      const to = new Date(base + 20);
      expect(ids((await t.store.messages.search(production, { from, to, limit: 500 })).items)).toEqual(
        expected((m) => inProd(m) && Number(m.receivedAt) >= base + 10 && Number(m.receivedAt) < base + 20),
      );
      expect(ids((await t.store.messages.search(production, { messageType: 'ORU^R01', limit: 500 })).items)).toEqual(
        expected((m) => inProd(m) && m.messageType === 'ORU^R01'),
      );
      const byControl = await t.store.messages.search(production, { controlId: 'CTL17' });
      expect(ids(byControl.items)).toEqual([all[17].id]);
      expect(byControl.items[0]).toMatchObject({ production, controlId: 'CTL17', patientId: 'PAT3', item: 'file-in', messageType: 'ADT^A01' });
      expect(byControl.items[0].receivedAt).toEqual(new Date(base + 5));
      expect(ids((await t.store.messages.search(other, { patientId: 'PAT3' })).items)).toEqual(
        expected((m) => m.production === other && m.patientId === 'PAT3'),
      );
    });

    it('finds body text, case-insensitively, with LIKE characters and non-ASCII taken literally', async () => {
      expect(ids((await t.store.messages.search(production, { text: 'smith77' })).items)).toEqual([all[77].id]);
      expect(ids((await t.store.messages.search(production, { text: 'müller' })).items)).toEqual([all[42].id]);
      // case folding covers ASCII only: Ü and ü are different bytes
      expect(ids((await t.store.messages.search(production, { text: 'MÜLLER' })).items)).toEqual([]);
      expect(ids((await t.store.messages.search(production, { text: 'Müller' })).items)).toEqual([all[42].id]);
      expect(ids((await t.store.messages.search(production, { text: '50%_off \\x' })).items)).toEqual([all[42].id]);
      expect(ids((await t.store.messages.search(production, { text: '5_%off' })).items)).toEqual([]);
      expect((await t.store.messages.search(production, { text: 'PID|1||PAT3^', limit: 500 })).items).toHaveLength(
        expected((m) => m.production === production && m.patientId === 'PAT3').length,
      );
      expect(bodyPattern('a%b_c\\d')).toBe('%a\\%b\\_c\\\\\\\\d%');
    });

    it('pages with a keyset cursor without duplicates or gaps', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.store.messages.search(production, { limit: 7, cursor });
        seen.push(...ids(page.items));
        cursor = page.nextCursor;
        pages++;
        expect(page.items.length).toBeLessThanOrEqual(7);
      } while (cursor);
      expect(seen).toEqual(expected((m) => m.production === production));
      expect(new Set(seen).size).toBe(seen.length);
      expect(pages).toBe(Math.ceil(seen.length / 7));
      // with another filter
      const a = await t.store.messages.search(production, { messageType: 'ADT^A01', limit: 5 });
      const b = await t.store.messages.search(production, { messageType: 'ADT^A01', limit: 5, cursor: a.nextCursor });
      expect([...ids(a.items), ...ids(b.items)]).toEqual(expected((m) => m.production === production && m.messageType === 'ADT^A01').slice(0, 10));
    });

    it('limits pages to 500 and refuses a bad cursor', async () => {
      expect((await t.store.messages.search(production, {})).items).toHaveLength(50);
      expect((await t.store.messages.search(production, { limit: 10_000 })).items.length).toBeLessThanOrEqual(500);
      await expect(t.store.messages.search(production, { cursor: 'nope' })).rejects.toMatchObject({ code: 'store.invalid', kind: 'user' });
    });
  });

  it('an expired message is finished with status expired: recovery never replays it', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const [kept, expired] = [message(production), message(production)];
    for (const m of [kept, expired]) await writer.received(m);
    await writer.event({ messageId: kept.id, ...scoped(production), item: 'out', event: 'queued' });
    await writer.event({ messageId: expired.id, ...scoped(production), item: 'out', event: 'queued' });
    await writer.event({ messageId: expired.id, ...scoped(production), item: 'out', event: 'expired', detail: { ttlMs: 50 } });
    const open = await collect(t.store.messages.unfinished(production));
    expect(open.map((m) => m.id)).toEqual([kept.id]);
    const got = await t.store.messages.get(production, expired.id);
    expect(got?.status).toBe('expired');
    expect(got?.finishedAt).not.toBeNull();
    await writer.close();
  });

  it('lists unfinished messages after a simulated crash', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const t0 = Date.parse('2024-06-01T00:00:00.000Z');
    const msgs = Array.from({ length: 7 }, (_, i) => message(production, { receivedAt: t0 + i }));
    for (const m of msgs) await writer.received(m);
    await writer.event({ messageId: msgs[0].id, ...scoped(production), item: 'router', event: 'queued' });
    await writer.event({ messageId: msgs[1].id, ...scoped(production), item: 'out', event: 'delivered' });
    await writer.event({ messageId: msgs[1].id, ...scoped(production), item: 'out', event: 'completed' });
    await writer.event({ messageId: msgs[2].id, ...scoped(production), item: 'router', event: 'discarded' });
    await writer.event({ messageId: msgs[3].id, ...scoped(production), item: 'out', event: 'failed', detail: { final: false } });
    await Promise.all([
      writer.event({ messageId: msgs[4].id, ...scoped(production), item: 'router', event: 'processing' }),
      writer.event({ messageId: msgs[4].id, ...scoped(production), item: 'router', event: 'completed' }),
    ]);
    // "crash": the writer is dropped without close(); a new process opens the same database.
    let reopened: Store = t.store;
    if (t.databaseUrl) reopened = await openStore({ databaseUrl: t.databaseUrl, migrate: false });
    try {
      const open = await collect(reopened.messages.unfinished(production, { pageSize: 2 }));
      expect(open.map((m) => m.id)).toEqual([msgs[0].id, msgs[3].id, msgs[5].id, msgs[6].id]);
      expect(open.map((m) => [m.lastEvent, m.lastItem])).toEqual([
        ['queued', 'router'],
        ['failed', 'out'],
        ['received', 'mllp-in'],
        ['received', 'mllp-in'],
      ]);
      expect(open[0].raw).toEqual(msgs[0].raw);
      expect(open[0].header).toEqual(msgs[0].header);
      expect(open[0].item).toBe('mllp-in');
      expect(open[0].receivedAt).toEqual(new Date(t0));
      expect(open[1].status).toBe('failed');
      expect(await collect(reopened.messages.unfinished(`none-${randomUUID()}`))).toEqual([]);
    } finally {
      if (reopened !== t.store) await reopened.close();
    }
  });

  it('a refused message is finished: status refused, never handed back for recovery (same batch or a later one)', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const inBatch = message(production, { contentType: 'application/octet-stream', raw: enc.encode('not HL7') });
    const later = message(production, { contentType: 'application/octet-stream', raw: enc.encode('cut off') });
    // The first: received and refused in one batch; the second: refused after its row committed.
    await Promise.all([writer.received(inBatch), writer.event({ messageId: inBatch.id, ...scoped(production), item: 'mllp-in', event: 'refused', detail: { reason: 'not_hl7' } })]);
    await writer.received(later);
    await writer.event({ messageId: later.id, ...scoped(production), item: 'mllp-in', event: 'refused', detail: { reason: 'partial_frame' } });
    await writer.close();
    expect(await collect(t.store.messages.unfinished(production))).toEqual([]);
    const found = await t.store.messages.search(production, { status: 'refused' });
    expect(ids0(found.items).sort()).toEqual([inBatch.id, later.id].sort());
    expect((await t.store.messages.get(production, later.id))?.status).toBe('refused');
  });

  it('resends a message as a new one linked to the original', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const orig = message(production, { correlationId: 'corr-1' });
    await writer.received(orig);
    const res = await t.store.messages.resend(production, orig.id, { toItem: 'out', actor: 'alice' });
    expect(res).toMatchObject({ parentId: orig.id, production, item: 'out', header: orig.header, correlationId: 'corr-1', controlId: orig.controlId });
    expect(res.raw).toEqual(orig.raw);
    const copy = await t.store.messages.get(production, res.newId, { includeBody: true });
    expect(copy).toMatchObject({ parentId: orig.id, item: 'out', status: 'received', raw: orig.raw });
    expect(copy?.events.map((e) => e.event)).toEqual(['received']);
    expect(copy?.events[0].detail).toMatchObject({ resentFrom: orig.id, actor: 'alice' });
    const o = await t.store.messages.get(production, orig.id);
    expect(o?.resends).toEqual([res.newId]);
    expect(o?.events.map((e) => e.event)).toEqual(['received', 'resent']);
    expect(o?.events[1].detail).toMatchObject({ newId: res.newId, toItem: 'out', actor: 'alice' });
    const edited = await t.store.messages.resend(production, orig.id, { toItem: 'out', raw: enc.encode('MSH|edited') });
    expect((await t.store.messages.get(production, edited.newId, { includeBody: true }))?.raw).toEqual(enc.encode('MSH|edited'));
    expect((await t.store.messages.get(production, orig.id))?.resends).toHaveLength(2);
    // the copy is unfinished until the engine completes it
    expect((await collect(t.store.messages.unfinished(production))).map((m) => m.id)).toContain(res.newId);

    const metaWriter = t.store.messages.writer({ storage: 'metadata' });
    const noBody = message(production);
    await metaWriter.received(noBody);
    await expect(t.store.messages.resend(production, noBody.id, { toItem: 'out' })).rejects.toMatchObject({ code: 'store.no_body' });
    await expect(t.store.messages.resend(production, randomUUID(), { toItem: 'out' })).rejects.toMatchObject({ code: 'store.not_found', kind: 'user' });
    await writer.close();
    await metaWriter.close();
  });

  it('keeps two projects whose productions share a name apart: get, trace, search, text, unfinished, resend, purge', async () => {
    const name = `adt-feed-${randomUUID()}`;
    const a = { production: name, projectId: `A-${randomUUID()}`, workspaceId: 'ws-a' };
    const b = { production: name, projectId: `B-${randomUUID()}`, workspaceId: 'ws-b' };
    const writer = t.store.messages.writer();
    const old = Date.parse('2024-01-01T00:00:00.000Z');
    const ma = message(name, { ...a, patientId: 'SAME-PID', receivedAt: old, raw: hl7('CA', 'SAME-PID', 'ALICEONLY') });
    const mb = message(name, { ...b, patientId: 'SAME-PID', receivedAt: old, raw: hl7('CB', 'SAME-PID', 'BOBONLY') });
    await Promise.all([writer.received(ma), writer.received(mb)]);
    await writer.event({ messageId: ma.id, ...a, item: 'router', event: 'queued' });
    await writer.close();
    // by id: the other project's message does not exist for this one
    expect(await t.store.messages.get(a.projectId, mb.id, { includeBody: true })).toBeUndefined();
    expect(await t.store.messages.trace(a.projectId, mb.id)).toEqual([]);
    expect((await t.store.messages.get(a.projectId, ma.id))?.projectId).toBe(a.projectId);
    // by patient id and by body text
    expect(ids0((await t.store.messages.search(a.projectId, { patientId: 'SAME-PID' })).items)).toEqual([ma.id]);
    expect(ids0((await t.store.messages.search(b.projectId, { patientId: 'SAME-PID' })).items)).toEqual([mb.id]);
    expect((await t.store.messages.search(a.projectId, { text: 'BOBONLY' })).items).toEqual([]);
    expect(ids0((await t.store.messages.search(b.projectId, { text: 'BOBONLY' })).items)).toEqual([mb.id]);
    expect(ids0((await t.store.messages.search(a.projectId, { status: ['received', 'queued'] })).items)).toEqual([ma.id]);
    // recovery reads only the project's open messages
    expect((await collect(t.store.messages.unfinished(a.projectId))).map((m) => m.id)).toEqual([ma.id]);
    // resend of another project's message: not found
    await expect(t.store.messages.resend(a.projectId, mb.id, { toItem: 'out' })).rejects.toMatchObject({ code: 'store.not_found' });
    // retention purges only its own project
    expect(await t.store.messages.purge({ projectId: a.projectId, olderThan: new Date(old + 1) })).toBe(1);
    expect(await t.store.messages.get(b.projectId, mb.id)).toBeDefined();
    expect(await count(t.store, 'message_events', b.projectId)).toBe(1);
  });

  it('purges old messages and their events in batches', async () => {
    const production = `p-${randomUUID()}`;
    const writer = t.store.messages.writer();
    const cutoff = Date.parse('2024-07-01T00:00:00.000Z');
    const old = Array.from({ length: 23 }, (_, i) => message(production, { receivedAt: cutoff - 1000 - i }));
    const fresh = Array.from({ length: 5 }, (_, i) => message(production, { receivedAt: cutoff + i }));
    const elsewhere = message(`p-${randomUUID()}`, { receivedAt: cutoff - 5000 });
    await Promise.all([...old, ...fresh, elsewhere].map((m) => writer.received(m)));
    await Promise.all(old.map((m) => writer.event({ messageId: m.id, ...scoped(production), item: 'out', event: 'delivered' })));
    await writer.close();
    const n = await t.store.messages.purge({ projectId: production, olderThan: new Date(cutoff), batchSize: 5 });
    expect(n).toBe(23);
    expect(await count(t.store, 'messages', production)).toBe(5);
    expect(await count(t.store, 'message_events', production)).toBe(5);
    expect(await count(t.store, 'message_status', production)).toBe(5);
    expect(await t.store.messages.get(elsewhere.projectId, elsewhere.id)).toBeDefined();
    expect(await t.store.messages.purge({ projectId: production, olderThan: new Date(cutoff) })).toBe(0);
  });
});
