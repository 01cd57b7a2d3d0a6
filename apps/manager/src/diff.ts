/** What changed between two production specs, item by item and field by field. */
import { formatPath } from '@hie/config';

export interface FieldChange {
  /** Path inside the item (or the production): `settings.port`, `queue.size`, `position.x`. */
  path: string;
  /** Absent when the field was added. */
  before?: unknown;
  /** Absent when the field was removed. */
  after?: unknown;
}

export interface SpecDiff {
  /** Names of items only in `to`. */
  added: string[];
  /** Names of items only in `from`. */
  removed: string[];
  /** Items in both whose definition differs. */
  changed: { item: string; fields: FieldChange[] }[];
  connectionsAdded: { from: string; to: string }[];
  connectionsRemoved: { from: string; to: string }[];
  /** Production-wide fields that differ (`name`, `storage`, `retentionDays`, `description`). */
  production: FieldChange[];
}

type Json = unknown;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Leaf-level differences: objects are walked key by key, arrays index by index. */
function fieldChanges(before: Json, after: Json, path: (string | number)[], out: FieldChange[]): void {
  if (deepEqual(before, after)) return;
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const k of keys) fieldChanges(before[k], after[k], [...path, k], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) fieldChanges(before[i], after[i], [...path, i], out);
    return;
  }
  const change: FieldChange = { path: formatPath(path) };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  out.push(change);
}

function itemsOf(spec: Json): Map<string, Record<string, unknown>> {
  const items = new Map<string, Record<string, unknown>>();
  const list = isRecord(spec) && Array.isArray(spec['items']) ? spec['items'] : [];
  for (const item of list) if (isRecord(item) && typeof item['name'] === 'string') items.set(item['name'], item);
  return items;
}

function connectionsOf(spec: Json): Map<string, { from: string; to: string }> {
  const out = new Map<string, { from: string; to: string }>();
  const list = isRecord(spec) && Array.isArray(spec['connections']) ? spec['connections'] : [];
  for (const c of list) {
    if (isRecord(c) && typeof c['from'] === 'string' && typeof c['to'] === 'string') {
      out.set(`${c['from']}\u0000${c['to']}`, { from: c['from'], to: c['to'] });
    }
  }
  return out;
}

/** The differences from spec `from` to spec `to` (both as stored). */
export function diffSpecs(from: Json, to: Json): SpecDiff {
  const a = itemsOf(from);
  const b = itemsOf(to);
  const added = [...b.keys()].filter((n) => !a.has(n));
  const removed = [...a.keys()].filter((n) => !b.has(n));
  const changed: SpecDiff['changed'] = [];
  for (const [name, after] of b) {
    const before = a.get(name);
    if (!before) continue;
    const fields: FieldChange[] = [];
    fieldChanges(before, after, [], fields);
    // JSONB does not keep key order: sort for a stable answer.
    fields.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    if (fields.length > 0) changed.push({ item: name, fields });
  }
  const ca = connectionsOf(from);
  const cb = connectionsOf(to);
  const production: FieldChange[] = [];
  const top = (s: Json) => (isRecord(s) ? Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'items' && k !== 'connections')) : {});
  fieldChanges(top(from), top(to), [], production);
  production.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return {
    added,
    removed,
    changed,
    connectionsAdded: [...cb].filter(([k]) => !ca.has(k)).map(([, c]) => c),
    connectionsRemoved: [...ca].filter(([k]) => !cb.has(k)).map(([, c]) => c),
    production,
  };
}
