/**
 * Retention at scale (issue 15, goal 5), on PostgreSQL with the day partitions of migration 0005.
 *
 * 1. Purge 1,000,000 messages (each with its status row, body-text row and two events) two ways in
 *    the same database and run: the batched DELETE of `MessageStore.purge` (5,000 messages per
 *    statement, what retention did before) on one day of one project, then `MessageStore.retain`,
 *    which drops the other day's partitions whole. Prints both times and the ratio.
 * 2. Search over 10,000,000 messages spread over 30 day partitions (5 projects): 200 random
 *    look-ups each by control id, by patient id and by a one-hour time window through
 *    `store.messages.search`, p50/p95 (target p95 ≤ 50 ms).
 *
 * Rows are generated with INSERT … SELECT generate_series (secondary indexes built after the
 * load) in fresh databases `hie_bench_<random>`, dropped at the end.
 * Run: `npm run bench -- retention` (env: BENCH_PURGE_ROWS, BENCH_SEARCH_ROWS, BENCH_ADMIN_URL).
 */
import { sql } from 'drizzle-orm';
import { openTestStore, type Store } from '@hie/store';
import { timeLookups, type SearchFilter } from './search-lookups';

const PURGE_ROWS = Number(process.env['BENCH_PURGE_ROWS'] ?? 1_000_000);
const SEARCH_ROWS = Number(process.env['BENCH_SEARCH_ROWS'] ?? 10_000_000);
const SEARCH_DAYS = 30;
const ADMIN_URL = process.env['BENCH_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LOOKUPS = 200;
const DAY = 86_400_000;

const fmt = (x: number) => Math.round(x).toLocaleString('en-GB');
const secs = (x: number) => `${(x / 1000).toFixed(2)} s`;
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

const exec = (store: Store, text: string) => store.db.execute(sql.raw(text));

/**
 * Drops the secondary indexes of the four per-message tables (on the partitioned parents, so on
 * every partition) and returns a function that builds them again, after a bulk load.
 */
async function withoutIndexes(store: Store): Promise<() => Promise<void>> {
  const defs = (await store.db.execute(
    sql`SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('messages', 'message_status', 'message_events', 'message_text') AND indexname NOT LIKE '%_pkey'`,
  )) as unknown as { rows: { indexname: string; indexdef: string }[] };
  for (const d of defs.rows) await exec(store, `DROP INDEX ${d.indexname}`);
  return async () => {
    await exec(store, `SET maintenance_work_mem = '256MB'`);
    // pg_indexes gives a partitioned index as `ON ONLY <parent>`: without ONLY it is built on every partition.
    for (const d of defs.rows) await exec(store, d.indexdef.replace(' ON ONLY ', ' ON '));
    for (const table of ['messages', 'message_status', 'message_events', 'message_text']) await exec(store, `VACUUM ANALYZE ${table}`);
  };
}

/**
 * `n` messages of `project`, received evenly over [from, from + spanMs), ids and control ids from
 * `offset`, with their status rows; with `full`, also two events each and the body-text rows.
 */
async function seed(store: Store, o: { project: string | null; n: number; offset: number; from: number; spanMs: number; full: boolean }): Promise<void> {
  const project = o.project === null ? `'prod-' || (i % 5)` : `'${o.project}'`;
  const step = o.spanMs / o.n / 1000;
  const messages = `INSERT INTO messages (id, project_id, workspace_id, production, item, received_at, message_type, control_id, patient_id, content_type, header, raw, size)
     SELECT md5(i::text)::uuid::text, ${project}, 'bench', ${project}, 'mllp-in',
            timestamptz '${new Date(o.from).toISOString()}' + ((i - ${o.offset}) * interval '${step} second'),
            (ARRAY['ADT^A01','ADT^A08','ORU^R01','ORM^O01'])[1 + i % 4],
            'MSG' || lpad(i::text, 9, '0'), 'PAT' || ((i::bigint * 7919) % 2500000),
            'application/hl7-v2', '{"source":"PAS"}'::jsonb,
            ${o.full ? `convert_to('MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|20240101||ADT^A01|MSG' || i || '|P|2.5.1' || chr(13) || 'PID|1||PAT' || i || '^^^ROYAL^MR||SMITH^JOHN' || chr(13), 'UTF8')` : 'NULL'}, 120
     FROM generate_series(${o.offset + 1}, ${o.offset + o.n}) AS i
     RETURNING id, project_id, workspace_id, production, item, received_at, raw`;
  // One statement: the messages, then their rows in the other tables from what it returned.
  await exec(
    store,
    `WITH m AS (${messages}), s AS (
       INSERT INTO message_status (message_id, project_id, workspace_id, production, received_at, status, finished_at)
       SELECT id, project_id, workspace_id, production, received_at, 'delivered', received_at FROM m
     )${
       o.full
         ? `, e AS (
       INSERT INTO message_events (message_id, project_id, workspace_id, production, item, event, at)
       SELECT id, project_id, workspace_id, production, item, e.event, received_at + e.later
       FROM m, (VALUES ('received', interval '0'), ('delivered', interval '20 milliseconds')) e(event, later)
     )
     INSERT INTO message_text (message_id, project_id, workspace_id, production, body, received_at)
     SELECT id, project_id, workspace_id, production, encode(raw, 'escape'), received_at FROM m`
         : ` SELECT count(*) FROM m`
     }`,
  );
}

async function count(store: Store, project: string): Promise<number> {
  const res = (await store.db.execute(sql`SELECT count(*)::int AS n FROM messages WHERE project_id = ${project}`)) as unknown as { rows: { n: number }[] };
  return Number(res.rows[0].n);
}

async function purgeBench(): Promise<void> {
  const t = await openTestStore('postgres', { adminUrl: ADMIN_URL, prefix: 'hie_bench' });
  const store = t.store;
  try {
    console.log(`── purge ${fmt(PURGE_ROWS)} messages (+ status, text, 2 events each): batched DELETE vs partition drop ──`);
    // Two past days, one project each: day 1 purged by DELETE (the baseline), day 2 by dropping it.
    const day1 = Date.parse(`${utcDay(Date.now() - 40 * DAY)}T00:00:00Z`);
    const day2 = day1 + DAY;
    await exec(store, `SELECT hie_ensure_day_partitions('${utcDay(day1)}', '${utcDay(day2)}')`);
    const rebuild = await withoutIndexes(store);
    let t0 = performance.now();
    await seed(store, { project: 'by-delete', n: PURGE_ROWS, offset: 0, from: day1, spanMs: DAY - 1000, full: true });
    await seed(store, { project: 'by-drop', n: PURGE_ROWS, offset: PURGE_ROWS, from: day2, spanMs: DAY - 1000, full: true });
    await rebuild();
    console.log(`seeded 2 × ${fmt(PURGE_ROWS)} messages with indexes in ${secs(performance.now() - t0)}`);

    t0 = performance.now();
    const deleted = await store.messages.purge({ projectId: 'by-delete', olderThan: new Date(day2) });
    const deleteMs = performance.now() - t0;
    t0 = performance.now();
    const r = await store.messages.retain([
      { projectId: 'by-delete', olderThan: new Date(day2) },
      { projectId: 'by-drop', olderThan: new Date(day2 + DAY) },
    ]);
    const dropMs = performance.now() - t0;
    const left = (await count(store, 'by-delete')) + (await count(store, 'by-drop'));
    console.log(`batched DELETE (purge, 5,000/statement)  ${secs(deleteMs).padStart(10)}  ${fmt(deleted)} messages  ${fmt((deleted * 1000) / deleteMs)} msg/s`);
    console.log(
      `partition drop (retain)                  ${secs(dropMs).padStart(10)}  ${fmt(r.droppedMessages)} messages, days ${r.droppedDays.join(', ')} (+${fmt(r.deletedMessages)} deleted)  ${fmt((r.droppedMessages * 1000) / dropMs)} msg/s`,
    );
    console.log(`ratio: drop is ×${fmt(deleteMs / dropMs)} faster than DELETE; messages left ${left}`);
  } finally {
    await t.cleanup();
  }
}

async function searchBench(): Promise<void> {
  const t = await openTestStore('postgres', { adminUrl: ADMIN_URL, prefix: 'hie_bench' });
  const store = t.store;
  try {
    console.log(`\n── search over ${fmt(SEARCH_ROWS)} messages in ${SEARCH_DAYS} day partitions ──`);
    const first = Date.parse(`${utcDay(Date.now() - (SEARCH_DAYS + 5) * DAY)}T00:00:00Z`);
    await exec(store, `SELECT hie_ensure_day_partitions('${utcDay(first)}', '${utcDay(first + (SEARCH_DAYS - 1) * DAY)}')`);
    const rebuild = await withoutIndexes(store);
    let t0 = performance.now();
    const chunk = 2_000_000; // one INSERT per chunk: bounded transactions
    for (let off = 0; off < SEARCH_ROWS; off += chunk) {
      const n = Math.min(chunk, SEARCH_ROWS - off);
      const span = SEARCH_DAYS * DAY;
      await seed(store, { project: null, n, offset: off, from: first + (off / SEARCH_ROWS) * span, spanMs: (n / SEARCH_ROWS) * span, full: false });
    }
    const loadMs = performance.now() - t0;
    t0 = performance.now();
    await rebuild();
    const size = (await store.db.execute(
      sql`SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS s FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent IN ('messages'::regclass, 'message_status'::regclass)`,
    )) as unknown as { rows: { s: string }[] };
    console.log(`seeded in ${secs(loadMs)} (${fmt((SEARCH_ROWS * 1000) / loadMs)} rows/s), indexes + analyze ${secs(performance.now() - t0)}; messages + status ${size.rows[0].s}`);

    const lookup = (label: string, make: (i: number) => SearchFilter) => timeLookups(store, { label, width: 30, rows: SEARCH_ROWS, lookups: LOOKUPS, make });
    await lookup('by control id', (i) => ({ controlId: `MSG${String(i).padStart(9, '0')}` }));
    await lookup('by patient id', (i) => ({ patientId: `PAT${(i * 7919) % 2_500_000}` }));
    await lookup('by time range (1 hour)', (i) => {
      const from = first + ((i * 7) % (SEARCH_DAYS * 24)) * 3_600_000;
      return { from: new Date(from), to: new Date(from + 3_600_000) };
    });
  } finally {
    await t.cleanup();
  }
}

if (PURGE_ROWS > 0) await purgeBench();
if (SEARCH_ROWS > 0) await searchBench();
