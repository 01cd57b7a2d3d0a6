/**
 * The item types the designer can use: the built-in descriptors from @hie/config, the plugin
 * descriptors the composition root passed in (HIE_PLUGINS loaded by `hie start`), plus any type an
 * engine node reports (plugins loaded on other nodes). Built-ins and passed-in plugins are
 * validated here with their zod schemas; a type known only from a node's report is known by its
 * JSON Schema, so its settings are checked by the engine at deploy (the manager checks it exists).
 */
import { z } from 'zod';
import type { Coordinator } from '@hie/cluster';
import { builtinItemTypes, commonSettingsJsonSchema, type ItemTypeDescriptor, type ItemTypeInfo, type ItemTypeLookup, type JsonSchema } from '@hie/config';

/** Where item types come from: the cluster's node reports, and the plugins this process was given. */
export interface ItemTypeSources {
  coordinator: Coordinator;
  pluginItemTypes?: readonly ItemTypeDescriptor[];
}

export interface ItemTypeView {
  type: string;
  kind: 'service' | 'process' | 'operation';
  description: string;
  /** JSON Schema (draft 2020-12, input side: fields with defaults are optional) of `settings`. */
  settingsSchema: JsonSchema;
  /** `builtin`: shipped with HIE; `plugin`: a plugin this process loaded; `node`: reported by an engine node (a plugin). */
  source: 'builtin' | 'plugin' | 'node';
}

let builtinViews: ItemTypeView[] | undefined;
let commonSchema: JsonSchema | undefined;

function viewOf(d: ItemTypeDescriptor, source: ItemTypeView['source']): ItemTypeView {
  return { type: d.type, kind: d.kind, description: d.description, settingsSchema: z.toJSONSchema(d.settings, { io: 'input', unrepresentable: 'any' }), source };
}

function builtins(): ItemTypeView[] {
  builtinViews ??= builtinItemTypes.map((d) => viewOf(d, 'builtin'));
  return builtinViews;
}

const pluginViews = new WeakMap<readonly ItemTypeDescriptor[], ItemTypeView[]>();

function plugins(list: readonly ItemTypeDescriptor[] = []): ItemTypeView[] {
  let views = pluginViews.get(list);
  if (!views) pluginViews.set(list, (views = list.map((d) => viewOf(d, 'plugin'))));
  return views;
}

/** JSON Schema of the common item settings (execution, queue, restart, …). */
export function commonItemSchema(): JsonSchema {
  commonSchema ??= commonSettingsJsonSchema({ io: 'input' });
  return commonSchema;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Built-ins first, then this process's plugins, then the types nodes report that are not known yet (first report wins). */
export async function listItemTypes(sources: ItemTypeSources): Promise<ItemTypeView[]> {
  const types = [...builtins(), ...plugins(sources.pluginItemTypes)];
  const seen = new Set(types.map((t) => t.type));
  for (const node of await sources.coordinator.listStatus()) {
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
export async function itemTypeLookup(sources: ItemTypeSources): Promise<ItemTypeLookup> {
  // The kind travels too: a service with a worker execution mode is refused at save.
  const known = new Map<string, ItemTypeInfo>([...builtinItemTypes, ...(sources.pluginItemTypes ?? [])].map((d) => [d.type, { settings: d.settings, kind: d.kind }]));
  for (const node of await sources.coordinator.listStatus()) {
    for (const t of node.itemTypes) if (!known.has(t.type)) known.set(t.type, { settings: openSettings, kind: t.kind });
  }
  return (type) => known.get(type);
}
