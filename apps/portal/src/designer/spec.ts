/**
 * The production spec as the designer edits it: plain JSON, exactly what `projects.save`
 * takes. Helpers here are pure and immutable (every edit returns a new spec), which is what
 * makes undo/redo a simple stack of specs.
 */
import { ROUTER_ITEM_TYPES, routerRuleTargets } from '@hie/config';

export type ItemKind = 'service' | 'process' | 'operation';

export interface SpecItem {
  name: string;
  type: string;
  description?: string;
  settings?: Record<string, unknown>;
  enabled?: boolean;
  position?: { x: number; y: number };
  [key: string]: unknown;
}

export interface SpecConnection {
  from: string;
  to: string;
  description?: string;
}

export interface Spec {
  name: string;
  description?: string;
  storage?: string;
  retentionDays?: number;
  items: SpecItem[];
  connections: SpecConnection[];
  [key: string]: unknown;
}

export type Path = (string | number)[];

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Accepts whatever the API returned and makes sure items and connections are arrays. */
export function normalizeSpec(raw: unknown, fallbackName = 'production'): Spec {
  const r = isRecord(raw) ? raw : {};
  const items = Array.isArray(r.items) ? r.items.filter(isRecord).map((i) => ({ ...i }) as SpecItem) : [];
  const connections = Array.isArray(r.connections)
    ? r.connections.filter(isRecord).map((c) => ({ ...c }) as unknown as SpecConnection)
    : [];
  return { ...r, name: typeof r.name === 'string' ? r.name : fallbackName, items, connections };
}

export function getIn(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof key === 'number') cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = isRecord(cur) ? cur[key] : undefined;
  }
  return cur;
}

/**
 * Sets `value` at `path` (undefined deletes the key). Objects left empty by a delete are
 * removed too, so "back to default" leaves no `{}` behind.
 */
export function setIn<T>(obj: T, path: Path, value: unknown): T {
  if (path.length === 0) return value as T;
  const [key, ...rest] = path;
  if (typeof key === 'number') {
    const arr = Array.isArray(obj) ? [...obj] : [];
    const next = setIn(arr[key], rest, value);
    if (next === undefined && rest.length === 0) arr.splice(key, 1);
    else arr[key] = next;
    return arr as T;
  }
  const base: Record<string, unknown> = isRecord(obj) ? { ...obj } : {};
  const next = setIn(base[key], rest, value);
  if (next === undefined || (rest.length > 0 && isRecord(next) && Object.keys(next).length === 0)) delete base[key];
  else base[key] = next;
  return base as T;
}

/** Short labels for the built-in types; other types show their type name. */
const TYPE_LABELS: Record<string, string> = {
  'hl7.mllp.in': 'MLLP In',
  'hl7.mllp.out': 'MLLP Out',
  'file.in': 'File In',
  'file.out': 'File Out',
  'http.in': 'HTTP In',
  'http.out': 'HTTP Out',
  'hl7.router': 'Router',
  'fhir.router': 'FHIR Router',
  'hl7.transform': 'Transform',
  'hl7v2.to.fhir': 'HL7 v2 to FHIR',
  'fhir.http.in': 'FHIR In',
  'fhir.http.out': 'FHIR Out',
  'sftp.in': 'SFTP In',
  'sftp.out': 'SFTP Out',
};

export function typeLabel(type: string): string {
  if (TYPE_LABELS[type]) return TYPE_LABELS[type];
  return type
    .split('.')
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join(' ');
}

/** `base`, `base 2`, `base 3` … — the first not taken. */
export function uniqueName(base: string, taken: Set<string>): string {
  const clean = base.trim() || 'Item';
  if (!taken.has(clean)) return clean;
  const m = /^(.*?)(?: (\d+))?$/.exec(clean);
  const stem = m?.[1] ?? clean;
  let n = m?.[2] ? Number(m[2]) + 1 : 2;
  while (taken.has(`${stem} ${n}`)) n++;
  return `${stem} ${n}`;
}

export function newItemName(type: string, spec: Spec): string {
  const taken = new Set(spec.items.map((i) => i.name));
  return uniqueName(`${typeLabel(type)} 1`, taken);
}

export function addItem(spec: Spec, item: SpecItem): Spec {
  return { ...spec, items: [...spec.items, item] };
}

export function updateItem(spec: Spec, name: string, update: (item: SpecItem) => SpecItem): Spec {
  let changed = false;
  const items = spec.items.map((i) => {
    if (i.name !== name) return i;
    changed = true;
    return update(i);
  });
  return changed ? { ...spec, items } : spec;
}

/** Renames an item and every reference to it: connections and router rule targets. */
export function renameItem(spec: Spec, from: string, to: string): Spec {
  if (from === to) return spec;
  const items = spec.items.map((i) => {
    let item = i.name === from ? { ...i, name: to } : i;
    const rules = getIn(item, ['settings', 'rules']);
    if (Array.isArray(rules)) {
      let touched = false;
      const next = rules.map((rule: unknown) => {
        const targets = getIn(rule, ['then', 'to']);
        if (!Array.isArray(targets) || !targets.includes(from)) return rule;
        touched = true;
        return setIn(rule, ['then', 'to'], targets.map((t: unknown) => (t === from ? to : t)));
      });
      if (touched) item = setIn(item, ['settings', 'rules'], next);
    }
    return item;
  });
  const connections = spec.connections.map((c) => ({
    ...c,
    from: c.from === from ? to : c.from,
    to: c.to === from ? to : c.to,
  }));
  return { ...spec, items, connections };
}

