import { describe, expect, it } from 'vitest';
import { Hl7Error, isHl7Error, parseMessage } from './index';
import { fieldSplitCount } from './message';

const ADT = [
  'MSH|^~\\&|SEND|SFAC|RECV|RFAC|20240102030405||ADT^A01^ADT_A01|CTRL1|P|2.5',
  'EVN|A01|20240102030405',
  'PID|1||123^^^HOSP^MR~456^^^NHS^NH||DOE^JOHN^Q\\T\\R||19800101|M|||1 Main St^^Town\\S\\Shire',
  'PV1|1|I|W1^R2^B3',
  'OBX|1|TX|A||first',
  'OBX|2|TX|B||second~second-b',
  'OBX|3|TX|C||third\\.br\\line',
].join('\r');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseMessage', () => {
  it('rejects input that is not HL7 with hl7.parse', () => {
    for (const bad of ['', '   ', 'hello', 'PID|1', 'MSH', 'MSH\r', 'MSHA^~\\&|', 'MSH||x', 'MSH|^^\\&|', 'MSH|^~\\&abcd|', 'MSH\n|^~\\&', 'MSH|^~&|']) {
      const e = thrown(() => parseMessage(bad));
      expect(isHl7Error(e, 'hl7.parse'), JSON.stringify(bad)).toBe(true);
      expect((e as Hl7Error).kind).toBe('user');
    }
    expect(isHl7Error(thrown(() => parseMessage(new Uint8Array([0xff, 0xfe, 0x00]))), 'hl7.parse')).toBe(true);
    expect(isHl7Error(thrown(() => parseMessage(42 as unknown as string)), 'hl7.parse')).toBe(true);
  });

  it('accepts leading whitespace, a BOM and a short MSH-2', () => {
    const m = parseMessage('\uFEFF\r\n  MSH|^~|A|B');
    expect(m.hasBom).toBe(true);
    expect(m.get('MSH-3')).toBe('A');
    expect(m.delimiters).toMatchObject({ field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' });
    expect(m.toString()).toBe('\r\n  MSH|^~|A|B');
  });

  it('honours the message delimiters', () => {
    const m = parseMessage('MSH*%@!#*APP*FAC*RAPP**2024**ADT%A01*C1*P*2.4\rPID*1**A%B@C%D**X!F!Y!S!Z#W');
    expect(m.delimiters).toMatchObject({ field: '*', component: '%', repetition: '@', escape: '!', subcomponent: '#' });
    expect(m.get('MSH-1')).toBe('*');
    expect(m.get('MSH-2')).toBe('%@!#');
    expect(m.messageType).toBe('ADT^A01');
    expect(m.getAll('PID-3.1')).toEqual(['A', 'C']);
    expect(m.get('PID-3[2].2')).toBe('D');
    expect(m.get('PID-5.1')).toBe('X!F!Y!S!Z#W');
    expect(m.get('PID-5.1.1')).toBe('X*Y%Z');
    expect(m.get('PID-5.1.2')).toBe('W');
    m.set('PID-6', 'a*b%c@d!e#f');
    expect(m.get('PID-6')).toBe('a*b%c@d!e#f');
    expect(m.toString().endsWith('PID*1**A%B@C%D**X!F!Y!S!Z#W*a!F!b!S!c!R!d!E!e!T!f')).toBe(true);
  });

  it('reads the v2.7 truncation character', () => {
    const m = parseMessage('MSH|^~\\&#|A||||||ADT^A01|1|P|2.7\rNTE|1||cut\\P\\here');
    expect(m.delimiters.truncation).toBe('#');
    expect(m.get('NTE-3')).toBe('cut#here');
  });

  it('keeps every segment terminator style', () => {
    for (const eol of ['\r', '\n', '\r\n']) {
      const text = ADT.replace(/\r/g, eol);
      const m = parseMessage(text);
      expect(m.segments().length).toBe(7);
      expect(m.toString()).toBe(text);
      m.set('PV1-2', 'O');
      expect(m.toString()).toBe(text.replace('PV1|1|I|', 'PV1|1|O|'));
    }
    const mixed = 'MSH|^~\\&|A\r\nEVN|x\n\nPID|1\r  \r\nPV1|2\n';
    const m = parseMessage(mixed);
    expect(m.segments().map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    expect(m.toString()).toBe(mixed);
    m.set('PID-2', 'y');
    expect(m.toString()).toBe(mixed.replace('PID|1', 'PID|1|y'));
  });

  it('reads ISO-8859-1 bytes that are not UTF-8 and writes them back', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('MSH|^~\\&|A||||||ADT^A01|1|P|2.3||||||8859/1\rPID|1||1||M'), 0xfc, 0x6c, 0x6c, 0x65, 0x72]);
    const m = parseMessage(bytes);
    expect(m.charset).toBe('latin1');
    expect(m.get('PID-5')).toBe('Müller');
    expect(m.toBytes()).toBe(bytes);
    m.set('PID-6', 'Größe');
    const out = m.toBytes();
    expect(Array.from(out.subarray(out.length - 6))).toEqual([0x7c, 0x47, 0x72, 0xf6, 0xdf, 0x65]);
  });

  it('gives back the bytes with or without a BOM', () => {
    const m = parseMessage('MSH|^~\\&|A');
    expect(m.hasBom).toBe(false);
    expect(Array.from(m.toBytes({ bom: true }).subarray(0, 4))).toEqual([0xef, 0xbb, 0xbf, 0x4d]);
    expect(m.toBytes().length).toBe(10);
  });
});

