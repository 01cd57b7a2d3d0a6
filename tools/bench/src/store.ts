/**
 * Message store benchmark.
 *
 * 1. Writer throughput on PostgreSQL (synchronous_commit on): one message = `received()` + two
 *    events (`processing`, `delivered`), each awaited in turn by one of P concurrent producers —
 *    the way a service stores before it ACKs, then the hosts record the hand-offs. Beside it,
 *    in the same run and on the same schema:
 *      - naive: the same statements one per commit (node-postgres pool of 10, same producers);
 *      - raw batch: pre-built multi-row INSERTs of 500 messages + 1,000 events per transaction,
 *        sequential, no writer — the floor our writer's batching is measured against.
 *    Then the writer on PGlite (on disk, then in memory).
 * 2. Search on 1,000,000 messages: seeded with INSERT … SELECT generate_series into a fresh
 *    database (secondary indexes built after the load), then 200 random look-ups by control id
 *    and by patient id through `store.messages.search`, p50/p95 (target p95 ≤ 50 ms).
 *
 * Every database is created fresh (`hie_bench_<random>`) and dropped at the end.
 * Run: `npx tsx tools/bench/src/store.ts` (env: BENCH_MESSAGES, BENCH_PRODUCERS, BENCH_SEED_ROWS,
 * BENCH_ADMIN_URL).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { timeLookups, type SearchFilter } from './search-lookups';
import { openStore, openTestStore, type ReceivedMessage, type Store, type TestStore, type WriterMetrics, type WriterOptions } from '@hie/store';

const N = Number(process.env['BENCH_MESSAGES'] ?? 30_000);
const PRODUCERS = Number(process.env['BENCH_PRODUCERS'] ?? 200);
const SEED_ROWS = Number(process.env['BENCH_SEED_ROWS'] ?? 1_000_000);
const ADMIN_URL = process.env['BENCH_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LOOKUPS = 200;

const enc = new TextEncoder();

function adt(i: number): { raw: Uint8Array; controlId: string; patientId: string } {
  const controlId = `MSG${String(i).padStart(9, '0')}`;
  const patientId = `PAT${(i * 7919) % 250_000}`;
  const ts = '20240501120000';
  const text = [
    `MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|${ts}||ADT^A01^ADT_A01|${controlId}|P|2.5.1|||AL|NE|GBR|UNICODE UTF-8`,
    `EVN|A01|${ts}|||JSMITH^Smith^John^^^Dr`,
    `PID|1||${patientId}^^^ROYAL^MR~9434765919^^^NHS^NH||SMITH^JOHN^PAUL^^MR||19800101|M|||1 HIGH STREET^^LEEDS^^LS1 1AA^GBR||01132000000|||M|C|||||A`,
    `PD1|||LEEDS GP^^Y12345|G1234567^JONES^ALAN`,
    `PV1|1|I|WARD7^BED3^ROYAL||||C1234^WHO^JAMES^^^DR|||MED|||||||C1234^WHO^JAMES^^^DR|IP|V${i}|||||||||||||||||||||||ROYAL|||||${ts}`,
    `NK1|1|SMITH^JANE|SPO^Spouse|1 HIGH STREET^^LEEDS^^LS1 1AA^GBR|01132000001`,
    `AL1|1|DA|PENICILLIN|SV|RASH`,
  ].join('\r');
  return { raw: enc.encode(text + '\r'), controlId, patientId };
}

function makeMessages(n: number, production: string): ReceivedMessage[] {
  return Array.from({ length: n }, (_, i) => {
    const { raw, controlId, patientId } = adt(i);
    return {
      id: randomUUID(),
      production,
      projectId: production,
      workspaceId: 'bench',
      item: 'mllp-in',
      receivedAt: Date.now(),
      messageType: 'ADT^A01',
      controlId,
      patientId,
      contentType: 'application/hl7-v2',
      header: { source: 'PAS', sourceAddress: '10.1.2.3:40000', priority: 5, schemaVersion: 1 },
      raw,
    };
  });
}

/** P producers; each takes the next message, awaits received(), then its two events. */
async function drive(
  msgs: ReceivedMessage[],
  producers: number,
  ops: {
    received: (m: ReceivedMessage) => Promise<void>;
    event: (m: ReceivedMessage, event: 'processing' | 'delivered', item: string) => Promise<void>;
  },
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: producers }, async () => {
      for (;;) {
        const i = next++;
        if (i >= msgs.length) return;
        const m = msgs[i];
        await ops.received(m);
        await ops.event(m, 'processing', 'router');
        await ops.event(m, 'delivered', 'mllp-out');
      }
    }),
  );
  return (msgs.length * 1000) / (performance.now() - t0);
}

