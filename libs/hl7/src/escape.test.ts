import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIMITERS, escape, unescape, type Hl7Delimiters } from './index';

const CUSTOM: Hl7Delimiters = { field: '*', component: '%', repetition: '@', escape: '!', subcomponent: '#' };

describe('escape', () => {
  it('escapes every delimiter and line breaks', () => {
    expect(escape('a|b^c&d~e\\f')).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
    expect(escape('one\ntwo\r\nthree\rfour')).toBe('one\\.br\\two\\.br\\three\\.br\\four');
    expect(escape('plain text')).toBe('plain text');
    expect(escape('')).toBe('');
  });

  it('uses the given delimiters', () => {
    expect(escape('a*b%c@d!e#f|^', CUSTOM)).toBe('a!F!b!S!c!R!d!E!e!T!f|^');
    expect(escape('cut#', { ...DEFAULT_DELIMITERS, truncation: '#' })).toBe('cut\\P\\');
  });
});

describe('unescape', () => {
  it('decodes the standard sequences', () => {
    expect(unescape('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f')).toBe('a|b^c&d~e\\f');
    expect(unescape('MARIO \\T\\ LUIGI')).toBe('MARIO & LUIGI');
    expect(unescape('This\\.br\\is\\.br\\A Test')).toBe('This\nis\nA Test');
    expect(unescape('x!S!y', CUSTOM)).toBe('x%y');
  });

  it('decodes hex as UTF-8, else as ISO-8859-1', () => {
    expect(unescape('caf\\XC3A9\\')).toBe('café');
    expect(unescape('caf\\XE9\\')).toBe('café');
    expect(unescape('\\X0D0A\\')).toBe('\r\n');
    expect(unescape('\\x41\\')).toBe('\\x41\\');
    expect(unescape('\\XZZ\\')).toBe('\\XZZ\\');
    expect(unescape('\\XABC\\')).toBe('\\XABC\\');
  });

  it('leaves unknown and unterminated sequences as they are', () => {
    expect(unescape('\\H\\bold\\N\\')).toBe('\\H\\bold\\N\\');
    expect(unescape('\\.sp2\\')).toBe('\\.sp2\\');
    expect(unescape('C:\\temp')).toBe('C:\\temp');
    expect(unescape('a\\\\b')).toBe('a\\\\b');
    expect(unescape('a\\b\\F\\')).toBe('a\\b|');
    expect(unescape('\\P\\')).toBe('\\P\\');
    expect(unescape('\\P\\', { ...DEFAULT_DELIMITERS, truncation: '#' })).toBe('#');
    expect(unescape('\\Cxxyy\\')).toBe('\\Cxxyy\\');
  });

  it('inverts escape (line breaks come back as \\n)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(unescape(escape(s))).toBe(s.replace(/\r\n|\r/g, '\n'));
        expect(unescape(escape(s, CUSTOM), CUSTOM)).toBe(s.replace(/\r\n|\r/g, '\n'));
      }),
      { numRuns: 2000 },
    );
  });

  it('never produces a delimiter or line break when escaping', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(escape(s)).not.toMatch(/[|^~&\r\n]/);
      }),
      { numRuns: 1000 },
    );
  });
});
