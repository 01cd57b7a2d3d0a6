import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode, decodeText, encodeText, latin1Decode, type Encoding } from './bytes';

const binaryString = (bytes: Uint8Array): string => Array.from(bytes, (b) => String.fromCharCode(b)).join('');

describe('base64', () => {
  it('matches btoa and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = base64Encode(bytes);
        expect(text).toBe(btoa(binaryString(bytes)));
        expect(base64Decode(text)).toEqual(bytes);
      }),
    );
  });

  it('accepts url-safe, unpadded and wrapped input', () => {
    expect(base64Decode('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(base64Decode('aGVs\nbG8')).toEqual(new TextEncoder().encode('hello'));
  });

  it('rejects junk', () => {
    expect(() => base64Decode('a$bc')).toThrow(RangeError);
    expect(() => base64Decode('a')).toThrow(RangeError);
    expect(() => base64Decode('ab=c')).toThrow(RangeError);
  });

  it('handles large inputs', () => {
    const big = new Uint8Array(100_000).map((_, i) => i * 7);
    expect(base64Decode(base64Encode(big))).toEqual(big);
    expect(latin1Decode(big).length).toBe(big.length);
  });
});

describe('text encodings', () => {
  it('utf-8 drops a BOM and replaces invalid sequences', () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), 'utf-8')).toBe('A');
    expect(decodeText(new Uint8Array([0xff]), 'utf-8')).toBe('\ufffd');
  });

  it('latin1 is ISO-8859-1, not windows-1252', () => {
    expect(decodeText(new Uint8Array([0x80, 0xe9]), 'latin1')).toBe('\u0080é');
    expect(encodeText('é€', 'latin1')).toEqual(new Uint8Array([0xe9, 0x3f]));
    expect(encodeText('é', 'ascii')).toEqual(new Uint8Array([0x3f]));
  });

  it('binary and base64 bodies read as base64', () => {
    expect(decodeText(new Uint8Array([0, 255]), 'binary')).toBe('AP8=');
    expect(encodeText('AP8=', 'base64')).toEqual(new Uint8Array([0, 255]));
  });

  it('decodeText inverts encodeText', () => {
    const cases: [Encoding, fc.Arbitrary<string>][] = [
      ['utf-8', fc.string({ unit: 'grapheme' })],
      ['latin1', fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) })],
      ['ascii', fc.string({ unit: 'binary-ascii' })],
    ];
    for (const [encoding, strings] of cases) {
      fc.assert(fc.property(strings, (text) => decodeText(encodeText(text, encoding), encoding) === text.replace(/^\ufeff/, '')));
    }
  });
});
