import { describe, expect, it } from 'vitest';
import { WAIT_SAMPLE_SIZE, WaitStats } from './wait-stats';

describe('WaitStats', () => {
  it('returns zeros before any sample', () => {
    const s = new WaitStats(0);
    expect(s.percentiles()).toEqual({ p50: 0, p99: 0 });
    expect(s.throughput(5000)).toBe(0);
  });

  it('computes nearest-rank percentiles over the most recent samples only', () => {
    const s = new WaitStats(0);
    for (let i = 0; i < WAIT_SAMPLE_SIZE; i++) s.record(1_000_000, 0); // old, overwritten below
    for (let i = 1; i <= WAIT_SAMPLE_SIZE; i++) s.record(i, 0);
    expect(s.percentiles()).toEqual({ p50: 512, p99: 1014 });
  });

  it('reports dequeues per second over a sliding 10 s window', () => {
    const s = new WaitStats(0);
    for (let sec = 0; sec < 10; sec++) for (let i = 0; i < 100; i++) s.record(0, sec * 1000 + i);
    expect(s.throughput(10_000)).toBeCloseTo(100, 0);
    // 20 s later, with nothing dequeued since, the window is empty.
    expect(s.throughput(30_000)).toBe(0);
  });

  it('uses the time since start when younger than the window', () => {
    const s = new WaitStats(1000);
    for (let i = 0; i < 50; i++) s.record(0, 1500);
    expect(s.throughput(3000)).toBeCloseTo(25, 5); // 50 over 2 s
  });
});