describe('get', () => {
  const m = parseMessage(ADT);

  it('reads fields, components, subcomponents and repetitions', () => {
    expect(m.get('MSH-9')).toBe('ADT^A01^ADT_A01');
    expect(m.get('MSH-9.2')).toBe('A01');
    expect(m.get('MSH-10')).toBe('CTRL1');
    expect(m.get('PID-3')).toBe('123^^^HOSP^MR');
    expect(m.get('PID-3.1')).toBe('123');
    expect(m.get('PID-3[2].1')).toBe('456');
    expect(m.get('PID-3[2]')).toBe('456^^^NHS^NH');
    expect(m.get('PID-3[3]')).toBeUndefined();
    expect(m.get('PID-3.2')).toBe('');
    expect(m.get('PID-3.9')).toBeUndefined();
    expect(m.get('PID-3.1.1')).toBe('123');
    expect(m.get('PID-3.1.2')).toBeUndefined();
    expect(m.get('PID-4')).toBe('');
    expect(m.get('PID-99')).toBeUndefined();
    expect(m.get('ZZZ-1')).toBeUndefined();
    expect(m.get('PID')).toBe(ADT.split('\r')[2]);
  });

  it('unescapes leaves and keeps compound values raw', () => {
    expect(m.get('PID-5.3')).toBe('Q&R');
    expect(m.get('PID-5')).toBe('DOE^JOHN^Q\\T\\R');
    expect(m.get('PID-11.3')).toBe('Town^Shire');
    expect(m.get('OBX[3]-5')).toBe('third\nline');
    expect(m.getRaw('OBX[3]-5')).toBe('third\\.br\\line');
    expect(m.getRaw('PID-3')).toBe('123^^^HOSP^MR~456^^^NHS^NH');
    expect(m.getRaw('PID-3[2].4')).toBe('NHS');
  });

  it('addresses segment occurrences', () => {
    expect(m.get('OBX-3')).toBe('A');
    expect(m.get('OBX[1]-3')).toBe('A');
    expect(m.get('OBX[3]-3')).toBe('C');
    expect(m.get('OBX[4]-3')).toBeUndefined();
    expect(m.getAll('OBX-5')).toEqual(['first', 'second', 'second-b', 'third\nline']);
    expect(m.getAll('OBX-5[1]')).toEqual(['first', 'second', 'third\nline']);
    expect(m.getAll('OBX[2]-5')).toEqual(['second', 'second-b']);
    expect(m.getAll('PID-3.1')).toEqual(['123', '456']);
    expect(m.getAll('OBX')).toHaveLength(3);
    expect(m.getAll('NTE-1')).toEqual([]);
  });

  it('exposes the header shortcuts', () => {
    expect(m.messageType).toBe('ADT^A01');
    expect(m.controlId).toBe('CTRL1');
    expect(m.version).toBe('2.5');
    const ack = parseMessage('MSH|^~\\&|||||||ACK||P|2.5\rMSA|AA|1');
    expect(ack.messageType).toBe('ACK');
    expect(ack.controlId).toBeUndefined();
    expect(parseMessage('MSH|^~\\&').messageType).toBeUndefined();
  });

  it('throws hl7.path for invalid paths', () => {
    for (const bad of ['', 'PI', 'pid-3', 'PID-', 'PID-0', 'PID-3.', 'PID-3.0', 'PID-3[0]', 'PID-3[', 'PID-3]', 'PID-3.1.2.3', 'PID3', 'PID-a', 'MSH-2.1', 'MSH-1[1]', 'PID-99999', '1ID-3', 'PID-3 ']) {
      const e = thrown(() => m.get(bad));
      expect(isHl7Error(e, 'hl7.path'), bad).toBe(true);
    }
  });

  it('stays lazy: reading MSH-9 splits only the MSH', () => {
    const msg = parseMessage(ADT);
    expect(msg.splitState()).toEqual([false, false, false, false, false, false, false]);
    const before = fieldSplitCount();
    expect(msg.get('MSH-9')).toBe('ADT^A01^ADT_A01');
    expect(msg.get('MSH-10')).toBe('CTRL1');
    expect(fieldSplitCount() - before).toBe(1);
    expect(msg.splitState()).toEqual([true, false, false, false, false, false, false]);
    msg.get('PID-3');
    expect(msg.splitState()).toEqual([true, false, true, false, false, false, false]);
    expect(fieldSplitCount() - before).toBe(2);
  });
});

