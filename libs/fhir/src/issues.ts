import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** How bad a {@link FhirIssue} is (the FHIR `IssueSeverity` codes HIE reports; `fatal` is folded into `error`). */
export type FhirIssueSeverity = 'error' | 'warning' | 'information';

/**
 * One validation finding, located by a FHIRPath expression.
 *
 * @see https://hl7.org/fhir/R4/operationoutcome.html
 */
export interface FhirIssue {
  /** How bad it is. Only `error` makes a resource invalid. */
  severity: FhirIssueSeverity;
  /** A FHIR `IssueType` code: `structure`, `required`, `value`, `code-invalid`, `invariant`, … */
  code: string;
  /** Where: a FHIRPath such as `Patient.birthDate` or `Bundle.entry[2].resource.gender`. */
  path: string;
  /** What is wrong, for a person. */
  message: string;
}

/** True when the issues hold at least one error. */
export function hasErrors(issues: readonly FhirIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** `"<path>: <message>"` lines for the errors among the issues (what the envelope codec reports). */
export function issueLines(issues: readonly FhirIssue[]): string[] {
  return issues.filter((i) => i.severity === 'error').map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
}

/**
 * The issues as an `OperationOutcome` (each issue's path becomes its `expression`). No issues
 * give the single `information`/`informational` issue the spec asks for ("All OK").
 *
 * @see https://hl7.org/fhir/R4/operationoutcome.html
 */
export function toOperationOutcome(issues: readonly FhirIssue[]): OperationOutcome {
  if (issues.length === 0) {
    return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text: 'All OK' } }] };
  }
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i): OperationOutcomeIssue => {
      const issue: OperationOutcomeIssue = { severity: i.severity, code: i.code as OperationOutcomeIssue['code'], details: { text: i.message } };
      if (i.path) issue.expression = [i.path];
      return issue;
    }),
  };
}

/** Medplum's (and any server's) `OperationOutcome` issues → {@link FhirIssue}s. */
export function fromOperationOutcomeIssues(issues: readonly OperationOutcomeIssue[] | undefined): FhirIssue[] {
  return (issues ?? []).map((i) => ({
    severity: i.severity === 'fatal' || i.severity === 'error' ? 'error' : i.severity === 'warning' ? 'warning' : 'information',
    // Medplum reports a missing mandatory element as `structure`; FHIR's code for it is `required`.
    code: i.details?.text === 'Missing required property' ? 'required' : (i.code ?? 'processing'),
    path: i.expression?.[0] ?? i.location?.[0] ?? '',
    message: i.details?.text ?? i.diagnostics ?? i.code ?? 'invalid',
  }));
}
