import { MessageEnvelope } from '@hie/envelope';
import { loadFhirR4 } from '@hie/fhir';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerBuiltinCodecs } from './codecs';

beforeAll(() => {
  loadFhirR4();
  registerBuiltinCodecs();
}, 120_000);

describe('registerBuiltinCodecs', () => {
  it('makes application/fhir+json validate against R4, not only check for a resourceType', () => {
    const env = MessageEnvelope.create({
      source: 'test',
      contentType: 'application/fhir+json',
      raw: JSON.stringify({ resourceType: 'Patient', gender: 'M', birthDate: '01/02/1970' }),
    });
    expect(env.validate()).toBe(false);
    expect(env.body.validationErrors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Patient\.birthDate: /), expect.stringMatching(/^Patient\.gender: /)]),
    );
  });

  it('keeps HL7 v2 and the envelope codecs for other content types', () => {
    const json = MessageEnvelope.create({ source: 'test', contentType: 'application/json', raw: '{"a":1}' });
    expect(json.validate()).toBe(true);
  });
});
