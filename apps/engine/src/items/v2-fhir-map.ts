import { randomUUID } from 'node:crypto';
import { compileV2FhirMap as compileMap, type CompiledV2FhirMap, type V2FhirMap } from '@hie/config';
import { parsePath } from '@hie/hl7';

// The interpreter lives in @hie/config (isomorphic: the portal's map editor previews with it).
export { hl7DateToFhir, rangeEnd, runV2FhirMap, type CompiledV2FhirMap, type V2FhirResult } from '@hie/config';

/**
 * Check a map and parse its paths once with @hie/hl7's grammar; entries get random UUIDs.
 * Throws `fhir.map_invalid` (a user error) on a path the schema let through but the grammar refuses.
 */
export function compileV2FhirMap(map: V2FhirMap): CompiledV2FhirMap {
  return compileMap(map, { parsePath, newId: randomUUID });
}
