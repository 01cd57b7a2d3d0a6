import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_TYPES, registerCodec } from './codecs';
import { EnvelopeError } from './envelope-error';
import { MessageEnvelope } from './message-envelope';
import { uuidv7Time } from './uuid';

const corpus = new URL('../../../testdata/hl7/', import.meta.url);
const adt = new Uint8Array(readFileSync(new URL('hapi__ADT_A01__2.4__01.hl7', corpus)));
const bomLf = new Uint8Array(readFileSync(new URL('msfhirconv__VXU_V04__2.5.1__01.hl7', corpus)));
const enc = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof EnvelopeError ? e.code : `not an EnvelopeError: ${String(e)}`;
  }
  return undefined;
}

describe('MessageEnvelope.create', () => {
  it('fills defaults', () => {
    const before = Date.now();
    const env = MessageEnvelope.create({ raw: 'hello', source: 'File In' });
    const h = env.header;
    expect(h).toEqual({
      messageId: h.messageId,
      correlationId: h.messageId,
      timestamp: h.timestamp,
      source: 'File In',
      destination: '',
      bodyClassName: 'text',
      contentType: 'text/plain',
      schemaVersion: '',
      encoding: 'utf-8',
      priority: 5,
      retryCount: 0,
      customProperties: {},
    });
    expect(Object.keys(h)).not.toContain('ttl');
    expect(h.timestamp).toBeGreaterThanOrEqual(before);
    // the id embeds the creation time (the v7 counter may push it on by a millisecond)
    expect(Math.abs((uuidv7Time(h.messageId) ?? 0) - h.timestamp)).toBeLessThanOrEqual(1);
    expect(env.body.raw).toEqual(enc('hello'));
    expect(env.body.validated).toBe(false);
    expect(env.text()).toBe('hello');
  });

  it('bytes default to binary octet-stream', () => {
    const env = MessageEnvelope.create({ raw: new Uint8Array([1, 2]), source: 's' });
    expect(env.header).toMatchObject({ contentType: 'application/octet-stream', encoding: 'binary', bodyClassName: 'binary' });
    expect(env.text()).toBe('AQI=');
    expect(env.parse()).toBe(env.body.raw);
  });

  it('rejects bad fields with envelope.invalid', () => {
    expect(codeOf(() => MessageEnvelope.create({ raw: '', source: 's', priority: 10 }))).toBe('envelope.invalid');
    expect(codeOf(() => MessageEnvelope.create({ raw: '', source: 's', priority: 1.5 }))).toBe('envelope.invalid');
    expect(codeOf(() => MessageEnvelope.create({ raw: '', source: 's', ttl: -1 }))).toBe('envelope.invalid');
    expect(codeOf(() => MessageEnvelope.create({ raw: '', source: 's', retryCount: -1 }))).toBe('envelope.invalid');
    expect(codeOf(() => MessageEnvelope.create({ raw: '', source: 's', timestamp: NaN }))).toBe('envelope.invalid');
    expect(codeOf(() => MessageEnvelope.create({ raw: '$$', source: 's', encoding: 'base64' }))).toBe('envelope.invalid');
    expect(codeOf(() => MessageEnvelope.create(JSON.parse('{"raw":"","source":1}')))).toBe('envelope.invalid');
  });
});

describe('MessageEnvelope.createHl7', () => {
  it('fills the header from MSH', () => {
    const env = MessageEnvelope.createHl7(adt, { source: 'ADT In' });
    expect(env.header).toMatchObject({
      source: 'ADT In',
      destination: '',
      correlationId: '22139243',
      controlId: '22139243',
      messageType: 'ADT^A01',
      schemaVersion: '2.4',
      contentType: 'application/hl7-v2+er7',
      bodyClassName: 'hl7.v2',
      encoding: 'utf-8',
      priority: 5,
    });
    expect(env.body.schemaName).toBe('ADT_A01');
    expect(env.body.schemaNamespace).toBe('urn:hl7-org:v2');
    expect(env.body.raw).toBe(adt); // raw-first: the bytes as received, not copied
  });

  it('handles BOM + LF files and strings; options win over MSH', () => {
    const env = MessageEnvelope.createHl7(bomLf, { source: 'in', priority: 9, correlationId: 'c-1', destination: 'Route' });
    expect(env.header).toMatchObject({ schemaVersion: '2.5.1', messageType: 'VXU^V04', correlationId: 'c-1', priority: 9, destination: 'Route' });
    expect(env.header.controlId).toBeTruthy();
    const fromText = MessageEnvelope.createHl7('MSH|^~\\&|A|B|C|D|20240101||ORU^R01^ORU_R01|X9|P|2.5\rOBX|1', { source: 'in' });
    expect(fromText.header).toMatchObject({ correlationId: 'X9', messageType: 'ORU^R01', schemaVersion: '2.5' });
    expect(fromText.body.schemaName).toBe('ORU_R01');
    expect(fromText.text()).toContain('OBX|1');
  });

  it('takes the encoding from MSH-18 for bytes', () => {
    const raw = new Uint8Array([...enc('MSH|^~\\&|Caf'), 0xe9, ...enc('||||||ADT^A01|1|P|2.4||||||8859/1')]);
    const env = MessageEnvelope.createHl7(raw, { source: 'in' });
    expect(env.header.encoding).toBe('latin1');
    expect(env.text()).toContain('Café');
  });

  it('never rejects content: no MSH still gives an envelope', () => {
    const env = MessageEnvelope.createHl7('garbage', { source: 'in' });
    expect(env.header.correlationId).toBe(env.header.messageId);
    expect(env.header.schemaVersion).toBe('');
    expect(env.body.schemaName).toBe('');
    expect('controlId' in env.header).toBe(false);
  });
});

