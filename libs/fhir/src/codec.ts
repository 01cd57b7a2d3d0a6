import type { EnvelopeCodec } from '@hie/envelope';
import type { Resource } from '@medplum/fhirtypes';
import { issueLines, type FhirIssue } from './issues';
import { parseFhirJson } from './parse';
import { validateFhir } from './validate';

const issuesOf = new WeakMap<object, FhirIssue[]>();

/**
 * The issues of a parsed FHIR body, validated once per parsed object (the envelope caches the
 * parse, so repeated `validate()` calls and a later look at the issues cost nothing).
 */
export function fhirIssues(parsed: unknown): FhirIssue[] {
  if (typeof parsed !== 'object' || parsed === null) return validateFhir(parsed);
  let issues = issuesOf.get(parsed);
  if (!issues) {
    issues = validateFhir(parsed);
    issuesOf.set(parsed, issues);
  }
  return issues;
}

/** The FHIR JSON codec's shape: an envelope codec that also gives the structured issues. */
export interface FhirCodec extends EnvelopeCodec {
  readonly contentType: 'application/fhir+json';
  /** UTF-8 bytes → resource. @throws HieError `fhir.parse` */
  parse(raw: Uint8Array): Resource;
  /** The R4 errors, as `"<FHIRPath>: <message>"` lines; empty when valid. */
  validate(parsed: unknown): string[];
}

/**
 * Codec for `application/fhir+json` bodies. The body stays raw until someone asks
 * (`envelope.parse()`), and R4 validation runs only on `envelope.validate()`; both are cached.
 * The engine registers it in place of @hie/envelope's shallow FHIR codec.
 */
export const fhirCodec: FhirCodec = Object.freeze({
  contentType: 'application/fhir+json' as const,
  parse: (raw: Uint8Array): Resource => parseFhirJson(raw),
  validate: (parsed: unknown): string[] => issueLines(fhirIssues(parsed)),
});