async function writerRun(
  store: Store,
  n: number,
  producers: number,
  opts: WriterOptions = {},
): Promise<{ rate: number; metrics: WriterMetrics; ms: number }> {
  const production = `bench-${randomUUID().slice(0, 8)}`;
  const msgs = makeMessages(n, production);
  const w = store.messages.writer(opts);
  const rate = await drive(msgs, producers, {
    received: (m) => w.received(m),
    event: (m, event, item) => w.event({ messageId: m.id, production, projectId: production, workspaceId: 'bench', item, event }),
  });
  await w.close();
  return { rate, metrics: w.metrics(), ms: (n * 1000) / rate };
}

/** The same statements as the writer, one per autocommit, over a pool of 10 connections. */
async function naiveRun(url: string, n: number, producers: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const production = `naive-${randomUUID().slice(0, 8)}`;
  const msgs = makeMessages(n, production);
  try {
    return await drive(msgs, producers, {
      async received(m) {
        await pool.query(
          `WITH m AS (INSERT INTO messages (id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id, production, item, received_at),
           s AS (INSERT INTO message_status (message_id, production, received_at, status) SELECT id, production, received_at, 'received' FROM m)
           INSERT INTO message_events (message_id, production, item, event, at) SELECT id, production, item, 'received', received_at FROM m`,
          [m.id, m.production, m.item, new Date(m.receivedAt), m.messageType, m.controlId, m.patientId, m.contentType, JSON.stringify(m.header), m.raw, m.raw.byteLength],
        );
      },
      async event(m, event, item) {
        await pool.query(
          `WITH e AS (INSERT INTO message_events (message_id, production, item, event, at) VALUES ($1, $2, $3, $4, now()))
           UPDATE message_status SET status = $4 WHERE message_id = $1`,
          [m.id, m.production, item, event],
        );
      },
    });
  } finally {
    await pool.end();
  }
}

