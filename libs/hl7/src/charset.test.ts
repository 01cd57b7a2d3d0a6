import { describe, expect, it } from 'vitest';
import {
  ackErrorCode,
  buildAck,
  buildAckBytes,
  buildNack,
  charsetOf,
  parseMessage,
  problemAckCode,
  splitBatchBytes,
  validateMessage,
  type Hl7Problem,
} from './index';

/** Latin-1 bytes: one byte per char (ü = 0xFC), built by hand so the fixture is the real wire bytes. */
const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** MSH-3 `Mü`, MSH-18 `8859/1`, PID-5 `Müller`: all in ISO-8859-1. */
const LATIN1_ADT = 'MSH|^~\\&|M\u00fc|FAC|RCV|RFAC|20240101120000||ADT^A01|L1|P|2.5||||||8859/1\rPID|1||42^^^MRN||M\u00fcller^J\u00fcrgen\r';

describe('MSH-18 charsets', () => {
  it('maps table 0211 names in one place', () => {
    expect(charsetOf('8859/1')).toBe('latin1');
    expect(charsetOf(' unicode utf-8 ')).toBe('utf-8');
    expect(charsetOf('ASCII')).toBe('latin1');
    expect(charsetOf('8859/1~UNICODE UTF-8')).toBe('latin1');
    expect(charsetOf('')).toBeUndefined();
    expect(charsetOf('KLINGON')).toBeUndefined();
  });

  it('a message declaring 8859/1 keeps writing Latin-1 after a change, even when its input was pure ASCII', () => {
    const m = parseMessage(latin1('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5||||||8859/1\rPID|1||1||X\r'));
    expect(m.charset).toBe('latin1');
    m.set('PID-5', 'Müller');
    expect(hex(m.toBytes())).toContain(hex(latin1('M\u00fcller')));
    expect(hex(m.toBytes())).not.toContain('c3bc');
  });

  it('reads 8859/1 bytes as Latin-1 even when they happen to be valid UTF-8', () => {
    // C3 BC is "Ã¼" in Latin-1 (and "ü" in UTF-8): MSH-18 decides.
    const bytes = latin1('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5||||||8859/1\rPID|1||1||\u00c3\u00bc\r');
    const m = parseMessage(bytes);
    expect(m.get('PID-5')).toBe('\u00c3\u00bc');
    m.set('PID-6', 'x');
    expect(hex(m.toBytes())).toContain('c3bc');
  });

  it('a message parsed from text writes the charset its MSH-18 declares', () => {
    expect(hex(parseMessage(LATIN1_ADT).toBytes())).toBe(hex(latin1(LATIN1_ADT)));
    expect(parseMessage(LATIN1_ADT.replace('8859/1', 'UNICODE UTF-8')).toBytes()).toEqual(new TextEncoder().encode(LATIN1_ADT.replace('8859/1', 'UNICODE UTF-8')));
  });

  it('follows MSH-18 when a transform changes it', () => {
    const m = parseMessage(latin1(LATIN1_ADT));
    m.set('MSH-18', 'UNICODE UTF-8');
    expect(hex(m.toBytes())).toContain(hex(new TextEncoder().encode('M\u00fcller')));
  });
});

describe('ACKs in the sender’s charset', () => {
  it('buildAckBytes gives MSH-3’s very bytes back in MSH-5 and echoes MSH-18', () => {
    const msg = parseMessage(latin1(LATIN1_ADT));
    const ack = buildAckBytes(msg, 'AA');
    const fields = Buffer.from(ack).toString('latin1').split('\r')[0].split('|');
    expect(hex(latin1(fields[4]))).toBe('4dfc');
    expect(fields[17]).toBe('8859/1');
    expect(hex(ack)).not.toContain('c3bc');
    // The parsed form writes the same bytes.
    expect(hex(buildAck(msg, 'AE', { text: 'Fehler für M\u00fc' }).toBytes())).toContain(hex(latin1('f\u00fcr')));
  });

  it('a UTF-8 message gets a UTF-8 ACK and no MSH-18 when it declared none', () => {
    const msg = parseMessage(new TextEncoder().encode('MSH|^~\\&|M\u00fc|F|R|RF|20240101||ADT^A01|U1|P|2.5\r'));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buildAckBytes(msg, 'AA'));
    expect(parseMessage(text).get('MSH-5')).toBe('M\u00fc');
    expect(parseMessage(text).get('MSH-18')).toBeUndefined();
  });
});

