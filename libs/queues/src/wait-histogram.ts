/**
 * Upper bounds, in milliseconds, of the queue-wait histogram buckets: 1 ms to 5 minutes, so a
 * healthy sub-millisecond hand-off and a queue stuck behind a downstream outage both land in a
 * bucket that tells them apart. Fixed, so figures from several engine nodes add up bucket by bucket.
 */
export const WAIT_BUCKETS_MS: readonly number[] = Object.freeze([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000]);

/** A point-in-time copy of a {@link WaitHistogram}, in the shape of a Prometheus histogram. */
export interface WaitHistogramSnapshot {
  /** The upper bounds (ms), {@link WAIT_BUCKETS_MS}. */
  bucketsMs: readonly number[];
  /** Cumulative: `counts[i]` waits were ≤ `bucketsMs[i]`. The `+Inf` bucket is `count`. */
  counts: number[];
  /** Waits recorded since the histogram was created. */
  count: number;
  /** Their total, in milliseconds. */
  sumMs: number;
}

/**
 * Cumulative counts of queue wait times (never reset, unlike the recent-sample percentiles), what
 * Prometheus histograms and `rate()` need. Recording allocates nothing. One histogram may be shared
 * by the successive queues of one item, so its figures survive a queue rebuilt by a reload.
 */
export class WaitHistogram {
  private readonly perBucket = new Float64Array(WAIT_BUCKETS_MS.length + 1);
  private total = 0;
  private sum = 0;

  /** Records one wait of `waitMs` milliseconds. */
  observe(waitMs: number): void {
    let i = 0;
    while (i < WAIT_BUCKETS_MS.length && waitMs > WAIT_BUCKETS_MS[i]) i++;
    this.perBucket[i]++;
    this.total++;
    this.sum += waitMs;
  }

  snapshot(): WaitHistogramSnapshot {
    const counts: number[] = [];
    let acc = 0;
    for (let i = 0; i < WAIT_BUCKETS_MS.length; i++) counts.push((acc += this.perBucket[i]));
    return { bucketsMs: WAIT_BUCKETS_MS, counts, count: this.total, sumMs: this.sum };
  }
}