describe('parse and validate', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const undo of cleanup.splice(0)) undo();
  });

  it('HL7 without a registered codec: parse throws envelope.no_codec, validate records it', () => {
    const env = MessageEnvelope.createHl7(adt, { source: 'in' });
    expect(codeOf(() => env.parse())).toBe('envelope.no_codec');
    expect(env.validate()).toBe(false);
    expect(env.body.validationErrors[0]).toMatch(/no codec/);
  });

  it('dispatches to a registered codec, caches, and invalidates when raw changes', () => {
    let calls = 0;
    cleanup.push(
      registerCodec({
        contentType: CONTENT_TYPES.hl7v2,
        parse: (raw) => {
          calls++;
          return { segments: new TextDecoder().decode(raw).split(/\r\n|\r|\n/).length };
        },
        validate: (parsed) => ((parsed as { segments: number }).segments > 1 ? [] : ['one segment only']),
      }),
    );
    const env = MessageEnvelope.createHl7(adt, { source: 'in' });
    const first = env.parse<{ segments: number }>();
    expect(first.segments).toBe(7);
    expect(env.parse()).toBe(first);
    expect(calls).toBe(1);
    expect(env.body.isParsed).toBe(true);
    expect(env.validate()).toBe(true);
    expect(env.body.validated).toBe(true);
    expect(calls).toBe(1);

    env.body.raw = enc('MSH|^~\\&');
    expect(env.body.validated).toBe(false);
    expect(env.body.isParsed).toBe(false);
    expect(env.validate()).toBe(false);
    expect(env.body.validationErrors).toEqual(['one segment only']);
    expect(calls).toBe(2);
  });

  it('re-parses when the content type changes', () => {
    const env = MessageEnvelope.create({ raw: '{"a":1}', source: 's', contentType: 'application/json' });
    expect(env.parse()).toEqual({ a: 1 });
    env.header.contentType = 'text/plain';
    expect(env.parse()).toBe('{"a":1}');
  });

  it('JSON and FHIR JSON', () => {
    const patient = MessageEnvelope.create({ raw: '{"resourceType":"Patient","id":"p1"}', source: 's', contentType: 'application/fhir+json' });
    expect(patient.header.bodyClassName).toBe('fhir.resource');
    expect(patient.parse()).toEqual({ resourceType: 'Patient', id: 'p1' });
    expect(patient.validate()).toBe(true);

    const noType = MessageEnvelope.create({ raw: '{"id":"p1"}', source: 's', contentType: 'application/fhir+json' });
    expect(noType.validate()).toBe(false);
    expect(noType.body.validationErrors[0]).toMatch(/resourceType/);

    const broken = MessageEnvelope.create({ raw: '{"a":', source: 's', contentType: 'application/json' });
    expect(codeOf(() => broken.parse())).toBe('envelope.parse');
    expect(broken.validate()).toBe(false);
    expect(broken.body.validationErrors[0]).toMatch(/invalid JSON/);
  });

  it('XML', () => {
    const ok = MessageEnvelope.create({ raw: '<?xml version="1.0"?><ClinicalDocument/>', source: 's', contentType: 'application/xml' });
    expect(ok.parse()).toEqual({ text: '<?xml version="1.0"?><ClinicalDocument/>', rootElement: 'ClinicalDocument' });
    expect(ok.validate()).toBe(true);
    const bad = MessageEnvelope.create({ raw: '<a><b></a>', source: 's', contentType: 'application/xml' });
    expect(bad.validate()).toBe(false);
    expect(bad.body.validationErrors[0]).toMatch(/invalid XML: <\/a> closes <b>/);
  });

  it('unknown content type and throwing codecs never make validate throw', () => {
    const env = MessageEnvelope.create({ raw: 'x', source: 's', contentType: 'image/png' });
    expect(codeOf(() => env.parse())).toBe('envelope.no_codec');
    expect(env.validate()).toBe(false);

    cleanup.push(
      registerCodec({
        contentType: 'application/x-bad',
        parse: () => {
          throw new TypeError('boom');
        },
      }),
      registerCodec({
        contentType: 'application/x-bad-validate',
        parse: () => 1,
        validate: () => {
          throw new Error('validator crashed');
        },
      }),
    );
    const bad = MessageEnvelope.create({ raw: 'x', source: 's', contentType: 'application/x-bad' });
    expect(codeOf(() => bad.parse())).toBe('envelope.parse');
    expect(bad.validate()).toBe(false);
    const badValidate = MessageEnvelope.create({ raw: 'x', source: 's', contentType: 'application/x-bad-validate' });
    expect(badValidate.validate()).toBe(false);
    expect(badValidate.body.validationErrors).toEqual(['validator crashed']);
  });

  it('a codec error that carries a code is passed through', () => {
    cleanup.push(
      registerCodec({
        contentType: 'application/x-coded',
        parse: () => {
          throw Object.assign(new Error('bad MSH'), { code: 'hl7.parse' });
        },
      }),
    );
    const env = MessageEnvelope.create({ raw: 'x', source: 's', contentType: 'application/x-coded' });
    expect(() => env.parse()).toThrow(expect.objectContaining({ code: 'hl7.parse' }));
  });
});

