import { z } from 'zod';
import { builtinItemTypes, dropReferenceProblems, formatPath, validateProduction, withoutReferences, type ItemTypeLookup } from '@hie/config';
import type { Spec } from './spec';

/** A problem attached to an item (path relative to the item) or to the production. */
export interface DesignProblem {
  /** Item name, or undefined for production-level problems (connections, name, …). */
  item?: string;
  /** Path inside the item (`settings.port`, `queue.size`) or inside the spec. */
  path: string;
  message: string;
  source: 'client' | 'server';
}

const builtin = new Map(builtinItemTypes.map((t) => [t.type, t]));
const anySettings = z.record(z.string(), z.unknown());

/**
 * Client-side validation with the same zod schemas the manager and engine use (libs/config):
 * the built-in types' settings are checked exactly; plugin types only know their name here,
 * so their settings are left to the server.
 */
export function makeLookup(knownTypes: Set<string> | undefined): ItemTypeLookup {
  return (type) => {
    const b = builtin.get(type);
    if (b) return { settings: b.settings, kind: b.kind };
    if (!knownTypes || knownTypes.has(type)) return { settings: anySettings };
    return undefined;
  };
}

function friendly(message: string, code: string | undefined): string {
  if (code === 'invalid_type' && /received undefined/.test(message)) return 'Required';
  return message.replace(/^Invalid input: /, '');
}

/** Maps spec-level problems (paths from the spec root) to items by `items[i]`. */
export function mapProblems(
  spec: Spec,
  problems: { path: (string | number)[]; message: string; code?: string }[],
  source: 'client' | 'server',
): DesignProblem[] {
  return problems.map((p) => {
    if (p.path[0] === 'items' && typeof p.path[1] === 'number') {
      const item = spec.items[p.path[1]];
      if (item) return { item: item.name, path: formatPath(p.path.slice(2)), message: friendly(p.message, p.code), source };
    }
    if (p.path[0] === 'connections' && typeof p.path[1] === 'number') {
      const c = spec.connections[p.path[1]];
      if (c) return { path: formatPath(p.path), message: `connection ${c.from} → ${c.to}: ${friendly(p.message, p.code)}`, source };
    }
    return { path: formatPath(p.path), message: friendly(p.message, p.code), source };
  });
}

export function validateSpec(spec: Spec, knownTypes: Set<string> | undefined): DesignProblem[] {
  // A setting holding `${VAR}` is checked at deploy, resolved in the target environment.
  const result = validateProduction(withoutReferences(spec), { itemTypes: makeLookup(knownTypes) });
  return result.ok ? [] : mapProblems(spec, dropReferenceProblems(spec, result.problems), 'client');
}

/** Groups problems per item name ('' for the production). Server problems first, no duplicates. */
export function groupProblems(list: DesignProblem[]): Map<string, DesignProblem[]> {
  const map = new Map<string, DesignProblem[]>();
  const seen = new Set<string>();
  for (const p of [...list].sort((a, b) => (a.source === b.source ? 0 : a.source === 'server' ? -1 : 1))) {
    const key = `${p.item ?? ''}|${p.path}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const k = p.item ?? '';
    map.set(k, [...(map.get(k) ?? []), p]);
  }
  return map;
}
