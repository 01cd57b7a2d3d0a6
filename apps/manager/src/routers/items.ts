import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { ConfigProblem, ItemInput } from '@hie/config';
import { formatPath } from '@hie/config';
import { requireProject } from '../authz.js';
import { redactSpec, secretLookup } from '../secrets.js';
import { asSpec, commitSpec, getVersion } from '../spec.js';
import { authedProcedure, router } from '../trpc.js';

const projectId = z.string().min(1);
const baseVersion = z.int().min(0);

/**
 * One item as the designer sends it: name and type are checked here, everything else with the
 * whole spec (common settings and the type's settings), so problems carry their full path.
 */
const itemInput = z.custom<ItemInput>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof Reflect.get(v, 'name') === 'string' && typeof Reflect.get(v, 'type') === 'string',
  { message: 'an item must be an object with a name and a type' },
);

/** Problems at `items[i]…` re-rooted to `item…` (the procedure's input). */
function rerootItem(index: number) {
  return (problems: ConfigProblem[]): ConfigProblem[] =>
    problems.map((p) => {
      if (p.path[0] !== 'items' || p.path[1] !== index) return p;
      const path = ['item', ...p.path.slice(2)];
      return { ...p, path, pathText: formatPath(path) };
    });
}

export const itemsRouter = router({
  /** The items of the current version. */
  list: authedProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    const spec = redactSpec(asSpec((await getVersion(ctx, project)).spec), await secretLookup(ctx));
    return { version: project.currentVersion, items: spec.items ?? [] };
  }),

  /** Adds the item, or replaces the one of the same name; a new version. */
  upsert: authedProcedure.input(z.object({ projectId, item: itemInput, baseVersion })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    let index = -1;
    let replaced = false;
    return commitSpec(ctx, project, {
      baseVersion: input.baseVersion,
      comment: `item "${input.item.name}" saved`,
      action: 'config.item.upsert',
      detail: { item: input.item.name },
      change: ({ spec }) => {
        const items = [...(spec.items ?? [])];
        index = items.findIndex((i) => i.name === input.item.name);
        replaced = index >= 0;
        if (replaced) items[index] = input.item;
        else index = items.push(input.item) - 1;
        return { ...spec, items };
      },
      mapProblems: (p) => rerootItem(index)(p),
    }).then((r) => ({ ...r, replaced }));
  }),

  /** Removes the item and its connections; a new version. */
  delete: authedProcedure.input(z.object({ projectId, name: z.string().min(1), baseVersion })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    return commitSpec(ctx, project, {
      baseVersion: input.baseVersion,
      comment: `item "${input.name}" deleted`,
      action: 'config.item.delete',
      detail: { item: input.name },
      change: ({ spec }) => {
        const items = spec.items ?? [];
        if (!items.some((i) => i.name === input.name)) throw new TRPCError({ code: 'NOT_FOUND', message: `no item named "${input.name}"` });
        return {
          ...spec,
          items: items.filter((i) => i.name !== input.name),
          connections: (spec.connections ?? []).filter((c) => c.from !== input.name && c.to !== input.name),
        };
      },
    });
  }),
});
