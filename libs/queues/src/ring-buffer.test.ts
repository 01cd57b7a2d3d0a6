import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('keeps order and stamps across wrap-around and growth', () => {
    const r = new RingBuffer<number>(4);
    const out: number[] = [];
    let next = 0;
    // Interleave pushes and shifts so head wraps, then grow while wrapped.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3 + (round % 5); i++) {
        r.push(next, next * 10);
        next++;
      }
      for (let i = 0; i < 2; i++) {
        const v = r.shift();
        expect(r.lastStamp).toBe(v * 10);
        out.push(v);
      }
    }
    while (r.length > 0) out.push(r.shift());
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('pops from the tail', () => {
    const r = new RingBuffer<string>(2);
    for (const s of ['a', 'b', 'c', 'd', 'e']) r.push(s, 0);
    expect(r.shift()).toBe('a');
    expect([r.pop(), r.pop(), r.pop(), r.pop()]).toEqual(['e', 'd', 'c', 'b']);
    expect(r.length).toBe(0);
  });
});
