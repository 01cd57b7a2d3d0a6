/**
 * Queue benchmark: put+take throughput of each `ItemQueue` type, beside a plain-array baseline
 * measured in the same run, on the synchronous (tryPut/tryTake) and the async (put/take) path.
 *
 * One "op" is one entry passing through: one put plus one take. Each round puts a batch of
 * BATCH entries then takes them back, so the queue really holds entries (depth 0…BATCH), not
 * just one. Warm-up rounds first, then the median of ROUNDS rounds.
 *
 * Run: `npx tsx tools/bench/src/queues.ts` (optional env: BENCH_OPS, BENCH_ROUNDS).
 */
import { ItemQueue, type QueueType } from '@hie/queues';

const OPS = Number(process.env['BENCH_OPS'] ?? 2_000_000);
const ASYNC_OPS = Math.floor(OPS / 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const WARMUP = 3;
const BATCH = 64;

/** Sink so the optimiser cannot discard the work. */
let sink = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn(ops)` WARMUP + ROUNDS times; returns the median ops/s of the measured rounds. */
async function measure(fn: (ops: number) => number | Promise<number>, ops: number): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const t0 = performance.now();
    sink += await fn(ops);
    const ms = performance.now() - t0;
    if (r >= WARMUP) rates.push((ops * 1000) / ms);
  }
  return median(rates);
}

// ── baselines: plain arrays ──────────────────────────────────────────────────────────────

function arrayStackSync(ops: number): number {
  const a: number[] = [];
  let sum = 0;
  for (let done = 0; done < ops; done += BATCH) {
    for (let i = 0; i < BATCH; i++) a.push(done + i);
    for (let i = 0; i < BATCH; i++) sum += a.pop()!;
  }
  return sum;
}

function arrayCursorSync(ops: number): number {
  let a: number[] = [];
  let head = 0;
  let sum = 0;
  for (let done = 0; done < ops; done += BATCH) {
    for (let i = 0; i < BATCH; i++) a.push(done + i);
    for (let i = 0; i < BATCH; i++) sum += a[head++];
    if (head === a.length) {
      a = [];
      head = 0;
    }
  }
  return sum;
}

async function arrayStackAsync(ops: number): Promise<number> {
  const a: number[] = [];
  let sum = 0;
  for (let done = 0; done < ops; done += BATCH) {
    for (let i = 0; i < BATCH; i++) {
      a.push(done + i);
      await undefined;
    }
    for (let i = 0; i < BATCH; i++) sum += await Promise.resolve(a.pop()!);
  }
  return sum;
}

async function arrayCursorAsync(ops: number): Promise<number> {
  let a: number[] = [];
  let head = 0;
  let sum = 0;
  for (let done = 0; done < ops; done += BATCH) {
    for (let i = 0; i < BATCH; i++) {
      a.push(done + i);
      await undefined;
    }
    for (let i = 0; i < BATCH; i++) sum += await Promise.resolve(a[head++]);
    if (head === a.length) {
      a = [];
      head = 0;
    }
  }
  return sum;
}

// ── ItemQueue ────────────────────────────────────────────────────────────────────────────

/** `stubClock` replaces the metrics clock with a constant, to show what the clock reads cost. */
function queueSync(type: QueueType, stubClock = false): (ops: number) => number {
  return (ops) => {
    const q = new ItemQueue<number>(stubClock ? { type, size: 10_000, now: () => 0 } : { type, size: 10_000 });
    let sum = 0;
    for (let done = 0; done < ops; done += BATCH) {
      for (let i = 0; i < BATCH; i++) q.tryPut(done + i, i % 10);
      for (let i = 0; i < BATCH; i++) sum += q.tryTake()!;
    }
    return sum + q.metrics().dequeued;
  };
}

function queueAsync(type: QueueType): (ops: number) => Promise<number> {
  return async (ops) => {
    const q = new ItemQueue<number>({ type, size: 10_000 });
    let sum = 0;
    for (let done = 0; done < ops; done += BATCH) {
      for (let i = 0; i < BATCH; i++) await q.put(done + i, i % 10);
      for (let i = 0; i < BATCH; i++) sum += await q.take();
    }
    return sum + q.metrics().dequeued;
  };
}

interface Row {
  name: string;
  opsPerSec: number;
  baseline: string;
  baselineOpsPerSec: number;
  target?: number;
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);

async function main(): Promise<void> {
  const rows: Row[] = [];
  const types: { type: QueueType; target: number }[] = [
    { type: 'fifo', target: 5e6 },
    { type: 'lifo', target: 5e6 },
    { type: 'priority', target: 1e6 },
    { type: 'unordered', target: 5e6 },
  ];
  for (const { type, target } of types) {
    // fifo and unordered (served oldest-first) compare with an array + head cursor; lifo and priority with push/pop.
    const cursor = type === 'fifo' || type === 'unordered';
    const baseline = cursor ? 'array push + cursor' : 'array push/pop';
    // Interleave baseline and subject so both see the same machine state.
    const b = await measure(cursor ? arrayCursorSync : arrayStackSync, OPS);
    const s = await measure(queueSync(type), OPS);
    rows.push({ name: `${type} sync (tryPut/tryTake)`, opsPerSec: s, baseline, baselineOpsPerSec: b, target });
  }
  for (const type of ['fifo', 'priority'] as const) {
    const baseline = type === 'fifo' ? 'array push + cursor' : 'array push/pop';
    const b = await measure(type === 'fifo' ? arrayCursorSync : arrayStackSync, OPS);
    const s = await measure(queueSync(type, true), OPS);
    rows.push({ name: `${type} sync, clock stubbed`, opsPerSec: s, baseline, baselineOpsPerSec: b });
  }
  for (const { type } of types) {
    const cursor = type === 'fifo' || type === 'unordered';
    const baseline = cursor ? 'array push + cursor, awaited' : 'array push/pop, awaited';
    const b = await measure(cursor ? arrayCursorAsync : arrayStackAsync, ASYNC_OPS);
    const s = await measure(queueAsync(type), ASYNC_OPS);
    rows.push({ name: `${type} async (await put/take)`, opsPerSec: s, baseline, baselineOpsPerSec: b });
  }

  console.log(`ItemQueue put+take, 1 op = 1 put + 1 take, batch ${BATCH}, median of ${ROUNDS} rounds after ${WARMUP} warm-up (node ${process.version})`);
  console.log(
    `${'case'.padEnd(34)}${'ops/s'.padStart(11)}  ${'baseline'.padEnd(30)}${'ops/s'.padStart(11)}${'ratio'.padStart(8)}  target`,
  );
  let ok = true;
  for (const r of rows) {
    const met = r.target === undefined ? '' : r.opsPerSec >= r.target ? `≥ ${fmt(r.target)} ok` : `≥ ${fmt(r.target)} MISSED`;
    if (r.target !== undefined && r.opsPerSec < r.target) ok = false;
    console.log(
      `${r.name.padEnd(34)}${fmt(r.opsPerSec).padStart(11)}  ${r.baseline.padEnd(30)}${fmt(r.baselineOpsPerSec).padStart(11)}${(r.opsPerSec / r.baselineOpsPerSec).toFixed(2).padStart(8)}  ${met}`,
    );
  }
  if (sink === 42) console.log('');
  process.exitCode = ok ? 0 : 1;
}

await main();
