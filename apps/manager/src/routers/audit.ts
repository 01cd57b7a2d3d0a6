import { z } from 'zod';
import { requireGlobalAdmin, requireRole } from '../authz.js';
import { authedProcedure, router } from '../trpc.js';
import { auditView } from '../views.js';

const instant = z
  .union([z.number(), z.string().min(1)])
  .transform((v) => new Date(v))
  .refine((d) => !Number.isNaN(d.getTime()), { message: 'not a date (use ISO 8601 or epoch ms)' });

export const auditRouter = router({
  /**
   * The audit trail, newest first. A workspace admin sees their workspace's entries (pass
   * `workspaceId`); a global admin sees everything. `actor` is a username.
   */
  list: authedProcedure
    .input(
      z.object({
        workspaceId: z.string().min(1).optional(),
        actor: z.string().min(1).optional(),
        entityType: z.string().min(1).optional(),
        entityId: z.string().min(1).optional(),
        action: z.string().min(1).optional(),
        from: instant.optional(),
        to: instant.optional(),
        limit: z.int().min(1).max(500).optional(),
        cursor: z.string().min(1).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      if (input.workspaceId === undefined) requireGlobalAdmin(ctx);
      else await requireRole(ctx, input.workspaceId, 'admin');
      let actorId: string | undefined;
      if (input.actor !== undefined) {
        const user = await ctx.store.users.getByUsername(input.actor);
        if (!user) return { items: [] };
        actorId = user.id;
      }
      const { actor: _a, cursor, ...filter } = input;
      const page = await ctx.store.audit.query({ ...filter, ...(actorId ? { actorId } : {}) }, cursor);
      return { items: page.items.map(auditView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }),
});
