import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HieError } from './errors';
import { formatPath, formatProblems, parseProduction, validateProduction, type ItemTypeLookup } from './validate';

const example = {
  name: 'adt-feed',
  items: [
    { name: 'ADT In', type: 'hl7.mllp.in', settings: { port: 2575 } },
    {
      name: 'Route',
      type: 'hl7.router',
      settings: { rules: [] },
      execution: { mode: 'multiprocess', workers: 2 },
      queue: { type: 'priority', size: 10000, overflow: 'block' },
    },
    { name: 'ADT Out', type: 'file.out', settings: { directory: './out/adt' } },
  ],
  connections: [
    { from: 'ADT In', to: 'Route' },
    { from: 'Route', to: 'ADT Out' },
  ],
};

const types: Record<string, z.ZodType> = {
  'hl7.mllp.in': z.strictObject({ port: z.int().min(0).max(65535), host: z.string().default('0.0.0.0') }),
  'hl7.router': z.strictObject({ rules: z.array(z.unknown()).default([]) }),
  'file.out': z.strictObject({ directory: z.string().min(1) }),
};
const itemTypes: ItemTypeLookup = (type) => (types[type] ? { settings: types[type] } : undefined);

describe('validateProduction', () => {
  it('accepts the example and fills defaults', () => {
    const result = validateProduction(example);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const p = result.value;
    expect(p.storage).toBe('full');
    expect(p.retentionDays).toBe(30);
    expect(p.items[0].execution).toEqual({ mode: 'async', workers: 1 });
    expect(p.items[0].enabled).toBe(true);
    expect(p.items[1].execution).toEqual({ mode: 'multiprocess', workers: 2 });
    expect(p.items[1].queue.type).toBe('priority');
    expect(p.items[2].restart.policy).toBe('on_failure');
    expect(p.items[2].circuitBreaker.enabled).toBe(false);
    expect(p.items[2].position).toBeUndefined();
    expect(p.connections).toHaveLength(2);
  });

  it('accepts the minimal production', () => {
    expect(validateProduction({ name: 'empty' })).toEqual({
      ok: true,
      value: { name: 'empty', storage: 'full', retentionDays: 30, items: [], connections: [] },
    });
  });

  it('reports every problem with its path', () => {
    const spec = {
      name: 'bad name!',
      storage: 'all',
      colour: 'red',
      items: [
        { name: 'A', type: 'hl7.mllp.in', queue: { overflow: 'spill', sise: 3 }, execution: { workers: 0 } },
        { name: 'A', type: 'Not A Type', restart: { policy: 'sometimes' } },
        { name: ' B', type: 'file.out', enabled: 'yes' },
      ],
      connections: [
        { from: 'A', to: 'Nowhere' },
        { from: 'A', to: 'A' },
        { from: 'A', to: 'Nowhere' },
        { from: 'A', to: 5 },
      ],
    };
    const result = validateProduction(spec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const found = result.problems.map((p) => `${p.pathText} ${p.code}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'name invalid_format',
        'storage invalid_value',
        'colour unrecognized_keys',
        'items[0].queue.overflow invalid_value',
        'items[0].queue.sise unrecognized_keys',
        'items[0].execution.workers too_small',
        'items[1].type invalid_format',
        'items[1].restart.policy invalid_value',
        'items[1].name duplicate_item_name',
        'items[2].name invalid_format',
        'items[2].enabled invalid_type',
        'connections[0].to dangling_connection',
        'connections[1] self_connection',
        'connections[2] duplicate_connection',
        'connections[3].to invalid_type',
      ]),
    );
    expect(result.problems.length).toBeGreaterThanOrEqual(15);
    for (const p of result.problems) {
      expect(p.pathText).toBe(formatPath(p.path));
      expect(p.message).not.toBe('');
    }
  });

  it('checks item types and their settings when given, filling type defaults', () => {
    const ok = validateProduction(example, { itemTypes });
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.value.items[0].settings).toEqual({ port: 2575, host: '0.0.0.0' });

    const spec = structuredClone(example);
    spec.items[0].settings = { port: 99999 };
    spec.items[2].type = 'ftp.out';
    (spec.items[1].settings as Record<string, unknown>).extra = 1;
    const bad = validateProduction(spec, { itemTypes });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.map((p) => `${p.pathText} ${p.code}`)).toEqual([
      'items[0].settings.port too_big',
      'items[1].settings.extra unrecognized_keys',
      'items[2].type unknown_item_type',
    ]);
  });

  it('refuses an execution mode other than async on a service (services run on the event loop)', () => {
    const kinds: Record<string, 'service' | 'process' | 'operation'> = { 'hl7.mllp.in': 'service', 'hl7.router': 'process', 'file.out': 'operation' };
    const withKinds: ItemTypeLookup = (type) => (types[type] ? { settings: types[type], kind: kinds[type] } : undefined);
    const spec = structuredClone(example);
    (spec.items[0] as Record<string, unknown>).execution = { mode: 'thread_pool' };
    const bad = validateProduction(spec, { itemTypes: withKinds });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => `${p.pathText} ${p.code}`)).toEqual(['items[0].execution.mode service_execution_mode']);
    // async (the default, as a form saves it) stays valid; the process keeps its multiprocess mode.
    (spec.items[0] as Record<string, unknown>).execution = { mode: 'async', workers: 1 };
    expect(validateProduction(spec, { itemTypes: withKinds }).ok).toBe(true);
  });

  it('refuses a router rule that sends to an item without a connection from the router', () => {
    const spec = structuredClone(example);
    spec.items.push({ name: 'Lab Out', type: 'file.out', settings: { directory: './out/lab' } });
    const rules: object[] = [
      { name: 'adt', then: { action: 'send', to: ['ADT Out', 'Lab Out'] } },
      { name: 'ghost', then: { action: 'transform', operations: [], to: ['Nowhere'] } },
      { name: 'drop', then: { action: 'discard' } },
    ];
    (spec.items[1] as { settings: unknown }).settings = { rules };
    const result = validateProduction(spec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.pathText, p.code, p.message])).toEqual([
      ['items[1].settings.rules[0].then.to[1]', 'rule_target_not_connected', 'rule "adt" sends to "Lab Out", but there is no connection "Route" → "Lab Out"'],
      ['items[1].settings.rules[1].then.to[0]', 'rule_target_not_connected', 'rule "ghost" sends to "Nowhere", but there is no item named "Nowhere"'],
    ]);
    // The connection the rule names makes the production valid again.
    rules.splice(1, 1);
    spec.connections.push({ from: 'Route', to: 'Lab Out' });
    expect(validateProduction(spec).ok).toBe(true);
  });

  it('reports problems for non-object specs without throwing', () => {
    for (const spec of [null, 42, 'x', [], { items: 'no', connections: {} }]) {
      const result = validateProduction(spec);
      expect(result.ok).toBe(false);
    }
  });

  it('does not report dangling connections when items is not an array', () => {
    const result = validateProduction({ name: 'x', items: 5, connections: [{ from: 'a', to: 'b' }] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.code)).toEqual(['invalid_type']);
  });
});

describe('parseProduction', () => {
  it('returns the value', () => {
    expect(parseProduction(example).name).toBe('adt-feed');
  });

  it('throws config.invalid with the problems', () => {
    let caught: unknown;
    try {
      parseProduction({ name: 'x', items: [{ name: 'a', type: 'b.c', queue: { size: -1 } }], connections: [{ from: 'a', to: 'z' }] });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(HieError);
    const e = caught as HieError;
    expect(e.code).toBe('config.invalid');
    expect(e.kind).toBe('user');
    expect((e.details as { problems: unknown[] }).problems).toHaveLength(2);
    expect(e.message).toContain('items[0].queue.size: ');
    expect(e.message).toContain('connections[0].to: no item named "z"');
  });
});

describe('formatting', () => {
  it('formats paths', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['items', 1, 'queue', 'overflow'])).toBe('items[1].queue.overflow');
    expect(formatPath(['items', 0, 'settings', 'a b'])).toBe('items[0].settings["a b"]');
  });

  it('formats problems one per line', () => {
    expect(
      formatProblems([
        { path: [], pathText: '', code: 'invalid_type', message: 'expected object' },
        { path: ['name'], pathText: 'name', code: 'too_small', message: 'too short' },
      ]),
    ).toBe('(root): expected object\nname: too short');
  });
});