describe('segments', () => {
  it('gives live views', () => {
    const m = parseMessage(ADT);
    const segs = m.segments();
    expect(segs.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'OBX', 'OBX', 'OBX']);
    const msh = segs[0];
    expect(msh.field(1)).toBe('|');
    expect(msh.field(2)).toBe('^~\\&');
    expect(msh.field(9)).toBe('ADT^A01^ADT_A01');
    expect(msh.fieldCount).toBe(12);
    expect(msh.get(9, 2)).toBe('A01');
    expect(msh.components(9)).toEqual(['ADT', 'A01', 'ADT_A01']);
    const pid = m.segment('PID')!;
    expect(pid.index).toBe(2);
    expect(pid.fieldCount).toBe(11);
    expect(pid.repetitionCount(3)).toBe(2);
    expect(pid.repetitionCount(4)).toBe(1);
    expect(pid.repetitionCount(40)).toBe(0);
    expect(pid.components(3, 2)).toEqual(['456', '', '', 'NHS', 'NH']);
    expect(pid.components(5)).toEqual(['DOE', 'JOHN', 'Q&R']);
    expect(pid.components(3, 3)).toEqual([]);
    expect(pid.get(3, 1, undefined, 2)).toBe('456');
    expect(m.segments('OBX').map((s) => s.index)).toEqual([4, 5, 6]);
    expect(m.segment('OBX', 2)?.get(5)).toBe('second');
    m.set('PID-3[2].1', '789');
    expect(pid.components(3, 2)[0]).toBe('789');
    expect(String(pid)).toContain('~789^');
    m.removeSegments('PID');
    expect(pid.index).toBe(-1);
  });
});

