import type { QueueWaitFigures } from '@hie/cluster';
import type { QueueMetrics } from '@hie/queues';

/** Rolling latency samples and a per-second throughput window, cheap on the hot path. */
export class ItemStats {
  processed = 0;
  errors = 0;
  discarded = 0;
  private readonly samples: Float64Array;
  private sampleCount = 0;
  private sampleNext = 0;
  private readonly buckets = new Float64Array(11);
  private bucketSecond = 0;

  constructor(sampleSize = 2048) {
    this.samples = new Float64Array(sampleSize);
  }

  /**
   * Carries the counters of the stats this item had before (a host replaced by a hot reload), so
   * the figures an item reports — and the dashboard's message counts — never go back to zero
   * while the item lives on. Latency samples and throughput start afresh: they describe the new
   * settings.
   */
  continueFrom(prev: ItemStats | undefined): this {
    if (prev && prev !== this) {
      this.processed += prev.processed;
      this.errors += prev.errors;
      this.discarded += prev.discarded;
    }
    return this;
  }

  record(latencyMs: number, ok: boolean, now = Date.now()): void {
    if (ok) this.processed++;
    else this.errors++;
    this.samples[this.sampleNext] = latencyMs;
    this.sampleNext = (this.sampleNext + 1) % this.samples.length;
    if (this.sampleCount < this.samples.length) this.sampleCount++;
    this.tick(now);
    this.buckets[Math.floor(now / 1000) % this.buckets.length]++;
  }

  private tick(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.bucketSecond) return;
    // Clear buckets for the seconds that passed without traffic.
    const gap = Math.min(second - this.bucketSecond, this.buckets.length);
    for (let i = 1; i <= gap; i++) this.buckets[(this.bucketSecond + i) % this.buckets.length] = 0;
    this.bucketSecond = second;
  }

  /** Messages per second over the last 10 complete seconds. */
  throughput(now = Date.now()): number {
    this.tick(now);
    const current = Math.floor(now / 1000) % this.buckets.length;
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) if (i !== current) sum += this.buckets[i];
    return sum / (this.buckets.length - 1);
  }

  percentile(p: number): number {
    if (this.sampleCount === 0) return 0;
    const sorted = Array.from(this.samples.subarray(0, this.sampleCount)).sort((a, b) => a - b);
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return Math.round(sorted[idx] * 1000) / 1000;
  }
}

/** An item queue's wait figures as a node reports them. */
export function queueWaitOf(m: QueueMetrics): QueueWaitFigures {
  const h = m.waitHistogram;
  return { p50Ms: m.waitMsP50, p99Ms: m.waitMsP99, bucketsMs: [...h.bucketsMs], counts: h.counts, count: h.count, sumMs: h.sumMs };
}
