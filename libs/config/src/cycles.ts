/** The part of a production {@link findCycles} looks at. */
export interface ProductionGraph {
  items: readonly { name: string }[];
  connections: readonly { from: string; to: string }[];
}

/** Options of {@link findCycles}. */
export interface FindCyclesOptions {
  /**
   * Stop after this many cycles (the number of cycles can grow exponentially with the graph).
   * @defaultValue 100
   */
  limit?: number;
}

/**
 * Finds the cycles among a production's connections, as lists of item names in wire order
 * (`['A', 'B']` means A → B → A; a self-connection gives `['A']`). Each elementary cycle is
 * reported once, starting from its item that comes first in `items`. Connections naming
 * missing items are ignored. A cycle is legal (a retry loop, a re-route) but usually a
 * mistake, so the manager reports these as warnings.
 */
export function findCycles(production: ProductionGraph, opts: FindCyclesOptions = {}): string[][] {
  const limit = opts.limit ?? 100;
  const index = new Map<string, number>();
  production.items.forEach((item, i) => {
    if (!index.has(item.name)) index.set(item.name, i);
  });
  const names = production.items.map((item) => item.name);
  const next: number[][] = names.map(() => []);
  for (const { from, to } of production.connections) {
    const a = index.get(from);
    const b = index.get(to);
    if (a === undefined || b === undefined || next[a].includes(b)) continue;
    next[a].push(b);
  }

  // Elementary cycles, each found once from its lowest-index node: from each start s, walk
  // only nodes with an index above s. Fine for productions (tens of items); `limit` bounds
  // the pathological case.
  const cycles: string[][] = [];
  const path: number[] = [];
  const onPath = new Set<number>();
  const walk = (start: number, node: number): void => {
    path.push(node);
    onPath.add(node);
    for (const to of next[node]) {
      if (cycles.length >= limit) break;
      if (to === start) cycles.push(path.map((i) => names[i]));
      else if (to > start && !onPath.has(to)) walk(start, to);
    }
    onPath.delete(node);
    path.pop();
  };
  for (let start = 0; start < names.length && cycles.length < limit; start++) walk(start, start);
  return cycles;
}
