import dagre from '@dagrejs/dagre';
import { inGroup } from '@hie/config';
import { GROUP_LABEL, GROUP_PAD, groupAround, groupsOf, notesOf, withCanvas, type Spec, type SpecGroup } from './spec';

export const NODE_W = 210;
export const NODE_H = 92;

/** The group a point belongs to: the smallest whose box holds it (groups may overlap). */
function groupAt(groups: readonly SpecGroup[], at: { x: number; y: number }): SpecGroup | undefined {
  return groups.filter((g) => inGroup(g, at)).sort((a, b) => a.width * a.height - b.width * b.height)[0];
}

/** The group each item belongs to. */
function groupOfItems(spec: Spec, groups: readonly SpecGroup[]): Map<string, SpecGroup> {
  const out = new Map<string, SpecGroup>();
  for (const item of spec.items) {
    const g = item.position ? groupAt(groups, item.position) : undefined;
    if (g) out.set(item.name, g);
  }
  return out;
}

/**
 * Lays the production out left → right with dagre (services on the left, operations on the
 * right). `sizes` are the measured node sizes where known. Returns a new spec with positions.
 *
 * Canvas groups stay whole: an item is laid out inside the group it was in (a dagre cluster), the
 * group is fitted around its items again, and the notes inside it move with it (to the same
 * place in proportion). A group holding
 * no item keeps its place. With `only` (place new items) groups and notes are left as they are.
 */
export function autoLayout(spec: Spec, sizes: Map<string, { width: number; height: number }> = new Map(), only?: Set<string>): Spec {
  const groups = only ? [] : groupsOf(spec);
  const member = groupOfItems(spec, groups);
  const clustered = member.size > 0;
  const g = new dagre.graphlib.Graph({ compound: clustered });
  // Clusters need more room between them: their boxes are padded around the items.
  g.setGraph({ rankdir: 'LR', nodesep: clustered ? 40 + GROUP_PAD * 2 : 40, ranksep: clustered ? 90 + GROUP_PAD * 2 : 90, marginx: 20 + GROUP_PAD, marginy: 20 + GROUP_PAD + GROUP_LABEL });
  g.setDefaultEdgeLabel(() => ({}));
  const sizeOf = (name: string) => sizes.get(name) ?? { width: NODE_W, height: NODE_H };
  for (const item of spec.items) g.setNode(item.name, sizeOf(item.name));
  const cluster = (id: string) => `\u0000group:${id}`;
  for (const grp of new Set(member.values())) g.setNode(cluster(grp.id), {});
  for (const [name, grp] of member) g.setParent(name, cluster(grp.id));
  for (const c of spec.connections) if (g.hasNode(c.from) && g.hasNode(c.to)) g.setEdge(c.from, c.to);
  dagre.layout(g);
  const laid: Spec = {
    ...spec,
    items: spec.items.map((item) => {
      if (only && !only.has(item.name)) return item;
      const n = g.node(item.name);
      const s = sizeOf(item.name);
      return { ...item, position: { x: Math.round(n.x - s.width / 2), y: Math.round(n.y - s.height / 2) } };
    }),
  };
  if (!clustered) return laid;

  // Each group around its items' new boxes; notes inside a group keep their place in it.
  const fitted = new Map<string, SpecGroup>();
  for (const grp of new Set(member.values())) {
    const rects = laid.items
      .filter((i) => member.get(i.name) === grp)
      .map((i) => ({ x: i.position!.x, y: i.position!.y, ...sizeOf(i.name) }));
    fitted.set(grp.id, { ...grp, ...groupAround(rects) });
  }
  const notes = notesOf(spec).map((n) => {
    const home = groupAt(
      groups.filter((grp) => fitted.has(grp.id)),
      n,
    );
    if (!home) return n;
    // Where it was in its group, in proportion: the group's box is fitted anew, so it may shrink.
    const to = fitted.get(home.id)!;
    const along = (v: number, from: number, size: number) => (size > 0 ? (v - from) / size : 0);
    return { ...n, x: Math.round(to.x + along(n.x, home.x, home.width) * to.width), y: Math.round(to.y + along(n.y, home.y, home.height) * to.height) };
  });
  return withCanvas(
    laid,
    groupsOf(spec).map((grp) => fitted.get(grp.id) ?? grp),
    notes,
  );
}
