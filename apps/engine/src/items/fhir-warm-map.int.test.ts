/**
 * The R4 definitions take seconds to load on a busy node and block the thread while they do: the
 * FHIR item types load them when they start, not on the first patient message. (A file of its
 * own: the definitions are module state, loaded once per test file.)
 */
import { expect, it } from 'vitest';
import { fhirR4AroundStart } from '../testing/fhir-warm';

it('hl7v2.to.fhir loads the R4 definitions when it starts: the first message does not wait for them', async () => {
  expect(await fhirR4AroundStart({ items: [{ name: 'In', type: 'test.manual_in' }, { name: 'Map', type: 'hl7v2.to.fhir' }], connections: [{ from: 'In', to: 'Map' }] })).toEqual({ before: false, after: true, failed: [] });
});
