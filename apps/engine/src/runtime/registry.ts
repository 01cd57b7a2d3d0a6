import type { z } from 'zod';
import type { ItemTypeDefinition } from '../item-type';
import { EngineError } from './errors';

/** Registered item types: the built-ins plus user plugins, all defined with `defineItemType`. */
export class ItemTypeRegistry {
  private readonly types = new Map<string, { def: ItemTypeDefinition; module: string }>();

  /** Register a type. `module` is the URL worker threads import to find it (defaults to `def.module`). */
  register(def: ItemTypeDefinition, module?: string): this {
    const url = module ?? def.module;
    if (!url) throw new EngineError('engine.plugin', `item type ${def.type} needs a module URL (set module: import.meta.url)`, 'user');
    if (this.types.has(def.type)) throw new EngineError('engine.plugin', `item type ${def.type} is already registered`, 'user');
    this.types.set(def.type, { def, module: url });
    return this;
  }

  get(type: string): ItemTypeDefinition | undefined {
    return this.types.get(type)?.def;
  }

  moduleOf(type: string): string {
    const t = this.types.get(type);
    if (!t) throw new EngineError('engine.unknown_type', `unknown item type ${type}`, 'user');
    return t.module;
  }

  list(): ItemTypeDefinition[] {
    return [...this.types.values()].map((t) => t.def);
  }

  /** Lookup in the shape `validateProduction` wants. */
  lookup = (type: string): { settings: z.ZodType; kind: ItemTypeDefinition['kind'] } | undefined => this.get(type);
}
