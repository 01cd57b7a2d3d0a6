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

/** Colours a canvas group may have: a small palette, so groups read alike in every production. */
export const canvasColours = ['grey', 'blue', 'green', 'yellow', 'orange', 'red', 'purple'] as const;
/** A canvas group's colour: see {@link canvasColours}. */
export type CanvasColour = (typeof canvasColours)[number];

/** Ids of canvas groups and notes: 1-64 letters, digits, `_` or `-` (the designer makes `g-1a2b3c`). */
export const CANVAS_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const canvasId = z
  .string()
  .regex(CANVAS_ID_PATTERN, { message: 'must be 1-64 letters, digits, "_" or "-"' })
  .describe('Id, unique among the groups and notes of the production.');
const canvasX = z.number().describe('Horizontal position of the top-left corner on the designer canvas, in pixels.');
const canvasY = z.number().describe('Vertical position of the top-left corner on the designer canvas, in pixels.');
const canvasSize = (what: string, min: number) => z.number().min(min).max(20_000).describe(`${what} on the designer canvas, in pixels.`);

/**
 * A labelled box on the designer canvas (Node-RED's group, an IRIS diagram label). Membership
 * is geometric: the items and notes whose position lies inside the box belong to it (moving the
 * group moves them). Nothing names an item, so renaming or deleting an item never leaves a group
 * pointing at nothing, and the box round-trips through GitOps on its own.
 */
export const canvasGroupSchema = z
  .strictObject({
    id: canvasId,
    label: z.string().max(200).describe('The label shown on the group (may be empty).'),
    x: canvasX,
    y: canvasY,
    width: canvasSize('Width', 40),
    height: canvasSize('Height', 40),
    colour: z.enum(canvasColours).optional().describe('Colour of the group; grey when absent.'),
  })
  .describe('A labelled group box on the designer canvas (ignored by the engine).');

/** A free-text note on the designer canvas (Node-RED's comment node). */
export const canvasNoteSchema = z
  .strictObject({
    id: canvasId,
    text: z.string().max(2000).describe('The text of the note.'),
    x: canvasX,
    y: canvasY,
    width: canvasSize('Width', 40).optional().describe('Width on the designer canvas, in pixels; a default when absent.'),
    height: canvasSize('Height', 24).optional().describe('Height on the designer canvas, in pixels; fits the text when absent.'),
  })
  .describe('A note on the designer canvas (ignored by the engine).');

/**
 * Whether a point (an item's or a note's position: its top-left corner) lies inside a group's
 * box, edges included: what membership of a group means.
 */
export function inGroup(group: Pick<CanvasGroup, 'x' | 'y' | 'width' | 'height'>, at: { x: number; y: number }): boolean {
  return at.x >= group.x && at.y >= group.y && at.x <= group.x + group.width && at.y <= group.y + group.height;
}

/** What the designer draws besides items and connections: groups and notes. The engine ignores it. */
export const canvasSchema = z
  .strictObject({
    groups: z.array(canvasGroupSchema).max(500).optional().describe('Labelled group boxes.'),
    notes: z.array(canvasNoteSchema).max(500).optional().describe('Free-text notes.'),
  })
  .describe('Designer-only drawing: groups and notes (ignored by the engine, like item positions).');

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
    canvas: canvasSchema.optional(),
  })
  .describe('A production: items, connections and production-wide settings.');

/** Designer position. */
export type Position = z.output<typeof positionSchema>;
/** A group box on the designer canvas. */
export type CanvasGroup = z.output<typeof canvasGroupSchema>;
/** A note on the designer canvas. */
export type CanvasNote = z.output<typeof canvasNoteSchema>;
/** The designer canvas: groups and notes. */
export type Canvas = z.output<typeof canvasSchema>;
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
