/**
 * UUID version 7 (RFC 9562): 48-bit Unix milliseconds, a 12-bit counter (the RFC's "fixed
 * length dedicated counter"), then 62 random bits. Ids sort by creation time (good for B-tree
 * indexes and for reading a trace in order) and, within one process, strictly increase.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// Random bytes come from a pool refilled in bulk: one getRandomValues call per 512 ids.
const POOL_IDS = 512;
const STRIDE = 9; // 1 byte seeds the counter, 8 feed the random bits
const pool = new Uint8Array(POOL_IDS * STRIDE);
let poolOffset = pool.length;

let lastMs = -1;
let counter = 0;

/**
 * A new UUID v7 string (`xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`).
 *
 * @param now - Unix time in milliseconds to embed. @defaultValue `Date.now()`
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + STRIDE > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += STRIDE;
  let ms = Math.max(0, Math.floor(now));
  if (ms > lastMs) {
    lastMs = ms;
    // start each millisecond low in the 12-bit range so the counter has room to climb
    counter = pool[r];
  } else {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      lastMs = ++ms;
      counter = pool[r];
    }
  }
  const hi = Math.floor(ms / 0x1000000); // upper 24 bits of 48
  const lo = ms % 0x1000000; // lower 24 bits
  return (
    HEX[(hi >>> 16) & 0xff] +
    HEX[(hi >>> 8) & 0xff] +
    HEX[hi & 0xff] +
    HEX[(lo >>> 16) & 0xff] +
    '-' +
    HEX[(lo >>> 8) & 0xff] +
    HEX[lo & 0xff] +
    '-' +
    HEX[0x70 | (counter >>> 8)] +
    HEX[counter & 0xff] +
    '-' +
    HEX[0x80 | (pool[r + 1] & 0x3f)] +
    HEX[pool[r + 2]] +
    '-' +
    HEX[pool[r + 3]] +
    HEX[pool[r + 4]] +
    HEX[pool[r + 5]] +
    HEX[pool[r + 6]] +
    HEX[pool[r + 7]] +
    HEX[pool[r + 8]]
  );
}

/** Milliseconds embedded in a UUID v7 (undefined when `id` is not one). */
export function uuidv7Time(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
