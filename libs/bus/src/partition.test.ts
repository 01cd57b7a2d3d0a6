import { describe, expect, it } from 'vitest';
import { MessageEnvelope } from '@hie/envelope';
import { hashKey, partitionKeyOf, partitionOf, traceparentOf } from './partition';

const adt = (pid3: string) =>
  MessageEnvelope.createHl7(`MSH|^~\\&|LAB|HOSP|HIE|HOSP|20260101120000||ADT^A01|C1|P|2.5.1\rPID|1||${pid3}||DOE^JOHN\r`, { source: 't' });

describe('partition keys', () => {
  it('reads PID-3.1 (or any HL7 path) from an HL7 v2 body', () => {
    expect(partitionKeyOf(adt('12345^^^HOSP^MR'), 'PID-3.1')).toBe('12345');
    expect(partitionKeyOf(adt('12345^^^HOSP^MR'), 'PID-3.4')).toBe('HOSP');
  });

  it('gives the empty key to a body that is not HL7 v2 or lacks the field', () => {
    expect(partitionKeyOf(MessageEnvelope.create({ raw: '{"a":1}', source: 't', contentType: 'application/json' }), 'PID-3.1')).toBe('');
    expect(partitionKeyOf(adt(''), 'PID-3.1')).toBe('');
  });

  it('the same patient always lands on the same partition; different ones spread', () => {
    expect(partitionOf(adt('A1^^^X'), 'PID-3.1', 16)).toBe(partitionOf(adt('A1^^^Y'), 'PID-3.1', 16));
    const used = new Set(Array.from({ length: 200 }, (_, i) => partitionOf(adt(`P${i}`), 'PID-3.1', 16)));
    expect(used.size).toBe(16);
  });

  it('hashes with 32-bit FNV-1a (stable across nodes and releases)', () => {
    expect(hashKey('')).toBe(0x811c9dc5);
    expect(hashKey('a')).toBe(0xe40c292c);
    expect(hashKey('foobar')).toBe(0xbf9cf968);
  });
});

describe('traceparentOf', () => {
  it('returns a well-formed W3C traceparent and ignores anything else', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceparentOf(MessageEnvelope.create({ raw: 'x', source: 't', customProperties: { traceparent: tp } }))).toBe(tp);
    expect(traceparentOf(MessageEnvelope.create({ raw: 'x', source: 't', customProperties: { traceparent: 'nope' } }))).toBeUndefined();
    expect(traceparentOf(MessageEnvelope.create({ raw: 'x', source: 't' }))).toBeUndefined();
  });
});
