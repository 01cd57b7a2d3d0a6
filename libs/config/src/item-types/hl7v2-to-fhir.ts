import { z } from 'zod';
import adtMap from '../fhir-maps/adt.json';
import oruR01Map from '../fhir-maps/oru-r01.json';

/** An HL7 v2 path as in `@hie/hl7` (`PID-3.1`, `PID-5[2].1`, `OBX-6.1`). Checked loosely here; the engine parses it at start. */
const v2Path = z.string().regex(/^[A-Z][A-Z0-9]{2}(\[\d+\])?(-\d+(\[\d+\])?(\.\d+(\.\d+)?)?)?$/, 'an HL7 v2 path such as PID-3.1');

/**
 * A target path inside the resource, FHIRPath-like: dotted element names, each with an optional
 * index (`name[0].given[1]`) or `[*]` (one element per repetition of the source field).
 */
const targetPath = z.string().regex(/^[a-z][A-Za-z0-9]*(\[(\d+|\*)\])?(\.[a-z][A-Za-z0-9]*(\[(\d+|\*)\])?)*$/, 'an element path such as name[0].family or identifier[*].value');

/** The functions a rule can apply. A closed set, interpreted — never code. */
export const V2_FHIR_FUNCTIONS = ['copy', 'date', 'dateTime', 'number', 'rangeLow', 'rangeHigh', 'lookup', 'concat', 'constant', 'reference'] as const;