describe('set', () => {
  it('changes only what was set', () => {
    const m = parseMessage(ADT);
    m.set('PID-5.2', 'JANE');
    expect(m.modified).toBe(true);
    expect(m.toString()).toBe(ADT.replace('DOE^JOHN^', 'DOE^JANE^'));
  });

  it('escapes values, also line breaks', () => {
    const m = parseMessage(ADT);
    m.set('OBX-5', 'a|b^c~d\\e&f\r\ng');
    expect(m.getRaw('OBX-5')).toBe('a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\.br\\g');
    expect(m.get('OBX-5')).toBe('a|b^c~d\\e&f\ng');
    expect(m.segments()).toHaveLength(7);
  });

  it('creates fields, repetitions, components and subcomponents, padding with empty ones', () => {
    const m = parseMessage('MSH|^~\\&|A\rPID|1');
    m.set('PID-5.3.2', 'x');
    expect(m.get('PID')).toBe('PID|1||||^^&x');
    m.set('PID-3[3].2', 'y');
    expect(m.get('PID')).toBe('PID|1||~~^y||^^&x');
    m.set('MSH-12', '2.5');
    expect(m.get('MSH')).toBe('MSH|^~\\&|A|||||||||2.5');
    expect(m.version).toBe('2.5');
  });

  it('replaces a whole field without a repetition, one repetition with it', () => {
    const m = parseMessage(ADT);
    m.set('PID-3[2]', 'N1');
    expect(m.getRaw('PID-3')).toBe('123^^^HOSP^MR~N1');
    m.set('PID-3', 'ONLY');
    expect(m.getAll('PID-3')).toEqual(['ONLY']);
    m.set('PID-3.4', 'AUTH');
    expect(m.getRaw('PID-3')).toBe('ONLY^^^AUTH');
  });

  it('writes raw values when asked, and refuses unsafe ones', () => {
    const m = parseMessage(ADT);
    m.set('PID-5', 'ROE^RICHARD', { raw: true });
    expect(m.get('PID-5.2')).toBe('RICHARD');
    m.set('NK1-2', m.getRaw('PID-3') ?? '', { raw: true });
    expect(m.getAll('NK1-2.1')).toEqual(['123', '456']);
    for (const [path, v] of [
      ['PID-5', 'a|b'],
      ['PID-5', 'a\rb'],
      ['PID-5[1]', 'a~b'],
      ['PID-5.1', 'a^b'],
      ['PID-5.1.1', 'a&b'],
    ]) {
      expect(isHl7Error(thrown(() => m.set(path, v, { raw: true })), 'hl7.value'), `${path} ${v}`).toBe(true);
    }
  });

  it('creates the next occurrence of a segment, and only that one', () => {
    const m = parseMessage(ADT);
    m.set('OBX[4]-5', 'fourth');
    expect(m.segments().map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1', 'OBX', 'OBX', 'OBX', 'OBX']);
    expect(m.toString().endsWith('\rOBX|||||fourth')).toBe(true);
    m.set('ZPD-2', 'z');
    expect(m.toString().endsWith('\rOBX|||||fourth\rZPD||z')).toBe(true);
    expect(isHl7Error(thrown(() => m.set('OBX[9]-1', 'x')), 'hl7.path')).toBe(true);
    expect(isHl7Error(thrown(() => m.set('MSH-1', '#')), 'hl7.path')).toBe(true);
    expect(isHl7Error(thrown(() => m.set('MSH-2', '^~')), 'hl7.path')).toBe(true);
    expect(isHl7Error(thrown(() => m.set('PID', 'x')), 'hl7.path')).toBe(true);
  });

  it('keeps the original terminators when adding to a message with a final terminator', () => {
    const m = parseMessage('MSH|^~\\&|A\r\nPID|1\r\n');
    m.set('PV1-2', 'I');
    expect(m.toString()).toBe('MSH|^~\\&|A\r\nPID|1\r\nPV1||I\r\n');
  });
});

describe('delete', () => {
  it('clears fields, repetitions and components, and ignores what is absent', () => {
    const m = parseMessage(ADT);
    expect(m.delete('PID-5.2')).toBe(true);
    expect(m.getRaw('PID-5')).toBe('DOE^^Q\\T\\R');
    expect(m.delete('PID-3[2]')).toBe(true);
    expect(m.getRaw('PID-3')).toBe('123^^^HOSP^MR~');
    expect(m.delete('PID-3')).toBe(true);
    expect(m.get('PID-3')).toBe('');
    expect(m.delete('PID-40')).toBe(false);
    expect(m.delete('NK1-1')).toBe(false);
    expect(m.delete('PID-5.9')).toBe(false);
    expect(isHl7Error(thrown(() => m.delete('PID')), 'hl7.path')).toBe(true);
    expect(m.toString().split('\r')[2]).toBe('PID|1||||DOE^^Q\\T\\R||19800101|M|||1 Main St^^Town\\S\\Shire');
  });
});

describe('addSegment / removeSegments', () => {
  it('inserts after the last occurrence of a segment, or at the end', () => {
    const m = parseMessage(ADT);
    m.addSegment('NTE|1||note', { after: 'OBX' });
    m.addSegment('NK1|1|ROE^JANE', { after: 'PID' });
    m.addSegment('ZX1|a', { after: 'OBX[1]' });
    m.addSegment('ZX2|b');
    m.addSegment('ZX3|c', { after: 'ABC' });
    expect(m.segments().map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'NK1', 'PV1', 'OBX', 'ZX1', 'OBX', 'OBX', 'NTE', 'ZX2', 'ZX3']);
    expect(m.toString()).toContain('\rNK1|1|ROE^JANE\rPV1|');
    expect(m.toString().endsWith('OBX|3|TX|C||third\\.br\\line\rNTE|1||note\rZX2|b\rZX3|c')).toBe(true);
  });

  it('keeps LF terminators and a final terminator', () => {
    const m = parseMessage('MSH|^~\\&|A\nPID|1\n');
    m.addSegment('ZPD|1\n');
    expect(m.toString()).toBe('MSH|^~\\&|A\nPID|1\nZPD|1\n');
  });

  it('refuses bad segments', () => {
    const m = parseMessage(ADT);
    for (const bad of ['PID|1\rPV1|2', 'pid|1', 'MSH|^~\\&', 'PIDX', '', 'AB|x']) {
      expect(isHl7Error(thrown(() => m.addSegment(bad)), 'hl7.value'), bad).toBe(true);
    }
    expect(isHl7Error(thrown(() => m.addSegment('ZPD|1', { after: 'PID-3' })), 'hl7.path')).toBe(true);
  });

  it('removes all segments of a name, or one occurrence', () => {
    const m = parseMessage(ADT);
    expect(m.removeSegments('OBX[2]')).toBe(1);
    expect(m.getAll('OBX-1')).toEqual(['1', '3']);
    expect(m.removeSegments('OBX')).toBe(2);
    expect(m.removeSegments('NTE')).toBe(0);
    expect(m.toString()).toBe(ADT.split('\r').slice(0, 4).join('\r'));
    expect(isHl7Error(thrown(() => m.removeSegments('MSH')), 'hl7.path')).toBe(true);
  });
});

describe('clone', () => {
  it('is independent', () => {
    const m = parseMessage(ADT);
    const c = m.clone();
    c.set('PID-3.1', 'X');
    expect(m.get('PID-3.1')).toBe('123');
    expect(c.get('PID-3.1')).toBe('X');
  });
});

describe('Hl7Error', () => {
  it('serialises to JSON and is matched by code', () => {
    const e = new Hl7Error('hl7.path', 'bad', { details: { path: 'X' } });
    expect(e.toJSON()).toEqual({ name: 'Hl7Error', code: 'hl7.path', kind: 'user', message: 'bad', details: { path: 'X' } });
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ code: 'hl7.path' });
    expect(isHl7Error({ code: 'mllp.garbled' })).toBe(true);
    expect(isHl7Error({ code: 'queue.full' })).toBe(false);
    expect(isHl7Error(new Error('x'))).toBe(false);
    expect(isHl7Error(e, 'hl7.parse')).toBe(false);
  });
});
