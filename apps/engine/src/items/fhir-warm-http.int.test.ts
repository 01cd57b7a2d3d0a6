/**
 * The R4 definitions take seconds to load on a busy node and block the thread while they do: the
 * FHIR item types load them when they start, not on the first patient message. (A file of its
 * own: the definitions are module state, loaded once per test file.)
 */
import { expect, it } from 'vitest';
import { fhirR4AroundStart } from '../testing/fhir-warm';

it('fhir.http.in loads the R4 definitions before it listens: the first request does not wait for them', async () => {
  expect(await fhirR4AroundStart({ items: [{ name: 'FHIR In', type: 'fhir.http.in', settings: { host: '127.0.0.1', port: 0 } }], connections: [] })).toEqual({ before: false, after: true, failed: [] });
});
