/** Number of recent wait samples kept for percentiles (a ring; the newest overwrite the oldest). */
export const WAIT_SAMPLE_SIZE = 1024;
/** Width of the throughput sliding window, in one-second buckets. */
export const THROUGHPUT_WINDOW_SECONDS = 10;

/**
 * Cheap run-time statistics for the take path: a fixed ring of the most recent wait times
 * (percentiles are computed only when asked, by sorting a copy of at most
 * {@link WAIT_SAMPLE_SIZE} numbers) and per-second dequeue counters over a sliding window.
 * Recording allocates nothing. Internal; not exported from the package.
 */
export class WaitStats {
  private readonly samples = new Float64Array(WAIT_SAMPLE_SIZE);
  private recorded = 0;
  private readonly buckets = new Float64Array(THROUGHPUT_WINDOW_SECONDS);
  private currentSecond: number;
  private readonly startedAt: number;

  constructor(now: number) {
    this.startedAt = now;
    this.currentSecond = Math.floor(now / 1000);
  }

  /** Records one dequeue at time `t` that waited `waitMs` in the queue. */
  record(waitMs: number, t: number): void {
    this.samples[this.recorded & (WAIT_SAMPLE_SIZE - 1)] = waitMs;
    this.recorded++;
    const sec = Math.floor(t / 1000);
    if (sec !== this.currentSecond) this.advance(sec);
    this.buckets[this.currentSecond % THROUGHPUT_WINDOW_SECONDS]++;
  }

  /** Nearest-rank percentiles over the recent samples; zeros when there are none. */
  percentiles(): { p50: number; p99: number } {
    const n = Math.min(this.recorded, WAIT_SAMPLE_SIZE);
    if (n === 0) return { p50: 0, p99: 0 };
    const sorted = this.samples.slice(0, n).sort();
    return { p50: sorted[Math.ceil(0.5 * n) - 1], p99: sorted[Math.ceil(0.99 * n) - 1] };
  }

  /** Dequeues per second over the last {@link THROUGHPUT_WINDOW_SECONDS} seconds (or since start). */
  throughput(now: number): number {
    const sec = Math.floor(now / 1000);
    if (sec !== this.currentSecond) this.advance(sec);
    let total = 0;
    for (let i = 0; i < THROUGHPUT_WINDOW_SECONDS; i++) total += this.buckets[i];
    const windowStart = Math.max((sec - THROUGHPUT_WINDOW_SECONDS + 1) * 1000, this.startedAt);
    // At least one second of span, so a handful of dequeues right after start do not read as a huge rate.
    const spanMs = Math.max(now - windowStart, 1000);
    return (total * 1000) / spanMs;
  }

  private advance(sec: number): void {
    if (sec < this.currentSecond) return; // clock went backwards: keep counting into the current bucket
    const steps = Math.min(sec - this.currentSecond, THROUGHPUT_WINDOW_SECONDS);
    for (let s = 1; s <= steps; s++) this.buckets[(this.currentSecond + s) % THROUGHPUT_WINDOW_SECONDS] = 0;
    this.currentSecond = sec;
  }
}