describe('lenient headers, precise NACKs', () => {
  it('accepts an MSH-2 holding an unusual but unambiguous character (U+FFFD from a mis-encoding sender)', () => {
    const text = 'MSH|^~\ufffd&|SND|FAC|RCV|FAC|20240101||ADT^A01|R1|P|2.5\rPID|1||7^^^MRN||DOE^JOHN\r';
    const bytes = new TextEncoder().encode(text);
    const m = parseMessage(bytes);
    expect(m.delimiters.escape).toBe('\ufffd');
    expect(m.controlId).toBe('R1');
    expect(m.get('PID-5.2')).toBe('JOHN');
    expect(m.toBytes()).toBe(bytes);
    expect(buildAck(m, 'AA').get('MSA-2')).toBe('R1');
  });

  it('still refuses an ambiguous MSH-2: a letter, or the same character twice', () => {
    expect(() => parseMessage('MSH|A~\\&|S\r')).toThrow(/delimiter/);
    expect(() => parseMessage('MSH|^^\\&|S\r')).toThrow(/same character/);
  });

  it('a NACK for an unreadable header carries MSA-2 = MSH-10 found by splitting on the field separator', () => {
    const raw = 'MSH|^^\\&|SND|FAC|RCV|RFAC|20240101||ADT^A01|CTRL-9|P|2.5||||||8859/1\rPID|1||x\r';
    expect(() => parseMessage(raw)).toThrow();
    const nack = buildNack(new TextEncoder().encode(raw), 'AR', { text: 'unreadable' });
    expect(nack.get('MSA-1')).toBe('AR');
    expect(nack.get('MSA-2')).toBe('CTRL-9');
    expect(nack.get('MSH-5')).toBe('SND');
    expect(nack.get('MSH-3')).toBe('RCV');
    expect(nack.get('MSH-12')).toBe('2.5');
    expect(nack.get('MSH-18')).toBe('8859/1');
    // Nothing to find: still a NACK, with an empty MSA-2.
    expect(buildNack('not hl7 at all', 'AR').get('MSA-2')).toBe('');
  });

  it('a NACK of Latin-1 bytes keeps them Latin-1', () => {
    const raw = latin1('MSH|^^\\&|M\u00fc|FAC|RCV|RFAC|20240101||ADT^A01|C1|P|2.5\r');
    expect(hex(buildNack(raw, 'AR').toBytes())).toContain('4dfc');
  });

  it('ERR-3 codes fit the error', () => {
    const codeOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return ackErrorCode(e);
      }
      throw new Error('did not throw');
    };
    expect(codeOf(() => parseMessage('PID|1||x\rMSH|^~\\&|A\r'))).toBe('100');
    expect(codeOf(() => parseMessage('MSH|^^\\&|A\r'))).toBe('102');
    expect(codeOf(() => parseMessage('MSH|^~\\&|A\r').set('PID-5', 'a|b', { raw: true }))).toBe('102');
    expect(ackErrorCode(new Error('database down'))).toBe('207');
    const problems = validateMessage(parseMessage('MSH|^~\\&|A|B|C|D|20240101||ADT^A01||X|2.5\r'));
    const byPath = (path: string): Hl7Problem => problems.find((p) => p.path.startsWith(path))!;
    expect(problemAckCode(byPath('MSH-10'))).toBe('101');
    expect(problemAckCode(byPath('MSH-11'))).toBe('202');
    expect(problemAckCode({ path: 'PID-7', code: 'hl7.date', message: '', severity: 'error' })).toBe('102');
    expect(problemAckCode({ path: 'PID', code: 'hl7.structure', message: '', severity: 'error' })).toBe('100');
    const nack = buildNack('PID|1\r', 'AR', { error: { code: codeOf(() => parseMessage('PID|1\r')), message: 'no MSH' } });
    expect(nack.get('ERR-3.1')).toBe('100');
    expect(nack.get('ERR-3.2')).toBe('Segment sequence error');
  });
});

describe('splitBatchBytes', () => {
  it('splits a Latin-1 batch file byte-exact: 0xFC stays 0xFC, never EF BF BD', () => {
    const m1 = 'MSH|^~\\&|M\u00fc|F|R|RF|20240101||ADT^A01|B1|P|2.5||||||8859/1\rPID|1||1||M\u00fcller\r';
    const m2 = 'MSH|^~\\&|M\u00fc|F|R|RF|20240101||ADT^A01|B2|P|2.5||||||8859/1\rPID|1||2||Stra\u00dfe\r';
    const file = latin1(`FHS|^~\\&|M\u00fc\rBHS|^~\\&\r${m1}${m2}BTS|2\rFTS|1\r`);
    const parts = splitBatchBytes(file);
    expect(parts.map(hex)).toEqual([hex(latin1(m1)), hex(latin1(m2))]);
    expect(parts.map((p) => parseMessage(p).get('PID-5'))).toEqual(['M\u00fcller', 'Stra\u00dfe']);
  });

  it('keeps UTF-8 bytes too, and skips a leading BOM', () => {
    const m1 = 'MSH|^~\\&|A|F|R|RF|20240101||ADT^A01|U1|P|2.5\rPID|1||1||Z\u00fcrich \u6771\u4eac\r';
    const m2 = 'MSH|^~\\&|A|F|R|RF|20240101||ADT^A01|U2|P|2.5\r';
    const bytes = new TextEncoder().encode(`\ufeff${m1}${m2}`);
    expect(splitBatchBytes(bytes).map(hex)).toEqual([hex(new TextEncoder().encode(m1)), hex(new TextEncoder().encode(m2))]);
  });
});