describe('derive, copy, expire', () => {
  it('withBody: new id, parent, same correlation, session root', () => {
    const root = MessageEnvelope.createHl7(adt, { source: 'in', customProperties: { site: 'A', tags: ['x'] }, ttl: 60_000 });
    root.header.retryCount = 2;
    const child = root.withBody('{"ok":true}', { contentType: 'application/json', source: 'Route', schemaName: 'Ack' });
    expect(child.header.messageId).not.toBe(root.header.messageId);
    expect(child.header.parentId).toBe(root.header.messageId);
    expect(child.header.sessionId).toBe(root.header.messageId);
    expect(child.header.correlationId).toBe(root.header.correlationId);
    expect(child.header.retryCount).toBe(0);
    expect(child.header.source).toBe('Route');
    expect(child.header.ttl).toBe(60_000);
    expect(child.header.customProperties).toEqual({ site: 'A', tags: ['x'] });
    expect(child.header.customProperties.tags).not.toBe(root.header.customProperties.tags);
    expect(child.body.schemaName).toBe('Ack');
    expect(child.body.schemaNamespace).toBe('urn:hl7-org:v2');
    expect(child.parse()).toEqual({ ok: true });

    const grandchild = child.withBody(new Uint8Array([1]));
    expect(grandchild.header.sessionId).toBe(root.header.messageId);
    expect(grandchild.header.parentId).toBe(child.header.messageId);
    expect(codeOf(() => child.withBody('x', { priority: 42 }))).toBe('envelope.invalid');
  });

  it('clone is deep and keeps ids and validation state', () => {
    const env = MessageEnvelope.create({ raw: '{}', source: 's', contentType: 'application/json', customProperties: { a: { b: 1 } } });
    env.validate();
    const copy = env.clone();
    expect(copy.toJSON()).toEqual(env.toJSON());
    expect(copy.body.raw).not.toBe(env.body.raw);
    expect(copy.header.customProperties.a).not.toBe(env.header.customProperties.a);
    expect(copy.body.validated).toBe(true);
    expect(copy.body.isParsed).toBe(false);
    expect(Object.keys(copy.header)).toEqual(Object.keys(env.header));
  });

  it('isExpired', () => {
    const env = MessageEnvelope.create({ raw: '', source: 's', timestamp: 1000, ttl: 500 });
    expect(env.isExpired(1500)).toBe(false);
    expect(env.isExpired(1501)).toBe(true);
    expect(MessageEnvelope.create({ raw: '', source: 's', timestamp: 0 }).isExpired(Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('JSON form', () => {
  it('round-trips with the raw body in base64', () => {
    const env = MessageEnvelope.createHl7(adt, { source: 'in', sessionId: 's1' });
    env.validate();
    const json = JSON.parse(JSON.stringify(env));
    expect(typeof json.body.raw).toBe('string');
    const back = MessageEnvelope.fromJSON(json);
    expect(back.header).toStrictEqual(env.header);
    expect(back.body.raw).toEqual(env.body.raw);
    expect(back.body.validationErrors).toEqual(env.body.validationErrors);
    expect(back.toJSON()).toEqual(env.toJSON());
  });

  it('rejects junk with envelope.decode', () => {
    const good = MessageEnvelope.create({ raw: 'x', source: 's' }).toJSON();
    for (const junk of [null, 1, {}, { header: {}, body: {} }, { ...good, body: { ...good.body, raw: '%%' } }, { ...good, header: { ...good.header, priority: 'high' } }]) {
      expect(codeOf(() => MessageEnvelope.fromJSON(junk))).toBe('envelope.decode');
    }
  });
});

describe('EnvelopeError', () => {
  it('has the HieError shape and round-trips through JSON', () => {
    const e = new EnvelopeError('envelope.parse', 'bad', { details: { offset: 3 }, cause: new Error('inner') });
    expect(e.kind).toBe('user');
    expect(new EnvelopeError('envelope.no_codec', 'x').kind).toBe('unexpected');
    const json = JSON.parse(JSON.stringify(e));
    expect(json).toMatchObject({ name: 'EnvelopeError', code: 'envelope.parse', kind: 'user', message: 'bad', details: { offset: 3 }, cause: { message: 'inner' } });
    const back = EnvelopeError.fromJSON(json);
    expect(back.code).toBe('envelope.parse');
    expect(back.details).toEqual({ offset: 3 });
    expect(EnvelopeError.fromJSON('junk').code).toBe('envelope.decode');
  });
});
