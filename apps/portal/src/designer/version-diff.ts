/**
 * The table a version diff shows: what changed in each item, in the production's own settings,
 * and on the canvas (groups and notes). The manager's diff reports the last two as production
 * fields (`storage`, `canvas.groups[0].label`); a diff made of those alone is still a difference.
 */

/** One changed field, as the manager's `versions.diff` reports it. */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** What {@link diffRows} reads of a diff. */
export interface DiffFields {
  added: string[];
  removed: string[];
  changed: { item: string; fields: FieldChange[] }[];
  connectionsAdded: unknown[];
  connectionsRemoved: unknown[];
  production: FieldChange[];
}

/** A row of the table: whose field (an item's name, "Production" or "Canvas"), which one, before and after. */
export interface DiffRow extends FieldChange {
  owner: string;
}

export function diffRows(diff: DiffFields): DiffRow[] {
  const rows: DiffRow[] = diff.changed.flatMap((c) => c.fields.map((f) => ({ owner: c.item, ...f })));
  for (const f of diff.production) {
    const canvas = /^canvas(?:\.|\[|$)/.test(f.path);
    rows.push({ ...f, owner: canvas ? 'Canvas' : 'Production', path: canvas ? f.path.replace(/^canvas\.?/, '') || '(all)' : f.path });
  }
  return rows;
}

export function isEmptyDiff(diff: DiffFields): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.connectionsAdded.length === 0 && diff.connectionsRemoved.length === 0 && diffRows(diff).length === 0;
}
