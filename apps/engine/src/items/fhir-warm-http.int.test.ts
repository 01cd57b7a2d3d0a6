/**
 * The R4 definitions take seconds to load on a busy node and block the thread while they do: the
 * FHIR item types load them when they start, not on the first patient message. (A file of its
 * own: the definitions are module state, loaded once per test file.)
 */
import { it } from 'vitest';
import { expectStartLoadsFhirR4 } from '../testing/fhir-warm';

it('fhir.http.in loads the R4 definitions before it listens: the first request does not wait for them', async () => {
  await expectStartLoadsFhirR4({ items: [{ name: 'FHIR In', type: 'fhir.http.in', settings: { host: '127.0.0.1', port: 0 } }], connections: [] });
});
