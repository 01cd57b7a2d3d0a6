import type { z } from 'zod';
import { fhirRouterSettings } from './fhir-router';
import { fileInSettings, fileOutSettings } from './file';
import { hl7MllpInSettings, hl7MllpOutSettings } from './hl7-mllp';
import { hl7RouterSettings } from './hl7-router';
import { hl7TransformSettings } from './hl7-transform';
import { httpInSettings, httpOutSettings } from './http';
import { fhirHttpInSettings, fhirHttpOutSettings } from './fhir-io';
import { hl7v2ToFhirSettings } from './hl7v2-to-fhir';

export * from './tls';
export * from './hl7-mllp';
export * from './file';
export * from './http';
export * from './hl7-router';
export * from './fhir-router';
export * from './hl7-transform';
export * from './user-regex';
export * from './refused';
export * from './fhir-io';
export * from './hl7v2-to-fhir';

/** What the control plane and portal need to know of an item type (no runtime code). */
export interface ItemTypeDescriptor {
  type: string;
  kind: 'service' | 'process' | 'operation';
  description: string;
  settings: z.ZodType;
}

/** Where an item type's reference page is in the manual: `hl7.mllp.in` → `/docs/reference/item-types/hl7-mllp-in`. */
export function itemTypeDocPath(type: string): string {
  return `/docs/reference/item-types/${type.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
}

/** The built-in item types' descriptors. The engine implements each with `defineItemType`. */
export const builtinItemTypes: readonly ItemTypeDescriptor[] = [
  { type: 'hl7.mllp.in', kind: 'service', description: 'Receive HL7 v2 over MLLP (TCP/TLS) and ACK', settings: hl7MllpInSettings },
  { type: 'file.in', kind: 'service', description: 'Poll a directory for message files (batch files split)', settings: fileInSettings },
  { type: 'http.in', kind: 'service', description: 'Receive messages by HTTP POST', settings: httpInSettings },
  { type: 'fhir.http.in', kind: 'service', description: 'FHIR R4 REST endpoint: create, update, transaction/batch, metadata', settings: fhirHttpInSettings },
  { type: 'hl7.router', kind: 'process', description: 'Route HL7 v2 by rules on message fields', settings: hl7RouterSettings },
  { type: 'fhir.router', kind: 'process', description: 'Route FHIR R4 resources and Bundles by rules on FHIRPath expressions', settings: fhirRouterSettings },
  { type: 'hl7.transform', kind: 'process', description: 'Change HL7 v2 fields, segments and version', settings: hl7TransformSettings },
  { type: 'hl7v2.to.fhir', kind: 'process', description: 'Map HL7 v2 (ADT, ORU) to a FHIR Bundle with a map (data)', settings: hl7v2ToFhirSettings },
  { type: 'hl7.mllp.out', kind: 'operation', description: 'Send HL7 v2 over MLLP and wait for the ACK', settings: hl7MllpOutSettings },
  { type: 'file.out', kind: 'operation', description: 'Write each message to a file (atomic)', settings: fileOutSettings },
  { type: 'http.out', kind: 'operation', description: 'Send each message in an HTTP request', settings: httpOutSettings },
  { type: 'fhir.http.out', kind: 'operation', description: 'FHIR client: create, update, conditional create, transaction', settings: fhirHttpOutSettings },
];
