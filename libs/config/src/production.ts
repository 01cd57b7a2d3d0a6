import { z } from 'zod';
import { commonSettingsShape } from './common-settings';

/**
 * Item type names: dotted lower-case, at least two segments (`hl7.mllp.in`, `file.out`).
 * Each segment starts with a letter; digits, `_` and `-` may follow.
 */
export const ITEM_TYPE_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)+$/;

/** Item names: 1-100 characters, no leading or trailing whitespace. */
export const ITEM_NAME_PATTERN = /^\S(?:[\s\S]*\S)?$/;

/**
 * Production names: letters, digits, `-`, `_`, `.` and spaces, not starting or ending with a
 * space.
 */
export const PRODUCTION_NAME_PATTERN = /^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]*[A-Za-z0-9._-])?$/;

/** Storage modes of a production's messages. */
export const storageModes = ['full', 'metadata', 'none'] as const;
/** Storage mode: see {@link productionSchema}. */
export type StorageMode = (typeof storageModes)[number];

/** Position of an item on the designer canvas (not used by the engine). */
export const positionSchema = z
  .strictObject({
    x: z.number().describe('Horizontal position on the designer canvas, in pixels.'),
    y: z.number().describe('Vertical position on the designer canvas, in pixels.'),
  })
  .describe('Position on the designer canvas (ignored by the engine).');

/**
 * One item of a production: its name and type, its type-specific `settings` (validated
 * against the type's own schema by `validateProduction` when item types are given), and the
 * common settings. Strict: unknown keys are errors.
 */
export const itemSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(ITEM_NAME_PATTERN, { message: 'must not start or end with whitespace' })
      .describe('Item name, unique within the production; connections refer to items by it.'),
    type: z
      .string()
      .regex(ITEM_TYPE_PATTERN, { message: "must be a dotted lower-case item type such as 'hl7.mllp.in'" })
      .describe("Item type, dotted lower-case (e.g. 'hl7.mllp.in'); decides what the item does and its settings."),
    description: z.string().max(2000).optional().describe('Free text shown in the designer.'),
    settings: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("Settings of the item's type, validated against that type's schema."),
    ...commonSettingsShape,
    position: positionSchema.optional(),
  })
  .describe('One item: a service (inbound), process or operation (outbound).');

/** A wire from one item to another, by item name. Strict. */
export const connectionSchema = z
  .strictObject({
    from: z.string().min(1).describe('Name of the item messages come from.'),
    to: z.string().min(1).describe('Name of the item messages go to.'),
    description: z.string().max(2000).optional().describe('Free text shown in the designer.'),
  })
  .describe('A connection: messages sent by one item go to another.');

/**
 * A production (a project's configuration): items, connections and production-wide settings.
 * Strict. Semantic rules (unique names, connections between existing items) are checked by
 * `validateProduction`, not by this schema alone.
 */
export const productionSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(PRODUCTION_NAME_PATTERN, {
        message: 'may contain only letters, digits, "-", "_", "." and inner spaces',
      })
      .describe('Production name.'),
    description: z.string().max(2000).optional().describe('Free text.'),
    storage: z
      .enum(storageModes)
      .default('full')
      .describe('What is stored per message: full (raw message and header), metadata (header only), none.'),
    retentionDays: z
      .int()
      .min(0)
      .max(36_500)
      .default(30)
      .describe('Days stored messages are kept before they are purged; 0 keeps them forever.'),
    items: z.array(itemSchema).default([]).describe('The items of the production.'),
    connections: z.array(connectionSchema).default([]).describe('Connections between items, by item name.'),
  })
  .describe('A production: items, connections and production-wide settings.');

/** Designer position. */
export type Position = z.output<typeof positionSchema>;
/** An item after defaults. */
export type Item = z.output<typeof itemSchema>;
/** An item as written (common settings optional). */
export type ItemInput = z.input<typeof itemSchema>;
/** A connection. */
export type Connection = z.output<typeof connectionSchema>;
/** A connection as written. */
export type ConnectionInput = z.input<typeof connectionSchema>;
/** A production after defaults. */
export type Production = z.output<typeof productionSchema>;
/** A production as written. */
export type ProductionInput = z.input<typeof productionSchema>;
