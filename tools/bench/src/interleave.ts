/** Side-by-side measurement shared by the parser benches (hl7, fhir). */

/** Runs `fn` over the inputs for about `ms` milliseconds; returns inputs per second. */
export function measure<T>(fn: (input: T) => void, inputs: readonly T[], ms: number): number {
  let count = 0;
  const start = performance.now();
  let now: number;
  do {
    for (let i = 0; i < inputs.length; i++) fn(inputs[i]!);
    count += inputs.length;
    now = performance.now();
  } while (now - start < ms);
  return (count * 1000) / (now - start);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Per-round throughputs of both sides, and the median of the per-round ratios HIE / baseline. */
export interface Interleaved {
  hie: number[];
  base: number[];
  /**
   * Each round's pair ran back to back under the same machine load: the median of the per-round
   * ratios is steadier than the ratio of the medians on a busy machine.
   */
  ratio: number;
}

/**
 * Warms both sides up (so the JIT has seen the code before any figure counts), then measures
 * them in interleaved rounds (HIE, baseline, baseline, HIE, …).
 */
export function interleave<T>(hie: (input: T) => void, baseline: (input: T) => void, inputs: readonly T[], rounds: number, ms: number): Interleaved {
  measure(hie, inputs, ms);
  measure(baseline, inputs, ms);
  const h: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      h.push(measure(hie, inputs, ms));
      b.push(measure(baseline, inputs, ms));
    } else {
      b.push(measure(baseline, inputs, ms));
      h.push(measure(hie, inputs, ms));
    }
  }
  return { hie: h, base: b, ratio: median(h.map((x, i) => x / b[i]!)) };
}
