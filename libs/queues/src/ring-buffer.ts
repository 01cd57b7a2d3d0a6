/**
 * A growable power-of-two ring buffer (a deque) with a parallel array of numeric stamps
 * (enqueue times). O(1) push, shift and pop; no `Array.shift()`, no per-entry allocation.
 * Internal to the queue; not exported from the package.
 */
export class RingBuffer<T> {
  private items: (T | undefined)[];
  private stamps: Float64Array;
  private head = 0;
  private mask: number;
  /** Number of entries held. */
  length = 0;
  /** Stamp of the entry most recently removed by {@link shift} or {@link pop}. */
  lastStamp = 0;

  constructor(initialCapacity = 16) {
    let cap = 2;
    while (cap < initialCapacity) cap *= 2;
    this.items = new Array<T | undefined>(cap).fill(undefined);
    this.stamps = new Float64Array(cap);
    this.mask = cap - 1;
  }

  /** Appends at the tail. */
  push(item: T, stamp: number): void {
    if (this.length === this.items.length) this.grow();
    const i = (this.head + this.length) & this.mask;
    this.items[i] = item;
    this.stamps[i] = stamp;
    this.length++;
  }

  /** Inserts at the head, so {@link shift} returns it next. */
  unshift(item: T, stamp: number): void {
    if (this.length === this.items.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = item;
    this.stamps[this.head] = stamp;
    this.length++;
  }

  /** Removes from the head (oldest). Caller checks `length > 0` first. */
  shift(): T {
    const i = this.head;
    const item = this.items[i] as T;
    this.items[i] = undefined; // let the GC have it
    this.lastStamp = this.stamps[i];
    this.head = (i + 1) & this.mask;
    this.length--;
    return item;
  }

  /** Removes from the tail (newest). Caller checks `length > 0` first. */
  pop(): T {
    this.length--;
    const i = (this.head + this.length) & this.mask;
    const item = this.items[i] as T;
    this.items[i] = undefined;
    this.lastStamp = this.stamps[i];
    return item;
  }

  private grow(): void {
    const old = this.items;
    const oldStamps = this.stamps;
    const cap = old.length;
    const items = new Array<T | undefined>(cap * 2).fill(undefined);
    const stamps = new Float64Array(cap * 2);
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & this.mask;
      items[k] = old[i];
      stamps[k] = oldStamps[i];
    }
    this.items = items;
    this.stamps = stamps;
    this.head = 0;
    this.mask = cap * 2 - 1;
  }
}
