import pino from 'pino';
import { expect } from 'vitest';
import { fhirR4Loaded } from '@hie/fhir';
import { createEngine } from '../engine-node';
import { testPolicy } from './helpers';
import { testItemTypes } from './test-items';

/**
 * Starts `production` in an engine of its own and checks the R4 definitions were loaded by the
 * start (not loaded before it: call it first in a test file, the definitions are module state).
 */
export async function expectStartLoadsFhirR4(production: { items: object[]; connections: { from: string; to: string }[] }): Promise<void> {
  expect(fhirR4Loaded()).toBe(false);
  const { engine } = createEngine({ log: pino({ level: 'silent' }), plugins: testItemTypes, policy: testPolicy() });
  try {
    await engine.apply({ name: 'warm', ...production });
    expect(engine.status().items.map((i) => i.state)).not.toContain('failed');
    expect(fhirR4Loaded()).toBe(true);
  } finally {
    await engine.stop();
  }
}
