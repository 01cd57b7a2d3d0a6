import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { requireProject } from '../authz.js';
import { commitSpec } from '../spec.js';
import { authedProcedure, router } from '../trpc.js';

const input = z.object({ projectId: z.string().min(1), from: z.string().min(1), to: z.string().min(1), baseVersion: z.int().min(0) });

export const connectionsRouter = router({
  /**
   * Wires `from` → `to`; a new version. NOT_FOUND when an end is not an item, BAD_REQUEST for a
   * self or duplicate connection; the answer's `warnings.cycles` lists any loop it closes.
   */
  add: authedProcedure.input(input).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    return commitSpec(ctx, project, {
      baseVersion: input.baseVersion,
      comment: `connection "${input.from}" → "${input.to}" added`,
      action: 'config.connection.add',
      detail: { from: input.from, to: input.to },
      change: ({ spec }) => {
        const names = new Set((spec.items ?? []).map((i) => i.name));
        for (const end of [input.from, input.to]) {
          if (!names.has(end)) throw new TRPCError({ code: 'NOT_FOUND', message: `no item named "${end}"` });
        }
        return { ...spec, connections: [...(spec.connections ?? []), { from: input.from, to: input.to }] };
      },
    });
  }),

  /** Removes the connection `from` → `to`; a new version. NOT_FOUND when there is none. */
  remove: authedProcedure.input(input).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    return commitSpec(ctx, project, {
      baseVersion: input.baseVersion,
      comment: `connection "${input.from}" → "${input.to}" removed`,
      action: 'config.connection.remove',
      detail: { from: input.from, to: input.to },
      change: ({ spec }) => {
        const connections = spec.connections ?? [];
        const kept = connections.filter((c) => !(c.from === input.from && c.to === input.to));
        if (kept.length === connections.length) {
          throw new TRPCError({ code: 'NOT_FOUND', message: `no connection "${input.from}" → "${input.to}"` });
        }
        return { ...spec, connections: kept };
      },
    });
  }),
});
