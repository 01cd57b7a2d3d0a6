import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAck, buildNack, encodeMllp, Hl7Error, startsWithBatchHeader, MllpDecoder, parseBatch, parseMessage, splitBatch, parseBatchBytes, validateMessage, type Hl7Message } from './index';

const corpusDir = fileURLToPath(new URL('../../../testdata/hl7/', import.meta.url));
const corpus = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.hl7'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(corpusDir + f)));
const corpusText = corpus.map((b) => new TextDecoder().decode(b));

/** Parses, or fails only with a typed `hl7.parse` Hl7Error. */
function tryParse(input: string | Uint8Array): Hl7Message | undefined {
  try {
    return parseMessage(input);
  } catch (e) {
    expect(e).toBeInstanceOf(Hl7Error);
    expect((e as Hl7Error).code).toBe('hl7.parse');
    return undefined;
  }
}

const pathArb = fc
  .record({
    seg: fc.constantFrom('MSH', 'PID', 'OBX', 'PV1', 'EVN', 'ZZZ', 'NTE'),
    occ: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    field: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined, freq: 8 }),
    rep: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    comp: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    sub: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  })
  .map(({ seg, occ, field, rep, comp, sub }) => {
    let p = seg + (occ === undefined ? '' : `[${occ}]`);
    if (field === undefined) return p;
    p += `-${field}`;
    if (seg === 'MSH' && field <= 2) return p;
    if (rep !== undefined) p += `[${rep}]`;
    if (comp !== undefined) {
      p += `.${comp}`;
      if (sub !== undefined) p += `.${sub}`;
    }
    return p;
  });

const mutatedCorpus = fc
  .tuple(
    fc.integer({ min: 0, max: corpus.length - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x7c, 0x5e, 0x7e, 0x5c, 0x26, 0x0d, 0x0a, 0x0b, 0x1c, 0x00, 0xff, 0xc3, 0x41)), { maxLength: 8 }),
  )
  .map(([i, edits]) => {
    const b = corpus[i].slice();
    for (const [at, byte] of edits) b[at % b.length] = byte;
    return b;
  });

describe('fuzz', () => {
  it('parseMessage returns or throws hl7.parse on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        tryParse(bytes);
      }),
      { numRuns: 1500 },
    );
  });

  it('random text after MSH parses, round-trips and reads without untyped errors', () => {
    const chars = fc.constantFrom(...'|^~\\&#*%@!\r\n AB1.-"'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 200 }).map((cs) => 'MSH' + cs.join('')), fc.array(pathArb, { minLength: 1, maxLength: 8 }), (text, paths) => {
        const msg = tryParse(text);
        if (msg === undefined) return;
        expect(msg.toString()).toBe(text);
        for (const p of paths) {
          const v = msg.get(p);
          expect(v === undefined || typeof v === 'string').toBe(true);
          expect(Array.isArray(msg.getAll(p))).toBe(true);
        }
        validateMessage(msg);
        buildAck(msg, 'AA');
      }),
      { numRuns: 1500 },
    );
  });

  it('truncated corpus messages parse (or fail typed) and round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: corpus.length - 1 }), fc.nat(), (i, cut) => {
        const bytes = corpus[i].subarray(0, cut % (corpus[i].length + 1));
        const msg = tryParse(bytes);
        if (msg === undefined) return;
        expect(msg.toBytes()).toEqual(bytes);
        validateMessage(msg);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated corpus messages: reads, writes and ACKs never throw untyped errors', () => {
    fc.assert(
      fc.property(mutatedCorpus, fc.array(pathArb, { maxLength: 6 }), fc.string({ maxLength: 20 }), (bytes, paths, value) => {
        const msg = tryParse(bytes);
        buildNack(bytes, 'AR', { text: value });
        if (msg === undefined) return;
        for (const p of paths) {
          msg.get(p);
          try {
            msg.set(p, value);
            if (!/\r/.test(value) && !(p.startsWith('MSH-1') || p.startsWith('MSH-2'))) {
              const back = msg.get(p);
              if (/-\d+$/.test(p)) expect(back).toBe(value);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(Hl7Error);
            expect(['hl7.path', 'hl7.value']).toContain((e as Hl7Error).code);
          }
        }
        const again = parseMessage(msg.toString());
        expect(again.toString()).toBe(msg.toString());
        validateMessage(msg);
      }),
      { numRuns: 600 },
    );
  });

  it('set then get returns the value at any valid path', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: corpus.length - 1 }), pathArb, fc.string({ unit: 'grapheme', maxLength: 15 }), (i, p, value) => {
        const msg = parseMessage(corpusText[i]);
        if (p.startsWith('MSH-1') || p.startsWith('MSH-2') || !p.includes('-')) return;
        try {
          msg.set(p, value);
        } catch (e) {
          expect((e as Hl7Error).code).toBe('hl7.path');
          return;
        }
        expect(msg.get(p)).toBe(value.replace(/\r\n|\r/g, '\n'));
        expect(parseMessage(msg.toString()).get(p)).toBe(value.replace(/\r\n|\r/g, '\n'));
      }),
      { numRuns: 1500 },
    );
  });

  it('splitBatch and parseBatch never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...corpusText, 'FHS|^~\\&', 'BHS|^~\\&', 'BTS|x', 'FTS|1', '\r', '\n', 'junk')), { maxLength: 8 }), (parts) => {
        const text = parts.join('');
        splitBatch(text);
        const b = parseBatch(text);
        expect(b.messages.length).toBe(splitBatch(text).length);
      }),
      { numRuns: 300 },
    );
  });

  it('parseBatchBytes finds the same messages as splitBatch, as the exact bytes; it and startsWithBatchHeader never throw', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...corpusText, 'FHS|^~\\&', 'BHS|^~\\&', 'BTS|x', 'FTS|1', '\r', '\n', 'junk')), { maxLength: 8 }), (parts) => {
        const text = parts.join('');
        const bytes = enc.encode(text);
        const b = parseBatchBytes(bytes);
        expect(b.messages.map((m) => new TextDecoder().decode(m))).toEqual(splitBatch(text));
        startsWithBatchHeader(bytes);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        parseBatchBytes(bytes);
        startsWithBatchHeader(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('MllpDecoder never throws and never buffers more than its limit', () => {
    const chunkArb = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(new Uint8Array([0x0b]), new Uint8Array([0x1c]), new Uint8Array([0x0d]), new Uint8Array([0x1c, 0x0d])),
      mutatedCorpus.map((b) => encodeMllp(b).subarray(0, 10 + (b.length % 50))),
      fc.integer({ min: 0, max: corpus.length - 1 }).map((i) => encodeMllp(corpus[i])),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.array(chunkArb, { maxLength: 30 }), (max, chunks) => {
        const d = new MllpDecoder({ maxFrameBytes: max });
        for (const c of chunks) {
          const events = d.push(c);
          expect(d.buffered).toBeLessThanOrEqual(max);
          for (const e of events) {
            if (e.kind === 'frame') expect(e.payload.length).toBeLessThanOrEqual(max);
            else expect(['mllp.garbled', 'mllp.frame_too_large']).toContain(e.error.code);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
