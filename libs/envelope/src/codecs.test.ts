import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_TYPES, getCodec, jsonCodec, listCodecs, normalizeContentType, registerCodec, unregisterCodec, xmlCodec, type EnvelopeCodec } from './codecs';

const fake = (contentType: string): EnvelopeCodec => ({ contentType, parse: () => 'fake' });

describe('codec registry', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const undo of cleanup.splice(0)) undo();
  });

  it('has the built-ins, not HL7 v2', () => {
    expect(listCodecs().sort()).toEqual(
      ['application/fhir+json', 'application/json', 'application/octet-stream', 'application/xml', 'text/plain'].sort(),
    );
    expect(getCodec(CONTENT_TYPES.hl7v2)).toBeUndefined();
  });

  it('matches exactly, then normalised, then by suffix', () => {
    expect(normalizeContentType(' Application/JSON; charset=UTF-8')).toBe('application/json');
    expect(getCodec('application/json')).toBe(jsonCodec);
    expect(getCodec('Application/Json; charset=utf-8')).toBe(jsonCodec);
    expect(getCodec('application/vnd.api+json')).toBe(jsonCodec);
    expect(getCodec('application/fhir+xml')).toBe(xmlCodec);
    expect(getCodec('text/xml')).toBe(xmlCodec);
    expect(getCodec('image/png')).toBeUndefined();
  });

  it('registers, replaces and unregisters', () => {
    const hl7 = fake('application/hl7-v2+er7');
    cleanup.push(registerCodec(hl7));
    expect(getCodec(CONTENT_TYPES.hl7v2)).toBe(hl7);
    const other = fake('APPLICATION/HL7-V2+ER7');
    const undoOther = registerCodec(other);
    expect(getCodec(CONTENT_TYPES.hl7v2)).toBe(other);
    undoOther();
    expect(getCodec(CONTENT_TYPES.hl7v2)).toBeUndefined();
    registerCodec(hl7);
    expect(unregisterCodec('application/hl7-v2+er7')).toBe(true);
    expect(unregisterCodec('application/hl7-v2+er7')).toBe(false);
  });
});
