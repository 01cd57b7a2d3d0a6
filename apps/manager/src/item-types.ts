/**
 * The item types the designer can use: the built-in descriptors from @hie/config, plus any type
 * an engine node reports (plugins). Built-ins are validated here with their zod schemas; a
 * plugin type is known to the manager only by its JSON Schema, so its settings are checked by
 * the engine at deploy (the manager checks the type exists).
 */
import { z } from 'zod';
import type { Coordinator } from '@hie/cluster';
import { builtinItemTypes, commonSettingsJsonSchema, type ItemTypeInfo, type ItemTypeLookup, type JsonSchema } from '@hie/config';

export interface ItemTypeView {
  type: string;
  kind: 'service' | 'process' | 'operation';
  description: string;
  /** JSON Schema (draft 2020-12, input side: fields with defaults are optional) of `settings`. */
  settingsSchema: JsonSchema;
  /** `builtin`: shipped with HIE; `node`: reported by an engine node (a plugin). */
  source: 'builtin' | 'node';
}

let builtinViews: ItemTypeView[] | undefined;
let commonSchema: JsonSchema | undefined;

function builtins(): ItemTypeView[] {
  builtinViews ??= builtinItemTypes.map((d) => ({
    type: d.type,
    kind: d.kind,
    description: d.description,
    settingsSchema: z.toJSONSchema(d.settings, { io: 'input', unrepresentable: 'any' }),
    source: 'builtin' as const,
  }));
  return builtinViews;
}

/** JSON Schema of the common item settings (execution, queue, restart, …). */
export function commonItemSchema(): JsonSchema {
  commonSchema ??= commonSettingsJsonSchema({ io: 'input' });
  return commonSchema;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Built-ins first, then the types nodes report that are not built in (first report wins). */
export async function listItemTypes(coordinator: Coordinator): Promise<ItemTypeView[]> {
  const types = [...builtins()];
  const seen = new Set(types.map((t) => t.type));
  for (const node of await coordinator.listStatus()) {
    for (const t of node.itemTypes) {
      if (seen.has(t.type)) continue;
      seen.add(t.type);
      const settingsSchema: JsonSchema = isRecord(t.settingsSchema) ? t.settingsSchema : { type: 'object' };
      types.push({ type: t.type, kind: t.kind, description: t.description, settingsSchema, source: 'node' });
    }
  }
  return types;
}

const openSettings = z.record(z.string(), z.unknown());

/** The lookup `validateProduction` checks item types and settings with. */
export async function itemTypeLookup(coordinator: Coordinator): Promise<ItemTypeLookup> {
  // The kind travels too: a service with a worker execution mode is refused at save.
  const known = new Map<string, ItemTypeInfo>(builtinItemTypes.map((d) => [d.type, { settings: d.settings, kind: d.kind }]));
  for (const node of await coordinator.listStatus()) {
    for (const t of node.itemTypes) if (!known.has(t.type)) known.set(t.type, { settings: openSettings, kind: t.kind });
  }
  return (type) => known.get(type);
}