/** One mapping rule: `target ← fn(source)`. */
export const v2FhirRule = z
  .object({
    target: targetPath.describe('Element to set, e.g. identifier[*].value, birthDate, valueQuantity.value'),
    source: v2Path.optional().describe('HL7 v2 path read (relative to the current segment of a forEach resource), e.g. PID-7'),
    fn: z
      .enum(V2_FHIR_FUNCTIONS)
      .default('copy')
      .describe('copy; date / dateTime (HL7 DT/TS → FHIR); number; rangeLow / rangeHigh (of "3.5-5.0", "<10", ">2"); lookup (in a table); concat (sources); constant (value); reference (to another resource of the map)'),
    sources: z.array(v2Path).optional().describe('concat: the paths joined'),
    separator: z.string().optional().describe('concat: text between non-empty parts (default a space)'),
    table: z.string().optional().describe('lookup: the table name in the map'),
    value: z.string().optional().describe('constant: the value (true/false are booleans); copy / lookup: the default when the source is empty or no code matches'),
    resource: z.string().optional().describe('reference: the id of the resource referred to (a forEach one with a [*] target: one reference per instance)'),
    when: v2Path.optional().describe('Apply only when this v2 path is non-empty (and, with whenIn, one of those values)'),
    whenIn: z.array(z.string()).optional().describe('Values of `when` for which the rule applies, e.g. OBX-2 in [NM, SN]'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const need = (field: 'source' | 'sources' | 'table' | 'value' | 'resource') => {
      if (r[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${r.fn} needs ${field}` });
    };
    if (r.whenIn && !r.when) ctx.addIssue({ code: 'custom', path: ['whenIn'], message: 'whenIn needs when' });
    if (['copy', 'date', 'dateTime', 'number', 'rangeLow', 'rangeHigh'].includes(r.fn)) need('source');
    if (r.fn === 'lookup') {
      need('source');
      need('table');
    }
    if (r.fn === 'concat') need('sources');
    if (r.fn === 'constant') need('value');
    if (r.fn === 'reference') need('resource');
  });
export type V2FhirRule = z.output<typeof v2FhirRule>;

/** One resource the map produces (once, or once per segment with `forEach`). */
export const v2FhirResource = z
  .object({
    id: z.string().regex(/^[a-z][a-zA-Z0-9-]*$/, 'a short key such as patient').describe('Key other rules refer to (reference), unique in the map'),
    resourceType: z.string().regex(/^[A-Z][A-Za-z]+$/).describe('FHIR resource type'),
    segment: z.string().regex(/^[A-Z][A-Z0-9]{2}$/).optional().describe('Made only when this segment is present'),
    forEach: z.boolean().default(false).describe('One resource per occurrence of `segment` (sources of that segment read the current one)'),
    conditional: z
      .enum(['none', 'create', 'update'])
      .default('none')
      .describe('Keyed by the resource\'s first identifier (system|value): create = POST with ifNoneExist, update = PUT [type]?identifier=…; none = plain POST'),
    rules: z.array(v2FhirRule).describe('Mapping rules, applied in order'),
  })
  .strict();
export type V2FhirResource = z.output<typeof v2FhirResource>;

/** A v2 → FHIR map: data, validated here, interpreted by the `hl7v2.to.fhir` item. */
export const v2FhirMap = z
  .object({
    name: z.string().min(1).describe('Map name'),
    description: z.string().default('').describe('What the map is for'),
    bundleType: z.enum(['transaction', 'batch', 'collection']).default('transaction').describe('Type of the Bundle produced'),
    timezone: z
      .string()
      .regex(/^(Z|[+-]\d{2}:\d{2})$/)
      .default('Z')
      .describe('Offset given to HL7 times that carry none (FHIR dateTime with a time needs one)'),
    referenceStyle: z
      .enum(['fullUrl', 'conditional'])
      .default('fullUrl')
      .describe('How a reference to a conditional resource is written: fullUrl (urn:uuid of its entry, resolved by the server in the transaction) or conditional (Patient?identifier=system|value)'),
    tables: z.record(z.string(), z.record(z.string(), z.string())).default({}).describe('Code tables for lookup: table → v2 code → FHIR code'),
    resources: z.array(v2FhirResource).min(1).describe('Resources produced'),
  })
  .strict()
  .superRefine((m, ctx) => {
    const ids = new Set<string>();
    m.resources.forEach((r, i) => {
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['resources', i, 'id'], message: `duplicate resource id "${r.id}"` });
      ids.add(r.id);
      if (r.forEach && !r.segment) ctx.addIssue({ code: 'custom', path: ['resources', i, 'forEach'], message: 'forEach needs a segment' });
    });
    m.resources.forEach((r, i) =>
      r.rules.forEach((rule, j) => {
        if (rule.fn === 'reference' && rule.resource !== undefined && !ids.has(rule.resource)) {
          ctx.addIssue({ code: 'custom', path: ['resources', i, 'rules', j, 'resource'], message: `no resource "${rule.resource}" in the map` });
        }
        if (rule.fn === 'lookup' && rule.table !== undefined && !(rule.table in m.tables)) {
          ctx.addIssue({ code: 'custom', path: ['resources', i, 'rules', j, 'table'], message: `no table "${rule.table}" in the map` });
        }
      }),
    );
  });
export type V2FhirMap = z.output<typeof v2FhirMap>;
export type V2FhirMapInput = z.input<typeof v2FhirMap>;

/** The built-in maps (JSON files in libs/config/src/fhir-maps), by name. */
export const BUILTIN_V2_FHIR_MAPS: Readonly<Record<'adt' | 'oru-r01', V2FhirMap>> = {
  adt: v2FhirMap.parse(adtMap),
  'oru-r01': v2FhirMap.parse(oruR01Map),
};

/** Settings of `hl7v2.to.fhir`: a built-in map by name (or chosen by MSH-9), or a custom one. */
export const hl7v2ToFhirSettings = z
  .object({
    map: z
      .enum(['auto', 'adt', 'oru-r01', 'custom'])
      .default('auto')
      .describe('auto: ADT A01/A04/A08/A03 → adt, ORU R01 → oru-r01 (by MSH-9); custom: the map below'),
    custom: v2FhirMap.optional().describe('The map used when map = custom (built in the mapping editor of the designer)'),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.map === 'custom' && !s.custom) ctx.addIssue({ code: 'custom', path: ['custom'], message: 'map = custom needs a custom map' });
  });
export type Hl7v2ToFhirSettings = z.output<typeof hl7v2ToFhirSettings>;
