import { z } from 'zod';

const hl7Path = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{2}(\[\d+\])?-\d+(\[\d+\])?(\.\d+){0,2}$/, 'an HL7 path like PID-3, PID-3[2].1, OBX[3]-5 or PID-5.1.2')
  .describe('HL7 path, 1-based as in the spec (PID-5.1)');

/** One transform operation. Operations run in order; each is data, never code. */
export const transformOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('set'), path: hl7Path, value: z.string().describe('Value to write (escaped for you)') }).strict(),
  z.object({ op: z.literal('copy'), from: hl7Path, to: hl7Path }).strict().describe('Copy one field to another'),
  z.object({ op: z.literal('move'), from: hl7Path, to: hl7Path }).strict().describe('Copy then clear the source'),
  z.object({ op: z.literal('delete'), path: hl7Path }).strict().describe('Clear a field, component or subcomponent'),
  z
    .object({
      op: z.literal('map'),
      path: hl7Path,
      table: z.record(z.string(), z.string()).describe('Lookup table: source value → new value'),
      default: z.string().optional().describe('Value when no entry matches (unset: leave as is)'),
    })
    .strict(),
  z.object({ op: z.literal('upper'), path: hl7Path }).strict(),
  z.object({ op: z.literal('lower'), path: hl7Path }).strict(),
  z
    .object({
      op: z.literal('date'),
      path: hl7Path,
      from: z.string().default('YYYYMMDDHHmmss').describe('Input pattern (YYYY MM DD HH mm ss tokens)'),
      to: z.string().describe('Output pattern, e.g. YYYY-MM-DD'),
    })
    .strict(),
  z
    .object({
      op: z.literal('addSegment'),
      segment: z.string().regex(/^[A-Z][A-Z0-9]{2}(\|.*)?$/s).describe('Segment text, e.g. ZPI|1|value'),
      after: z.string().regex(/^[A-Z][A-Z0-9]{2}$/).optional().describe('Insert after the last segment with this name (default: at the end)'),
    })
    .strict(),
  z.object({ op: z.literal('removeSegment'), name: z.string().regex(/^[A-Z][A-Z0-9]{2}$/) }).strict().describe('Remove every segment with this name'),
  z.object({ op: z.literal('setVersion'), version: z.string().regex(/^2\.\d(\.\d+)?$/) }).strict().describe('Set MSH-12 (version id)'),
]);
export type TransformOperation = z.output<typeof transformOperation>;

/** Settings of `hl7.transform`. */
export const hl7TransformSettings = z
  .object({
    operations: z.array(transformOperation).default([]).describe('Operations applied in order'),
  })
  .strict();
export type Hl7TransformSettings = z.output<typeof hl7TransformSettings>;