/** Pre-built batches: 500 messages + their status rows + 1,500 events, one transaction each, sequential. */
async function rawBatchRun(url: string, n: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const production = `raw-${randomUUID().slice(0, 8)}`;
  const msgs = makeMessages(n, production);
  const B = 500;
  try {
    const t0 = performance.now();
    for (let off = 0; off < msgs.length; off += B) {
      const batch = msgs.slice(off, off + B);
      const mParams: unknown[] = [];
      const mValues = batch.map((m, j) => {
        mParams.push(m.id, m.production, m.item, new Date(m.receivedAt), m.messageType, m.controlId, m.patientId, m.contentType, JSON.stringify(m.header), m.raw, m.raw.byteLength);
        const b = j * 11;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}, $${b + 10}, $${b + 11})`;
      });
      const eParams: unknown[] = [];
      const eValues: string[] = [];
      for (const m of batch) {
        for (const [event, item] of [['received', 'mllp-in'], ['processing', 'router'], ['delivered', 'mllp-out']]) {
          const b = eParams.length;
          eParams.push(m.id, m.production, item, event);
          eValues.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, now())`);
        }
      }
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO messages (id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size) VALUES ${mValues.join(', ')}`,
        mParams,
      );
      await client.query(
        `INSERT INTO message_status (message_id, production, received_at, status) SELECT id, $2, now(), 'delivered' FROM unnest($1::text[]) AS id`,
        [batch.map((m) => m.id), production],
      );
      await client.query(`INSERT INTO message_events (message_id, production, item, event, at) VALUES ${eValues.join(', ')}`, eParams);
      await client.query('COMMIT');
    }
    return (msgs.length * 1000) / (performance.now() - t0);
  } finally {
    await client.end();
  }
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-GB');
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function scalar(store: Store, query: ReturnType<typeof sql>): Promise<string> {
  const res: unknown = await store.db.execute(query);
  const rows = (res as { rows: Record<string, unknown>[] }).rows;
  return String(Object.values(rows[0])[0]);
}

async function seedAndSearch(): Promise<void> {
  const t: TestStore = await openTestStore('postgres', { adminUrl: ADMIN_URL, prefix: 'hie_bench' });
  const store = t.store;
  try {
    console.log(`\n── search on ${fmt(SEED_ROWS)} messages (PostgreSQL) ──`);
    // Load first, index after: the secondary indexes are rebuilt in one pass each.
    const defs = (await store.db.execute(
      sql`SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('messages', 'message_status', 'message_events', 'message_text') AND indexname NOT LIKE '%_pkey'`,
    )) as unknown as { rows: { indexname: string; indexdef: string }[] };
    for (const d of defs.rows) await store.db.execute(sql.raw(`DROP INDEX ${d.indexname}`));
    let t0 = performance.now();
    await store.db.execute(sql.raw(`SET maintenance_work_mem = '256MB'`));
    await store.db.execute(
      sql.raw(`
      INSERT INTO messages (id, project_id, workspace_id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size)
      SELECT md5(i::text)::uuid::text, 'prod-' || (i % 5), 'bench', 'prod-' || (i % 5), 'mllp-in',
             timestamptz '2024-01-01' + (i * interval '2.592 second'),
             (ARRAY['ADT^A01','ADT^A08','ORU^R01','ORM^O01'])[1 + i % 4],
             'MSG' || lpad(i::text, 9, '0'), 'PAT' || ((i::bigint * 7919) % 250000),
             'application/hl7-v2', '{"source":"PAS","priority":5}'::jsonb, b.raw, length(b.raw)
      FROM generate_series(1, ${SEED_ROWS}) AS i,
           LATERAL (SELECT convert_to(
             'MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|20240101||ADT^A01|MSG' || lpad(i::text, 9, '0') || '|P|2.5.1' || chr(13) ||
             'PID|1||PAT' || ((i::bigint * 7919) % 250000) || '^^^ROYAL^MR||SMITH' || (i % 9973) || '^JOHN||19800101|M' || chr(13) ||
             'PV1|1|I|WARD' || (i % 40) || '^BED3^ROYAL' || chr(13), 'UTF8') AS raw) b`),
    );
    const loadMs = performance.now() - t0;
    t0 = performance.now();
    await store.db.execute(
      sql.raw(`INSERT INTO message_events (message_id, project_id, workspace_id, production, item, event, at)
               SELECT id, project_id, workspace_id, production, item, 'received', received_at FROM messages`),
    );
    await store.db.execute(
      sql.raw(`INSERT INTO message_status (message_id, project_id, workspace_id, production, received_at, status, finished_at)
               SELECT id, project_id, workspace_id, production, received_at, CASE WHEN right(id, 2) = '00' THEN 'failed' ELSE 'delivered' END, received_at FROM messages`),
    );
    // The text-search rows (the engine writes them off the ACK path).
    await store.db.execute(sql.raw(`INSERT INTO message_text (message_id, project_id, workspace_id, production, body, received_at) SELECT id, project_id, workspace_id, production, encode(raw, 'escape'), received_at FROM messages`));
    const eventsMs = performance.now() - t0;
    t0 = performance.now();
    // A partitioned table's index reads `ON ONLY <parent>` in pg_indexes: without ONLY it covers every partition.
    for (const d of defs.rows) await store.db.execute(sql.raw(d.indexdef.replace(' ON ONLY ', ' ON ')));
    await store.db.execute(sql.raw('VACUUM ANALYZE messages'));
    await store.db.execute(sql.raw('VACUUM ANALYZE message_events'));
    await store.db.execute(sql.raw('VACUUM ANALYZE message_status'));
    await store.db.execute(sql.raw('VACUUM ANALYZE message_text'));
    const indexMs = performance.now() - t0;
    const size = await scalar(store, sql`SELECT pg_size_pretty(pg_total_relation_size('messages'))`);
    console.log(
      `seeded: messages ${ms(loadMs)} (${fmt((SEED_ROWS * 1000) / loadMs)} rows/s), events ${ms(eventsMs)}, ${defs.rows.length} indexes + analyze ${ms(indexMs)}; messages with indexes and TOAST ${size}`,
    );

    // Every search is scoped by project (here the seeded `prod-N`, as the message viewer does).
    const lookup = (label: string, make: (i: number) => SearchFilter) => timeLookups(store, { label, width: 34, rows: SEED_ROWS, lookups: LOOKUPS, make });
    await lookup('search by control id', (i) => ({ controlId: `MSG${String(i).padStart(9, '0')}` }));
    await lookup('search by patient id', (i) => ({ patientId: `PAT${(i * 7919) % 250_000}` }));
    await lookup('project, first page of 50', () => ({}));
    await lookup('project + type + day window', (i) => ({
      messageType: 'ORU^R01',
      from: new Date(Date.parse('2024-01-01') + (i % 29) * 86_400_000),
      to: new Date(Date.parse('2024-01-01') + ((i % 29) + 1) * 86_400_000),
    }));
    await lookup('project + status failed', () => ({ status: 'failed' }));
    const page1 = await store.messages.search('prod-1', { limit: 50 });
    let s = performance.now();
    await store.messages.search('prod-1', { limit: 50, cursor: page1.nextCursor });
    console.log(`${'next page by cursor'.padEnd(34)} ${ms(performance.now() - s)}`);
    s = performance.now();
    const txt = await store.messages.search('prod-1', { text: 'SMITH4242^JOHN', limit: 50 });
    console.log(`${'text search (trigram), 1 query'.padEnd(34)} ${ms(performance.now() - s)} (${txt.items.length} hits)`);
    s = performance.now();
    const detail = await store.messages.get('prod-1', page1.items[3].id, { includeBody: true });
    console.log(`${'get with trace and body'.padEnd(34)} ${ms(performance.now() - s)} (${detail?.events.length} events)`);
  } finally {
    await t.cleanup();
  }
}

async function main(): Promise<void> {
  console.log(`store bench: ${fmt(N)} messages (received + 2 events each), ${PRODUCERS} concurrent producers`);
  const t = await openTestStore('postgres', { adminUrl: ADMIN_URL, prefix: 'hie_bench' });
  const url = t.databaseUrl!;
  let writerPg: number;
  try {
    const sc = await scalar(t.store, sql`SHOW synchronous_commit`);
    console.log(`\n── PostgreSQL (synchronous_commit = ${sc}) ──`);
    await writerRun(t.store, 2000, PRODUCERS); // warm-up
    const w = await writerRun(t.store, N, PRODUCERS);
    writerPg = w.rate;
    const naive = await naiveRun(url, Math.min(N, 6000), PRODUCERS);
    const raw = await rawBatchRun(url, N);
    console.log(`naive: 1 statement per commit     ${fmt(naive).padStart(8)} msg/s`);
    console.log(`raw multi-row INSERT, no writer   ${fmt(raw).padStart(8)} msg/s`);
    console.log(
      `our writer (group commit)         ${fmt(w.rate).padStart(8)} msg/s  (${fmt(w.rate * 3)} entries/s; ${w.metrics.batches} batches, avg ${w.metrics.avgBatchSize.toFixed(1)} entries, mean flush ${(w.metrics.totalFlushMs / w.metrics.batches).toFixed(1)} ms, max ${w.metrics.maxFlushMs.toFixed(1)} ms)`,
    );
    const sweep: string[] = [];
    for (const p of [50, 1000]) {
      const r = await writerRun(t.store, Math.min(N, p * 60), p);
      sweep.push(`${p} producers ${fmt(r.rate)} msg/s (avg batch ${r.metrics.avgBatchSize.toFixed(0)})`);
    }
    console.log(`writer at other concurrency:      ${sweep.join('; ')}`);
    console.log(
      `ratios: writer/naive ×${(w.rate / naive).toFixed(1)}, writer/raw batch ×${(w.rate / raw).toFixed(2)}; target ≥ 5,000 msg/s: ${w.rate >= 5000 ? 'OK' : 'MISSED'}`,
    );
  } finally {
    await t.cleanup();
  }

  console.log(`\n── PGlite ──`);
  const dir = mkdtempSync(join(tmpdir(), 'hie-bench-pglite-'));
  try {
    for (const [label, opts] of [
      ['on disk', { dataDir: dir }],
      ['in memory', { memory: true }],
    ] as const) {
      const store = await openStore(opts);
      try {
        await writerRun(store, 1000, PRODUCERS);
        const w = await writerRun(store, Math.min(N, 15_000), PRODUCERS);
        console.log(
          `PGlite ${label.padEnd(10)} writer ${fmt(w.rate).padStart(8)} msg/s  (${w.metrics.batches} batches, avg ${w.metrics.avgBatchSize.toFixed(1)} entries; ×${(w.rate / writerPg).toFixed(2)} of PostgreSQL); target ≥ 1,500 msg/s: ${w.rate >= 1500 ? 'OK' : 'MISSED'}`,
        );
      } finally {
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (SEED_ROWS > 0) await seedAndSearch();
}

await main();
