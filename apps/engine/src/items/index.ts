import type { ItemTypeDefinition } from '../item-type';
import { fhirRouter } from './fhir-router';
import { fileIn } from './file-in';
import { fhirHttpIn } from './fhir-http-in';
import { fhirHttpOut } from './fhir-http-out';
import { fileOut } from './file-out';
import { hl7MllpIn } from './hl7-mllp-in';
import { hl7MllpOut } from './hl7-mllp-out';
import { hl7Router } from './hl7-router';
import { hl7Transform } from './hl7-transform';
import { hl7v2ToFhir } from './hl7v2-to-fhir';
import { httpIn } from './http-in';
import { httpOut } from './http-out';

/** The built-in item types, in palette order. Registered explicitly; user plugins use the same API. */
export const builtinItemTypes: readonly ItemTypeDefinition[] = [
  hl7MllpIn,
  fileIn,
  httpIn,
  fhirHttpIn,
  hl7Router,
  fhirRouter,
  hl7Transform,
  hl7v2ToFhir,
  hl7MllpOut,
  fileOut,
  httpOut,
  fhirHttpOut,
];
