import { HieError } from '@hie/config';

/**
 * Codes this lib throws (as {@link HieError}s, matched on `code`):
 * - `fhir.parse`: the bytes are not JSON, or the JSON is not an object with a `resourceType`;
 * - `fhir.path_invalid`: a FHIRPath expression that does not compile or is too long;
 * - `fhir.path_eval`: a FHIRPath expression failed on a resource.
 */
export type FhirErrorCode = 'fhir.parse' | 'fhir.path_invalid' | 'fhir.path_eval';

/** A user error (bad input, never retried) of this lib. */
export function fhirError(code: FhirErrorCode, message: string, details?: unknown, cause?: unknown): HieError {
  return new HieError(code, message, { kind: 'user', details, cause });
}
