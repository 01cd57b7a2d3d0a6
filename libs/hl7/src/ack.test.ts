import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildAck, buildAckText, buildNack, parseMessage, validateMessage } from './index';

const corpusDir = fileURLToPath(new URL('../../../testdata/hl7/', import.meta.url));
const TS = /^\d{14}$/;

describe('buildAck', () => {
  const original = parseMessage(readFileSync(corpusDir + 'hapi__ADT_A04__2.3__01.hl7', 'utf8'));

  it('answers with swapped parties, the trigger and MSA', () => {
    const ack = buildAck(original, 'AA');
    expect(ack.get('MSH-3')).toBe('AGNEW');
    expect(ack.get('MSH-4')).toBe('CORNERCUBICLE');
    expect(ack.get('MSH-5')).toBe('NES');
    expect(ack.get('MSH-6')).toBe('NINTENDO');
    expect(ack.get('MSH-7')).toMatch(TS);
    expect(ack.get('MSH-9')).toBe('ACK^A04^ACK');
    expect(ack.get('MSH-10')).toMatch(/^[0-9A-Z]{1,20}$/);
    expect(ack.get('MSH-10')).not.toBe(original.controlId);
    expect(ack.get('MSH-11')).toBe('P');
    expect(ack.get('MSH-12')).toBe('2.3');
    expect(ack.get('MSA-1')).toBe('AA');
    expect(ack.get('MSA-2')).toBe('Q123456789T123456789X123456');
    expect(ack.get('MSA-3')).toBeUndefined();
    expect(ack.segments().map((s) => s.name)).toEqual(['MSH', 'MSA']);
    expect(ack.toString().endsWith('\r')).toBe(true);
    expect(ack.toString().split('\r')).toHaveLength(3);
    expect(validateMessage(ack).filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('gives unique control ids unless one is given', () => {
    const ids = new Set(Array.from({ length: 200 }, () => buildAck(original, 'AA').controlId));
    expect(ids.size).toBe(200);
    expect(buildAck(original, 'CA', { controlId: 'MY|ID' }).getRaw('MSH-10')).toBe('MY\\F\\ID');
  });

  it('writes an ERR segment, v2.5 style, and escapes the texts', () => {
    const ack = buildAck(original, 'AE', { text: 'bad ^ thing', error: { code: '101', message: 'PID-3 & co missing', location: 'PID-3[2].1' } });
    expect(ack.get('MSA-1')).toBe('AE');
    expect(ack.get('MSA-3')).toBe('bad ^ thing');
    expect(ack.getRaw('MSA-3')).toBe('bad \\S\\ thing');
    expect(ack.get('ERR-2')).toBe('PID^1^3^2^1');
    expect(ack.get('ERR-3.1')).toBe('101');
    expect(ack.get('ERR-3.2')).toBe('Required field missing');
    expect(ack.get('ERR-3.3')).toBe('HL70357');
    expect(ack.get('ERR-4')).toBe('E');
    expect(ack.get('ERR-8')).toBe('PID-3 & co missing');
    const ar = buildAck(original, 'AR', { error: { message: 'nope', severity: 'W', location: 'somewhere else' } });
    expect(ar.get('MSA-3')).toBe('nope');
    expect(ar.get('ERR-2')).toBe('somewhere else');
    expect(ar.get('ERR-3.1')).toBe('207');
    expect(ar.get('ERR-4')).toBe('W');
  });

  it('uses the original delimiters', () => {
    const msg = parseMessage('MSH*%@!#*APP*FAC*RAPP*RFAC*2024**ORU%R01*C-1*T*2.5.1\rPID*1');
    const ack = buildAck(msg, 'AA', { text: 'ok*fine' });
    expect(ack.toString().startsWith('MSH*%@!#*RAPP*RFAC*APP*FAC*')).toBe(true);
    expect(ack.get('MSH-9')).toBe('ACK%R01%ACK');
    expect(ack.get('MSH-11')).toBe('T');
    expect(ack.get('MSH-12')).toBe('2.5.1');
    expect(ack.getRaw('MSA-3')).toBe('ok!F!fine');
    expect(ack.get('MSA-2')).toBe('C-1');
  });

  it('acknowledges a message without a trigger or version', () => {
    const ack = buildAck(parseMessage('MSH|^~\\&|A|B|C|D|||ACK|X1'), 'AA');
    expect(ack.get('MSH-9')).toBe('ACK');
    expect(ack.get('MSH-11')).toBe('P');
    expect(ack.get('MSH-12')).toBe('2.5');
    expect(ack.get('MSA-2')).toBe('X1');
  });
});

describe('buildNack', () => {
  it('salvages an MSH after leading garbage', () => {
    const nack = buildNack('garbage\x00\x01MSH|^~\\&|S|SF|R|RF|||ADT^A08|C9|P|2.4\rPID|', 'AR', { text: 'garbled' });
    expect(nack.get('MSH-3')).toBe('R');
    expect(nack.get('MSH-9')).toBe('ACK^A08^ACK');
    expect(nack.get('MSA-1')).toBe('AR');
    expect(nack.get('MSA-2')).toBe('C9');
    expect(nack.get('MSA-3')).toBe('garbled');
  });

  it('uses the input itself when it parses', () => {
    const nack = buildNack(new TextEncoder().encode('MSH|^~\\&|S|SF|R|RF|||ORU^R01|C7|P|2.5'), 'AE');
    expect(nack.get('MSA-2')).toBe('C7');
  });

  it('builds a minimal ACK for input with no readable MSH', () => {
    for (const raw of ['', 'hello', new Uint8Array([0xff, 0x00, 0x0b]), 'MSH|^^^^|x', 'MSHMSHMSH']) {
      const nack = buildNack(raw, 'AR', { error: { code: '100', message: 'not HL7' } });
      expect(nack.get('MSH-1')).toBe('|');
      expect(nack.get('MSH-2')).toBe('^~\\&');
      expect(nack.get('MSH-7')).toMatch(TS);
      expect(nack.get('MSH-9')).toBe('ACK');
      expect(nack.get('MSH-11')).toBe('P');
      expect(nack.get('MSH-12')).toBe('2.5');
      expect(nack.get('MSA-1')).toBe('AR');
      expect(nack.get('MSA-2')).toBe('');
      expect(nack.get('MSA-3')).toBe('not HL7');
      expect(nack.get('ERR-3.1')).toBe('100');
    }
  });
});

describe('buildAckText', () => {
  it('is the text of buildAck', () => {
    const msg = parseMessage('MSH|^~\\&|SND|SF|RCV|RF|20240101||ADT^A01|C42|P|2.5\rPID|1||1\r');
    const text = buildAckText(msg, 'AA', { controlId: 'X1' });
    const ack = buildAck(msg, 'AA', { controlId: 'X1' });
    expect(text.replace(/\|\d{14}\|/, '|TS|')).toBe(ack.toString().replace(/\|\d{14}\|/, '|TS|'));
    expect(parseMessage(text).get('MSA-2')).toBe('C42');
  });
});
