import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENCODINGS } from './bytes';
import { EnvelopeError } from './envelope-error';
import type { JsonValue, MessageHeader } from './header';
import { MessageBody } from './message-body';
import { MessageEnvelope } from './message-envelope';

const text = fc.string({ unit: 'binary', maxLength: 40 });
// JSON has no -0: a JsonValue is what survives JSON.stringify/JSON.parse, so normalise to that
const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v): JsonValue => JSON.parse(JSON.stringify(v)));
const jsonRecord: fc.Arbitrary<Record<string, JsonValue>> = fc.dictionary(text, jsonValue, {
  maxKeys: 6,
  noNullPrototype: true,
});
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0));
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const headerArb: fc.Arbitrary<MessageHeader> = fc
  .record({
    messageId: text,
    correlationId: text,
    timestamp: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), finite),
    source: text,
    destination: text,
    bodyClassName: text,
    contentType: text,
    schemaVersion: text,
    encoding: fc.constantFrom(...ENCODINGS),
    priority: fc.integer({ min: 0, max: 9 }),
    ttl: optional(fc.oneof(fc.nat(), finite.filter((n) => n >= 0))),
    retryCount: fc.nat(),
    customProperties: jsonRecord,
    parentId: optional(text),
    sessionId: optional(text),
    controlId: optional(text),
    messageType: optional(text),
  })
  .map((h) => {
    // optional fields are absent, never present with undefined
    const header: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(h)) if (value !== undefined) header[key] = value;
    return header as unknown as MessageHeader;
  });

const envelopeArb = fc
  .record({
    header: headerArb,
    raw: fc.uint8Array({ maxLength: 2048 }),
    schemaName: text,
    schemaNamespace: text,
    validated: fc.boolean(),
    validationErrors: fc.array(text, { maxLength: 4 }),
    bodyProperties: jsonRecord,
  })
  .map(
    (e) =>
      new MessageEnvelope(
        e.header,
        new MessageBody({
          raw: e.raw,
          schemaName: e.schemaName,
          schemaNamespace: e.schemaNamespace,
          validated: e.validated,
          validationErrors: e.validationErrors,
          customProperties: e.bodyProperties,
        }),
      ),
  );

function expectSame(a: MessageEnvelope, b: MessageEnvelope): void {
  // toStrictEqual: an optional field absent on one side and `undefined` on the other fails
  expect(b.header).toStrictEqual(a.header);
  expect(b.body.raw).toEqual(a.body.raw);
  expect(b.body.schemaName).toBe(a.body.schemaName);
  expect(b.body.schemaNamespace).toBe(a.body.schemaNamespace);
  expect(b.body.validated).toBe(a.body.validated);
  expect(b.body.validationErrors).toStrictEqual(a.body.validationErrors);
  expect(b.body.customProperties).toStrictEqual(a.body.customProperties);
}

/** Decoding must succeed or fail with envelope.decode, nothing else. */
function decodeOrDecodeError(bytes: Uint8Array): MessageEnvelope | undefined {
  try {
    return MessageEnvelope.fromBytes(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(EnvelopeError);
    expect((e as EnvelopeError).code).toBe('envelope.decode');
    return undefined;
  }
}

describe('toBytes / fromBytes', () => {
  it('round-trips exactly (property)', () => {
    fc.assert(
      fc.property(envelopeArb, (env) => {
        const bytes = env.toBytes();
        expectSame(env, MessageEnvelope.fromBytes(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips a real HL7 envelope, and is compact', () => {
    const raw = new TextEncoder().encode('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|123|P|2.5\rPID|1||42');
    const env = MessageEnvelope.createHl7(raw, { source: 'ADT In', ttl: 1000 });
    env.validate();
    const bytes = env.toBytes();
    expectSame(env, MessageEnvelope.fromBytes(bytes));
    // the raw body is appended as is, the header is a few hundred bytes
    expect(bytes.length).toBeLessThan(raw.length + 400);
    expect(bytes.subarray(bytes.length - raw.length)).toEqual(raw);
  });

  it('copies the raw body out of the input buffer', () => {
    const env = MessageEnvelope.create({ raw: 'abc', source: 's' });
    const bytes = env.toBytes();
    const back = MessageEnvelope.fromBytes(bytes);
    bytes.fill(0);
    expect(back.text()).toBe('abc');
  });

  it('reads from a view into a larger buffer (e.g. a Node Buffer slice)', () => {
    const bytes = MessageEnvelope.create({ raw: 'abc', source: 's' }).toBytes();
    const big = new Uint8Array(bytes.length + 10);
    big.set(bytes, 7);
    expect(MessageEnvelope.fromBytes(big.subarray(7, 7 + bytes.length)).text()).toBe('abc');
  });

  it('every truncation fails with envelope.decode', () => {
    const bytes = MessageEnvelope.create({ raw: 'hello world', source: 's', customProperties: { k: 'v' } }).toBytes();
    for (let n = 0; n < bytes.length; n++) {
      expect(decodeOrDecodeError(bytes.subarray(0, n))).toBeUndefined();
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(decodeOrDecodeError(longer)).toBeUndefined();
  });

  it('corrupt input never throws anything but envelope.decode (property)', () => {
    fc.assert(
      fc.property(envelopeArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (env, flips) => {
        const bytes = env.toBytes();
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        decodeOrDecodeError(bytes);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        decodeOrDecodeError(junk);
        const withMagic = new Uint8Array([0x48, 0x45, 0x4e, 0x56, 1, ...junk]);
        decodeOrDecodeError(withMagic);
      }),
    );
  });

  it('rejects well-framed but wrong metadata', () => {
    const frame = (json: string): Uint8Array => {
      const meta = new TextEncoder().encode(json);
      const out = new Uint8Array(13 + meta.length);
      out.set([0x48, 0x45, 0x4e, 0x56, 1]);
      new DataView(out.buffer).setUint32(5, meta.length);
      out.set(meta, 13);
      return out;
    };
    const good = JSON.stringify(['id', 'c', 1, 's', 'd', 'b', 'text/plain', '', 'utf-8', 5, null, 0, {}, null, null, null, null, '', '', false, [], {}]);
    expect(MessageEnvelope.fromBytes(frame(good)).header.messageId).toBe('id');
    for (const bad of [
      '{}',
      '[]',
      'nope',
      good.replace('"utf-8"', '"utf-16"'),
      good.replace(',5,', ',15,'),
      good.replace('"id"', '7'),
      good.replace('[],{}]', '[1],{}]'),
      good.replace('{}]', '[]]'),
      good.replace(',false,', ',"false",'),
      good.replace(',null,0,', ',-5,0,'),
    ]) {
      expect(decodeOrDecodeError(frame(bad)), bad).toBeUndefined();
    }
    const wrongVersion = frame(good);
    wrongVersion[4] = 2;
    expect(() => MessageEnvelope.fromBytes(wrongVersion)).toThrow(/version/);
  });
});
