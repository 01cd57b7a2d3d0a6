/**
 * API tokens (see auth/api-token.ts): each user makes, lists and revokes their own, signed in
 * (a token cannot make tokens). The token itself is answered once, by `create`; only its hash is
 * kept and nothing else ever shows it.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { membershipRoles, type ApiToken } from '@hie/store';
import { audit } from '../audit.js';
import { API_TOKEN_PREFIX, newApiToken } from '../auth/api-token.js';
import { hashSessionToken } from '../auth/session.js';
import { requireProject, requireRole, requireSession } from '../authz.js';
import { authedProcedure, router } from '../trpc.js';
import { iso } from '../views.js';

function tokenView(t: ApiToken, now = Date.now()) {
  return {
    id: t.id,
    name: t.name,
    workspaceId: t.workspaceId,
    role: t.role,
    projectId: t.projectId,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    lastUsedAt: t.lastUsedAt ? iso(t.lastUsedAt) : null,
    revokedAt: t.revokedAt ? iso(t.revokedAt) : null,
    state: t.revokedAt ? ('revoked' as const) : t.expiresAt.getTime() <= now ? ('expired' as const) : ('active' as const),
  };
}

export const tokensRouter = router({
  /** The caller's tokens (never the tokens themselves). */
  list: authedProcedure.query(async ({ ctx }) => {
    requireSession(ctx);
    return (await ctx.store.apiTokens.listForUser(ctx.user.id)).map((t) => tokenView(t));
  }),

  /**
   * A new token for the caller, scoped to a workspace with `role` (no higher than the caller's
   * there: FORBIDDEN otherwise) and optionally one project. `token` is shown this once.
   */
  create: authedProcedure
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        workspaceId: z.string().min(1),
        role: z.enum(membershipRoles),
        projectId: z.string().min(1).optional(),
        expiresInDays: z.int().min(1).max(366).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      requireSession(ctx);
      await requireRole(ctx, input.workspaceId, input.role);
      if (input.projectId) {
        const { project } = await requireProject(ctx, input.projectId, input.role);
        if (project.workspaceId !== input.workspaceId) throw new TRPCError({ code: 'BAD_REQUEST', message: 'the project is not in that workspace' });
      }
      const token = newApiToken();
      const expiresAt = new Date(Date.now() + (input.expiresInDays ?? 30) * 86_400_000);
      const row = await ctx.store.apiTokens.create({
        tokenHash: hashSessionToken(token),
        userId: ctx.user.id,
        name: input.name,
        workspaceId: input.workspaceId,
        role: input.role,
        projectId: input.projectId ?? null,
        expiresAt,
      });
      await audit(ctx, {
        action: 'token.create',
        entityType: 'api_token',
        entityId: row.id,
        entityName: row.name,
        workspaceId: row.workspaceId,
        after: { name: row.name, role: row.role, projectId: row.projectId, expiresAt: iso(row.expiresAt) },
      });
      return { ...tokenView(row), token };
    }),

  revoke: authedProcedure.input(z.object({ id: z.string().min(1) })).mutation(async ({ ctx, input }) => {
    requireSession(ctx);
    const mine = (await ctx.store.apiTokens.listForUser(ctx.user.id)).find((t) => t.id === input.id);
    if (!mine) throw new TRPCError({ code: 'NOT_FOUND', message: 'token not found' });
    if (mine.revokedAt) return tokenView(mine);
    const row = await ctx.store.apiTokens.revoke(mine.id, ctx.user.id);
    await audit(ctx, { action: 'token.revoke', entityType: 'api_token', entityId: row.id, entityName: row.name, workspaceId: row.workspaceId, before: { state: 'active' }, after: { state: 'revoked' } });
    return tokenView(row);
  }),

  /** What the calling token may do (CI tools read their workspace from it); null when signed in with a session. */
  current: authedProcedure.query(({ ctx }) =>
    ctx.token ? { prefix: API_TOKEN_PREFIX, workspaceId: ctx.token.workspaceId, role: ctx.token.role, projectId: ctx.token.projectId, username: ctx.user.username } : null,
  ),
});
