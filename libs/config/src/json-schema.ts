import { z } from 'zod';
import { commonSettingsSchema } from './common-settings';
import { itemSchema, productionSchema } from './production';

/** A JSON Schema document (draft 2020-12) as produced by `z.toJSONSchema`. */
export type JsonSchema = z.core.JSONSchema.BaseSchema;

/** Options of the JSON Schema exporters. */
export interface JsonSchemaOptions {
  /**
   * `'input'`: the schema of what a user may write (fields with defaults are optional) — what
   * forms are generated from. `'output'`: the schema of a parsed value (every field present).
   * @defaultValue `'input'`
   */
  io?: 'input' | 'output';
}

/** Options of {@link itemJsonSchema}. */
export interface ItemJsonSchemaOptions extends JsonSchemaOptions {
  /**
   * The item type's settings schema, to put in place of the generic `settings` record.
   * @defaultValue undefined (settings stay an open record)
   */
  settings?: z.ZodType;
}

const toJsonSchema = (schema: z.ZodType, opts: JsonSchemaOptions): JsonSchema =>
  z.toJSONSchema(schema, { io: opts.io ?? 'input', unrepresentable: 'any' });

/** JSON Schema of a whole production (descriptions, defaults and enums included). */
export function productionJsonSchema(opts: JsonSchemaOptions = {}): JsonSchema {
  return toJsonSchema(productionSchema, opts);
}

/** JSON Schema of one item; with `opts.settings`, of an item of that type. */
export function itemJsonSchema(opts: ItemJsonSchemaOptions = {}): JsonSchema {
  const schema = opts.settings
    ? itemSchema.extend({ settings: opts.settings.prefault({}).describe("Settings of the item's type.") })
    : itemSchema;
  return toJsonSchema(schema, opts);
}

/** JSON Schema of the common item settings (execution, queue, restart, …). */
export function commonSettingsJsonSchema(opts: JsonSchemaOptions = {}): JsonSchema {
  return toJsonSchema(commonSettingsSchema, opts);
}
