import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonSettingsJsonSchema, itemJsonSchema, productionJsonSchema } from './json-schema';

type Node = { [key: string]: unknown };
const node = (value: unknown): Node => value as Node;
const prop = (schema: unknown, ...path: string[]): Node =>
  path.reduce<Node>((at, key) => node(node(at.properties)[key]), node(schema));

describe('JSON Schema export', () => {
  it('common settings carry descriptions, defaults and enums', () => {
    const schema = commonSettingsJsonSchema();
    const mode = prop(schema, 'execution', 'mode');
    expect(mode.enum).toEqual(['async', 'multiprocess', 'thread_pool', 'single_process']);
    expect(mode.default).toBe('async');
    expect(mode.description).toMatch(/event loop/);
    const workers = prop(schema, 'execution', 'workers');
    expect(workers).toMatchObject({ type: 'integer', minimum: 1, maximum: 64, default: 1 });
    expect(prop(schema, 'queue', 'overflow').enum).toEqual(['block', 'drop_oldest', 'reject_new']);
    expect(prop(schema, 'queue').default).toEqual({});
    expect(prop(schema, 'queue').additionalProperties).toBe(false);
    expect(prop(schema, 'enabled')).toMatchObject({ type: 'boolean', default: true });
  });

  it('every leaf of the common settings has a description and a default', () => {
    const schema = commonSettingsJsonSchema();
    for (const [group, groupSchema] of Object.entries(node(node(schema).properties))) {
      expect(node(groupSchema).description, group).toBeTruthy();
      const leaves = node(groupSchema).properties;
      if (!leaves) continue;
      for (const [key, leaf] of Object.entries(node(leaves))) {
        expect(node(leaf).description, `${group}.${key}`).toBeTruthy();
        expect(node(leaf).default, `${group}.${key}`).not.toBeUndefined();
      }
    }
  });

  it('production schema: items, connections, required fields', () => {
    const schema = productionJsonSchema();
    expect(node(schema).required).toEqual(['name']);
    expect(node(schema).additionalProperties).toBe(false);
    expect(prop(schema, 'storage')).toMatchObject({ enum: ['full', 'metadata', 'none'], default: 'full' });
    const item = node(prop(schema, 'items').items);
    expect(item.required).toEqual(['name', 'type']);
    expect(prop(item, 'queue', 'type').default).toBe('fifo');
    expect(prop(item, 'type').pattern).toBeTypeOf('string');
    const output = productionJsonSchema({ io: 'output' });
    expect(node(output).required).toEqual(['name', 'storage', 'retentionDays', 'items', 'connections']);
    expect(() => JSON.stringify(schema)).not.toThrow();
  });

  it('item schema can embed a type settings schema', () => {
    const settings = z.strictObject({ port: z.int().default(2575).describe('TCP port to listen on.') });
    const schema = itemJsonSchema({ settings });
    expect(prop(schema, 'settings', 'port')).toMatchObject({ default: 2575, description: 'TCP port to listen on.' });
    expect(prop(itemJsonSchema(), 'settings').type).toBe('object');
  });
});