export function connectionId(c: { from: string; to: string }): string {
  return `${c.from}\u2192${c.to}`;
}

export function removeElements(spec: Spec, itemNames: Set<string>, connectionIds: Set<string>): Spec {
  return {
    ...spec,
    items: spec.items.filter((i) => !itemNames.has(i.name)),
    connections: spec.connections.filter(
      (c) => !itemNames.has(c.from) && !itemNames.has(c.to) && !connectionIds.has(connectionId(c)),
    ),
  };
}

/** A router rule naming the target of a connection that is about to go. */
export interface RuleReference {
  /** The router item. */
  router: string;
  /** The rule's name. */
  rule: string;
  /** The item the rule sends to, whose connection from the router is being removed. */
  to: string;
}

/**
 * The router rules that {@link removeElements} with the same arguments would leave sending to an
 * item without a connection (a validation error): rules of routers that stay, naming the target
 * of a connection removed directly or with one of its items.
 */
export function ruleReferences(spec: Spec, itemNames: Set<string>, connectionIds: Set<string>): RuleReference[] {
  const removed = spec.connections.filter((c) => connectionIds.has(connectionId(c)) || itemNames.has(c.from) || itemNames.has(c.to));
  const refs: RuleReference[] = [];
  for (const item of spec.items) {
    if (!ROUTER_ITEM_TYPES.includes(item.type) || itemNames.has(item.name)) continue;
    const gone = new Set(removed.filter((c) => c.from === item.name).map((c) => c.to));
    for (const t of routerRuleTargets(item.settings)) {
      if (gone.has(t.to)) refs.push({ router: item.name, rule: t.rule, to: t.to });
    }
  }
  return refs;
}

/**
 * Takes the referenced targets out of their routers' rules. A rule left with no target at all
 * is removed (a send to nobody is not a rule the engine can run).
 */
export function removeRuleTargets(spec: Spec, refs: readonly RuleReference[]): Spec {
  let next = spec;
  for (const router of new Set(refs.map((r) => r.router))) {
    const gone = new Set(refs.filter((r) => r.router === router).map((r) => r.to));
    next = updateItem(next, router, (item) => {
      const rules = getIn(item, ['settings', 'rules']);
      if (!Array.isArray(rules)) return item;
      const kept = rules.flatMap((rule: unknown) => {
        const targets = getIn(rule, ['then', 'to']);
        if (!Array.isArray(targets) || !targets.some((t) => gone.has(t as string))) return [rule];
        const left = targets.filter((t) => !gone.has(t as string));
        return left.length === 0 ? [] : [setIn(rule, ['then', 'to'], left)];
      });
      return setIn(item, ['settings', 'rules'], kept);
    });
  }
  return next;
}

export function hasConnection(spec: Spec, from: string, to: string): boolean {
  return spec.connections.some((c) => c.from === from && c.to === to);
}

export function addConnection(spec: Spec, from: string, to: string): Spec {
  if (from === to || hasConnection(spec, from, to)) return spec;
  return { ...spec, connections: [...spec.connections, { from, to }] };
}

export interface Clipboard {
  items: SpecItem[];
  connections: SpecConnection[];
}

export function copySelection(spec: Spec, names: Set<string>): Clipboard {
  return {
    items: structuredClone(spec.items.filter((i) => names.has(i.name))),
    connections: structuredClone(spec.connections.filter((c) => names.has(c.from) && names.has(c.to))),
  };
}

/** Pastes copied items with new unique names ("X copy"), offset, and their inner connections. */
export function pasteClipboard(spec: Spec, clip: Clipboard, offset: number): { spec: Spec; names: string[] } {
  const taken = new Set(spec.items.map((i) => i.name));
  const rename = new Map<string, string>();
  const items = clip.items.map((i) => {
    const name = uniqueName(`${i.name} copy`, taken);
    taken.add(name);
    rename.set(i.name, name);
    const pos = i.position ?? { x: 0, y: 0 };
    return { ...structuredClone(i), name, position: { x: pos.x + offset, y: pos.y + offset } };
  });
  // Router rules inside the copies point at the copies when those were copied too.
  let next: Spec = { ...spec, items: [...spec.items, ...items] };
  for (const [oldName, newName] of rename) {
    for (const copy of items) {
      const rules = getIn(copy, ['settings', 'rules']);
      if (!Array.isArray(rules)) continue;
      next = updateItem(next, copy.name, (it) =>
        setIn(
          it,
          ['settings', 'rules'],
          (getIn(it, ['settings', 'rules']) as unknown[]).map((rule) => {
            const targets = getIn(rule, ['then', 'to']);
            return Array.isArray(targets) ? setIn(rule, ['then', 'to'], targets.map((t: unknown) => (t === oldName ? newName : t))) : rule;
          }),
        ),
      );
    }
  }
  const connections = clip.connections.map((c) => ({ ...c, from: rename.get(c.from)!, to: rename.get(c.to)! }));
  next = { ...next, connections: [...next.connections, ...connections] };
  return { spec: next, names: items.map((i) => i.name) };
}

export function specEquals(a: Spec, b: Spec): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
