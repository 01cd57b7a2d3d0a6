/**
 * The production spec as the designer edits it: plain JSON, exactly what `projects.save`
 * takes. Helpers here are pure and immutable (every edit returns a new spec), which is what
 * makes undo/redo a simple stack of specs.
 */
import { ROUTER_ITEM_TYPES, inGroup, routerRuleTargets, type CanvasColour } from '@hie/config';

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

/** A labelled box on the canvas; the items and notes inside it belong to it (see `inGroup`). */
export interface SpecGroup {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
  colour?: CanvasColour;
}

/** A free-text note on the canvas. */
export interface SpecNote {
  id: string;
  text: string;
  x: number;
  y: number;
  width?: number;
  height?: number;
}

export interface SpecCanvas {
  groups?: SpecGroup[];
  notes?: SpecNote[];
}

export interface Spec {
  name: string;
  description?: string;
  storage?: string;
  retentionDays?: number;
  items: SpecItem[];
  connections: SpecConnection[];
  canvas?: SpecCanvas;
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
  groups?: SpecGroup[];
  notes?: SpecNote[];
}

/**
 * What a copy takes: the selected items, and the selected groups (node ids in `canvasIds`) with
 * everything inside them (items and notes), the selected notes, and the connections between the
 * items taken.
 */
export function copySelection(spec: Spec, names: Set<string>, canvasIds: ReadonlySet<string> = new Set()): Clipboard {
  const groups = groupsOf(spec).filter((g) => canvasIds.has(groupNodeId(g.id)));
  const taken = new Set(names);
  for (const item of spec.items) if (item.position && groups.some((g) => inGroup(g, item.position!))) taken.add(item.name);
  const notes = notesOf(spec).filter((n) => canvasIds.has(noteNodeId(n.id)) || groups.some((g) => inGroup(g, n)));
  return {
    items: structuredClone(spec.items.filter((i) => taken.has(i.name))),
    connections: structuredClone(spec.connections.filter((c) => taken.has(c.from) && taken.has(c.to))),
    ...(groups.length > 0 ? { groups: structuredClone(groups) } : {}),
    ...(notes.length > 0 ? { notes: structuredClone(notes) } : {}),
  };
}

/** Pastes copied items with new unique names ("X copy"), offset, with their inner connections, and copied groups and notes with new ids. */
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
  for (const g of clip.groups ?? []) next = addGroup(next, { ...structuredClone(g), id: newCanvasId(next, 'g'), x: g.x + offset, y: g.y + offset });
  for (const n of clip.notes ?? []) next = addNote(next, { ...structuredClone(n), id: newCanvasId(next, 'n'), x: n.x + offset, y: n.y + offset });
  return { spec: next, names: items.map((i) => i.name) };
}

export function specEquals(a: Spec, b: Spec): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

// ── canvas: groups and notes ─────────────────────────────────────────────────────────────────

/**
 * Node ids of groups and notes on the React Flow canvas. They start with a space, which no item
 * name can (names are trimmed), so they never collide with an item's node id (its name).
 */
export function groupNodeId(id: string): string {
  return ` group:${id}`;
}
export function noteNodeId(id: string): string {
  return ` note:${id}`;
}
/** What a canvas node id stands for; undefined for an item's node. */
export function canvasNodeKind(nodeId: string): { kind: 'group' | 'note'; id: string } | undefined {
  const m = /^ (group|note):(.*)$/.exec(nodeId);
  return m ? { kind: m[1] as 'group' | 'note', id: m[2]! } : undefined;
}

// The spec comes from the API as plain JSON: a malformed canvas reads as empty, never a crash.
export function groupsOf(spec: Spec): SpecGroup[] {
  const list = spec.canvas?.groups;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}
