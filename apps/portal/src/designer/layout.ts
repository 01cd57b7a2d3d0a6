import dagre from '@dagrejs/dagre';
import type { Spec } from './spec';

export const NODE_W = 210;
export const NODE_H = 92;

/**
 * Lays the production out left → right with dagre (services on the left, operations on the
 * right). `sizes` are the measured node sizes where known. Returns a new spec with positions.
 */
export function autoLayout(spec: Spec, sizes: Map<string, { width: number; height: number }> = new Map(), only?: Set<string>): Spec {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const item of spec.items) {
    const s = sizes.get(item.name) ?? { width: NODE_W, height: NODE_H };
    g.setNode(item.name, { width: s.width, height: s.height });
  }
  for (const c of spec.connections) if (g.hasNode(c.from) && g.hasNode(c.to)) g.setEdge(c.from, c.to);
  dagre.layout(g);
  return {
    ...spec,
    items: spec.items.map((item) => {
      if (only && !only.has(item.name)) return item;
      const n = g.node(item.name);
      const s = sizes.get(item.name) ?? { width: NODE_W, height: NODE_H };
      return { ...item, position: { x: Math.round(n.x - s.width / 2), y: Math.round(n.y - s.height / 2) } };
    }),
  };
}
