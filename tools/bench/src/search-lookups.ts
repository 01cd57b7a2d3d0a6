/** Timed message-viewer searches shared by the store and retention benches. */
import type { Store } from '@hie/store';

export type SearchFilter = Parameters<Store['messages']['search']>[1];

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

/**
 * `lookups` searches (after 20 warm-ups) of the seeded project `prod-<i % 5>` with the filter
 * `make(i)` for random i in [1, rows], printing p50/p95/max against the 50 ms p95 target.
 */
export async function timeLookups(store: Store, o: { label: string; width: number; rows: number; lookups: number; make: (i: number) => SearchFilter }): Promise<void> {
  const search = (i: number) => store.messages.search(`prod-${i % 5}`, o.make(i));
  for (let i = 0; i < 20; i++) await search(1 + Math.floor(Math.random() * o.rows)); // warm-up
  const times: number[] = [];
  let found = 0;
  for (let k = 0; k < o.lookups; k++) {
    const i = 1 + Math.floor(Math.random() * o.rows);
    const s = performance.now();
    const res = await search(i);
    times.push(performance.now() - s);
    found += res.items.length;
  }
  const p95 = pct(times, 95);
  console.log(
    `${o.label.padEnd(o.width)} p50 ${ms(pct(times, 50)).padStart(9)}  p95 ${ms(p95).padStart(9)}  max ${ms(Math.max(...times)).padStart(9)}  (${(found / o.lookups).toFixed(1)} hits/lookup) ${p95 <= 50 ? 'OK ≤ 50 ms' : 'ABOVE 50 ms TARGET'}`,
  );
}
