import type { Resource } from '@medplum/fhirtypes';
import { fhirError } from './errors';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses FHIR JSON (always UTF-8, a BOM is skipped) into a resource. Only the JSON and the
 * presence of a `resourceType` are checked here; {@link validateFhir} does the rest.
 *
 * @throws HieError `fhir.parse` when it is not UTF-8 JSON, not an object, or has no `resourceType`
 */
export function parseFhirJson(raw: string | Uint8Array): Resource {
  let text: string;
  try {
    text = typeof raw === 'string' ? raw : decoder.decode(raw);
  } catch (e) {
    throw fhirError('fhir.parse', 'invalid FHIR JSON: the body is not UTF-8', undefined, e);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw fhirError('fhir.parse', `invalid FHIR JSON: ${e instanceof Error ? e.message : String(e)}`, undefined, e);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fhirError('fhir.parse', 'invalid FHIR JSON: a FHIR resource must be a JSON object');
  }
  const resourceType: unknown = (value as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(resourceType)) {
    throw fhirError('fhir.parse', 'invalid FHIR JSON: a FHIR resource needs a "resourceType" such as "Patient"');
  }
  return value as Resource;
}