export function notesOf(spec: Spec): SpecNote[] {
  const list = spec.canvas?.notes;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

/** The spec with these groups and notes; empty lists (and an empty canvas) are left out, so a spec without any stays as it was. */
export function withCanvas(spec: Spec, groups: SpecGroup[], notes: SpecNote[]): Spec {
  const canvas: SpecCanvas = { ...(spec.canvas ?? {}) };
  if (groups.length > 0) canvas.groups = groups;
  else delete canvas.groups;
  if (notes.length > 0) canvas.notes = notes;
  else delete canvas.notes;
  const { canvas: _old, ...rest } = spec;
  return Object.keys(canvas).length > 0 ? { ...rest, canvas } : rest;
}

/** A new id, `g-1`, `g-2` … (`n-…` for notes), not taken by any group or note. */
export function newCanvasId(spec: Spec, prefix: 'g' | 'n'): string {
  const taken = new Set([...groupsOf(spec), ...notesOf(spec)].map((x) => x.id));
  let n = 1;
  while (taken.has(`${prefix}-${n}`)) n++;
  return `${prefix}-${n}`;
}

export function addGroup(spec: Spec, group: SpecGroup): Spec {
  return withCanvas(spec, [...groupsOf(spec), group], notesOf(spec));
}
export function addNote(spec: Spec, note: SpecNote): Spec {
  return withCanvas(spec, groupsOf(spec), [...notesOf(spec), note]);
}
/** Whether applying `patch` to `x` would change nothing (then an edit returns the spec itself: no undo step). */
function unchangedBy(x: object | undefined, patch: object): boolean {
  return !x || Object.entries(patch).every(([k, v]) => (x as Record<string, unknown>)[k] === v);
}

export function updateGroup(spec: Spec, id: string, patch: Partial<Omit<SpecGroup, 'id'>>): Spec {
  if (unchangedBy(groupsOf(spec).find((g) => g.id === id), patch)) return spec;
  return withCanvas(spec, groupsOf(spec).map((g) => (g.id === id ? dropUndefined({ ...g, ...patch }) : g)), notesOf(spec));
}
export function updateNote(spec: Spec, id: string, patch: Partial<Omit<SpecNote, 'id'>>): Spec {
  if (unchangedBy(notesOf(spec).find((n) => n.id === id), patch)) return spec;
  return withCanvas(spec, groupsOf(spec), notesOf(spec).map((n) => (n.id === id ? dropUndefined({ ...n, ...patch }) : n)));
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Removes groups and notes by node id. A group goes alone: the items inside it stay where they are. */
export function removeCanvas(spec: Spec, nodeIds: Set<string>): Spec {
  if (![...nodeIds].some((id) => canvasNodeKind(id))) return spec;
  return withCanvas(
    spec,
    groupsOf(spec).filter((g) => !nodeIds.has(groupNodeId(g.id))),
    notesOf(spec).filter((n) => !nodeIds.has(noteNodeId(n.id))),
  );
}

type Point = { x: number; y: number };

/**
 * Where every node ends up when the nodes in `moved` (node id → new position) are dragged
 * there: those nodes, and the items and notes inside each dragged group (by where they are
 * now), shifted as far as their group. A member dragged itself is not shifted twice.
 */
export function canvasMoves(spec: Spec, moved: ReadonlyMap<string, Point>): Map<string, Point> {
  const out = new Map(moved);
  for (const g of groupsOf(spec)) {
    const to = moved.get(groupNodeId(g.id));
    if (!to || (to.x === g.x && to.y === g.y)) continue;
    const dx = to.x - g.x;
    const dy = to.y - g.y;
    for (const item of spec.items) {
      if (item.position && !out.has(item.name) && inGroup(g, item.position)) out.set(item.name, { x: item.position.x + dx, y: item.position.y + dy });
    }
    for (const n of notesOf(spec)) {
      const id = noteNodeId(n.id);
      if (!out.has(id) && inGroup(g, n)) out.set(id, { x: n.x + dx, y: n.y + dy });
    }
  }
  return out;
}

/** The spec after a drag (see {@link canvasMoves}): one edit, so one undo step. */
export function moveNodes(spec: Spec, moved: ReadonlyMap<string, Point>): Spec {
  const to = canvasMoves(spec, moved);
  const items = spec.items.map((it) => (to.has(it.name) ? { ...it, position: to.get(it.name)! } : it));
  const groups = groupsOf(spec).map((g) => ({ ...g, ...(to.get(groupNodeId(g.id)) ?? {}) }));
  const notes = notesOf(spec).map((n) => ({ ...n, ...(to.get(noteNodeId(n.id)) ?? {}) }));
  return withCanvas({ ...spec, items }, groups, notes);
}

/** A group box around some rectangles (the selected nodes), with room for its label. */
/** Room a group's box leaves around what it holds, and above it for the label. */
export const GROUP_PAD = 30;
export const GROUP_LABEL = 16;

export function groupAround(rects: readonly { x: number; y: number; width: number; height: number }[]): Pick<SpecGroup, 'x' | 'y' | 'width' | 'height'> {
  const pad = GROUP_PAD;
  const x = Math.min(...rects.map((r) => r.x)) - pad;
  const y = Math.min(...rects.map((r) => r.y)) - pad - GROUP_LABEL;
  const right = Math.max(...rects.map((r) => r.x + r.width)) + pad;
  const bottom = Math.max(...rects.map((r) => r.y + r.height)) + pad;
  return { x: Math.round(x), y: Math.round(y), width: Math.round(right - x), height: Math.round(bottom - y) };
}
