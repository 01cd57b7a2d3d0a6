import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMllp, MllpDecoder, type MllpEvent } from './index';

const enc = new TextEncoder();
const dec = new TextDecoder();
const FRAMES = ['MSH|^~\\&|A|B|||||ADT^A01|1|P|2.5\rPID|1', 'MSH|^~\\&|C|D|||||ORU^R01|2|P|2.5\rOBX|1|TX|||héllo', 'MSH|^~\\&|E|F|||||ACK|3|P|2.5\rMSA|AA|1\r'];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function frames(events: MllpEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'frame' ? [dec.decode(e.payload)] : []));
}

function errors(events: MllpEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'error' ? [e.error.code] : []));
}

describe('encodeMllp', () => {
  it('wraps a payload', () => {
    expect(Array.from(encodeMllp('AB'))).toEqual([0x0b, 0x41, 0x42, 0x1c, 0x0d]);
    expect(Array.from(encodeMllp(new Uint8Array([1, 2])))).toEqual([0x0b, 1, 2, 0x1c, 0x0d]);
    expect(Array.from(encodeMllp('é'))).toEqual([0x0b, 0xc3, 0xa9, 0x1c, 0x0d]);
  });
});

describe('MllpDecoder', () => {
  const stream = concat(FRAMES.map((f) => encodeMllp(f)));

  it('decodes many frames in one chunk, without copying', () => {
    const d = new MllpDecoder();
    const events = d.push(stream);
    expect(frames(events)).toEqual(FRAMES);
    expect(errors(events)).toEqual([]);
    for (const e of events) if (e.kind === 'frame') expect(e.payload.buffer).toBe(stream.buffer);
    expect(d.buffered).toBe(0);
  });

  it('decodes the same at every split point of a 3-frame stream', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new MllpDecoder();
      const events = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
      expect(frames(events), `split at ${i}`).toEqual(FRAMES);
      expect(errors(events), `split at ${i}`).toEqual([]);
      expect(d.buffered).toBe(0);
    }
  });

  it('decodes the same at every pair of split points', () => {
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 2) {
        const d = new MllpDecoder();
        const events = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i, j)), ...d.push(stream.subarray(j))];
        expect(frames(events)).toEqual(FRAMES);
        expect(errors(events)).toEqual([]);
      }
    }
  });

  it('decodes byte by byte', () => {
    const d = new MllpDecoder();
    const events: MllpEvent[] = [];
    for (let i = 0; i < stream.length; i++) events.push(...d.push(stream.subarray(i, i + 1)));
    expect(frames(events)).toEqual(FRAMES);
  });

  it('reports garbage between frames once per run, and ignores whitespace', () => {
    const d = new MllpDecoder();
    const garbage = enc.encode('junk');
    const events = [
      ...d.push(concat([garbage, encodeMllp(FRAMES[0]), enc.encode('\r\n'), encodeMllp(FRAMES[1])])),
      ...d.push(enc.encode('more')),
      ...d.push(enc.encode('junk')),
      ...d.push(encodeMllp(FRAMES[2])),
    ];
    expect(frames(events)).toEqual(FRAMES);
    expect(errors(events)).toEqual(['mllp.garbled', 'mllp.garbled']);
    expect(events.map((e) => e.kind)).toEqual(['error', 'frame', 'frame', 'error', 'frame']);
  });

  it('ends a frame at 0x1C even without the CR, and swallows a CR split off into the next chunk', () => {
    const d = new MllpDecoder();
    const a = d.push(concat([new Uint8Array([0x0b]), enc.encode('A'), new Uint8Array([0x1c])]));
    expect(frames(a)).toEqual(['A']);
    const b = d.push(concat([new Uint8Array([0x0d, 0x0b]), enc.encode('B'), new Uint8Array([0x1c, 0x0b]), enc.encode('C'), new Uint8Array([0x1c, 0x0d])]));
    expect(frames(b)).toEqual(['B', 'C']);
    expect(errors([...a, ...b])).toEqual([]);
  });

  it('drops a frame cut short by a new start block', () => {
    const d = new MllpDecoder();
    const events = [...d.push(concat([new Uint8Array([0x0b]), enc.encode('partial')])), ...d.push(encodeMllp('whole'))];
    expect(errors(events)).toEqual(['mllp.garbled']);
    expect(frames(events)).toEqual(['whole']);
  });

  it('rejects oversize frames, skips to the next start block, and never buffers past the limit', () => {
    const d = new MllpDecoder({ maxFrameBytes: 10 });
    const big = encodeMllp('x'.repeat(25));
    const events: MllpEvent[] = [];
    for (let i = 0; i < big.length; i += 4) {
      events.push(...d.push(big.subarray(i, i + 4)));
      expect(d.buffered).toBeLessThanOrEqual(10);
    }
    events.push(...d.push(encodeMllp('0123456789')));
    events.push(...d.push(concat([encodeMllp('y'.repeat(11)), encodeMllp('ok')])));
    expect(errors(events)).toEqual(['mllp.frame_too_large', 'mllp.frame_too_large']);
    expect(frames(events)).toEqual(['0123456789', 'ok']);
  });

  it('copies frames that span chunks, so reused chunk memory does not corrupt them', () => {
    const d = new MllpDecoder();
    const buf = new Uint8Array(4);
    const frame = encodeMllp('ABCDEF');
    const out: MllpEvent[] = [];
    for (let i = 0; i < frame.length; i += 4) {
      const part = frame.subarray(i, i + 4);
      buf.fill(0);
      buf.set(part);
      out.push(...d.push(buf.subarray(0, part.length)));
    }
    expect(frames(out)).toEqual(['ABCDEF']);
  });

  it('says whether a frame is under way, including one being skipped for its size', () => {
    const d = new MllpDecoder({ maxFrameBytes: 4 });
    expect(d.inFrame).toBe(false);
    d.push(enc.encode('\r\n'));
    expect(d.inFrame).toBe(false);
    d.push(new Uint8Array([0x0b]));
    expect(d.inFrame).toBe(true); // started, nothing buffered yet
    d.push(enc.encode('toolong'));
    expect(d.inFrame).toBe(true); // skipping, still waiting for the end block
    d.push(new Uint8Array([0x1c, 0x0d]));
    expect(d.inFrame).toBe(false);
    d.push(concat([encodeMllp('ok'), new Uint8Array([0x0b]), enc.encode('h')]));
    expect(d.inFrame).toBe(true);
  });

  it('resets', () => {
    const d = new MllpDecoder();
    d.push(concat([new Uint8Array([0x0b]), enc.encode('half')]));
    expect(d.buffered).toBe(4);
    d.reset();
    expect(d.buffered).toBe(0);
    expect(frames(d.push(encodeMllp('new')))).toEqual(['new']);
  });

  it('decodes any chunking of any frames identically', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (texts, cuts) => {
        const clean = texts.map((t) => t.split('\u000b').join('').split('\u001c').join(''));
        const all = concat(clean.map((t) => encodeMllp(t)));
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const d = new MllpDecoder();
        const events: MllpEvent[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          events.push(...d.push(all.subarray(prev, p)));
          prev = p;
        }
        expect(frames(events)).toEqual(clean);
        expect(errors(events)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('MllpDecoder keeps what it drops, when asked', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

  it('an oversize frame and a frame cut short by a new start block carry their first bytes', () => {
    const d = new MllpDecoder({ maxFrameBytes: 10, keepDroppedBytes: 6 });
    const [tooLarge] = d.push(bytes('\x0bABCDEFGHIJKLMNOP\x1c\r'));
    expect(tooLarge).toMatchObject({ kind: 'error', error: { code: 'mllp.frame_too_large' } });
    expect(tooLarge.kind === 'error' && text(tooLarge.dropped)).toBe('ABCDEF');
    d.push(bytes('\x0bAB'));
    const evs = d.push(bytes('C\x0bMSH|1\x1c\r'));
    expect(evs.map((e) => e.kind)).toEqual(['error', 'frame']);
    expect(evs[0].kind === 'error' && text(evs[0].dropped)).toBe('ABC');
    expect(new MllpDecoder({ maxFrameBytes: 10 }).push(bytes('\x0bABCDEFGHIJKLMNOP\x1c\r'))[0]).not.toHaveProperty('dropped');
  });

  it('unfinished() shows the frame under way: its first bytes and its size', () => {
    const d = new MllpDecoder();
    expect(d.unfinished(4)).toBeUndefined();
    d.push(bytes('\x0bMSH|^~'));
    d.push(bytes('\\&|A'));
    expect(d.unfinished(4)).toEqual({ head: bytes('MSH|'), size: 10 });
    expect(text(d.unfinished(100)?.head)).toBe('MSH|^~\\&|A');
    d.push(bytes('\x1c\r'));
    expect(d.unfinished(4)).toBeUndefined();
  });
});
