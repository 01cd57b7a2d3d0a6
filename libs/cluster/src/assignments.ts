import type { Assignments, DesiredState } from './coordinator';

/** The parts of a production spec the leader needs (the engine validates the whole spec). */
interface SpecItem {
  name: string;
  type: string;
  enabled?: boolean;
  queue?: { type?: string };
}

function itemsOf(spec: unknown): SpecItem[] {
  const items = (spec as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  return items.filter((i): i is SpecItem => typeof (i as SpecItem)?.name === 'string' && typeof (i as SpecItem)?.type === 'string');
}

/** A small stable hash, so each ordered item's partitions start on a different node. */
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface AssignmentInput {
  previous: Assignments | undefined;
  /** Live node ids. */
  nodes: string[];
  desired: DesiredState[];
  isSingleton: (type: string) => boolean;
  partitions: number;
  leaderNodeId: string;
  epoch: string;
}

/**
 * The leader's plan. Singletons (enabled items of a singleton type, in running productions) stay
 * where they are while their node lives, so a leader change or a node joining moves nothing; a
 * dead node's singletons go to the live node running the fewest. Each partition of an ordered
 * (fifo) item goes round-robin over the live nodes, from an offset per item.
 */
export function computeAssignments(input: AssignmentInput): Assignments {
  const nodes = [...input.nodes].sort();
  const live = new Set(nodes);
  const singletons: Assignments['singletons'] = {};
  const partitions: Assignments['partitions'] = {};
  const load = new Map(nodes.map((n) => [n, 0]));
  const running = input.desired.filter((d) => d.state === 'running').sort((a, b) => a.projectId.localeCompare(b.projectId));
  const unplaced: [string, string][] = [];
  for (const d of running) {
    const items = itemsOf(d.spec).filter((i) => i.enabled !== false);
    for (const item of items) {
      if (input.isSingleton(item.type)) {
        const before = input.previous?.singletons[d.projectId]?.[item.name];
        if (before && live.has(before)) {
          (singletons[d.projectId] ??= {})[item.name] = before;
          load.set(before, load.get(before)! + 1);
        } else unplaced.push([d.projectId, item.name]);
      } else if ((item.queue?.type ?? 'fifo') === 'fifo' && nodes.length > 0) {
        const start = hash(`${d.projectId}/${item.name}`) % nodes.length;
        const map: Record<number, string> = {};
        for (let p = 0; p < input.partitions; p++) map[p] = nodes[(start + p) % nodes.length]!;
        (partitions[d.projectId] ??= {})[item.name] = map;
      }
    }
  }
  for (const [projectId, item] of unplaced) {
    if (nodes.length === 0) break;
    const least = nodes.reduce((a, b) => (load.get(b)! < load.get(a)! ? b : a));
    (singletons[projectId] ??= {})[item] = least;
    load.set(least, load.get(least)! + 1);
  }
  return { epoch: input.epoch, leaderNodeId: input.leaderNodeId, singletons, partitions, computedAt: Date.now() };
}
