import pino from 'pino';
import { fhirR4Loaded } from '@hie/fhir';
import { createEngine } from '../engine-node';
import { testPolicy } from './helpers';
import { testItemTypes } from './test-items';

/**
 * Starts `production` in an engine of its own and tells whether the R4 definitions were loaded
 * before and after the start, and which items failed (call it first in a test file: the
 * definitions are module state).
 */
export async function fhirR4AroundStart(production: { items: object[]; connections: { from: string; to: string }[] }): Promise<{ before: boolean; after: boolean; failed: string[] }> {
  const before = fhirR4Loaded();
  const { engine } = createEngine({ log: pino({ level: 'silent' }), plugins: testItemTypes, policy: testPolicy() });
  try {
    await engine.apply({ name: 'warm', ...production });
    const failed = engine
      .status()
      .items.filter((i) => i.state === 'failed')
      .map((i) => i.name);
    return { before, after: fhirR4Loaded(), failed };
  } finally {
    await engine.stop();
  }
}
