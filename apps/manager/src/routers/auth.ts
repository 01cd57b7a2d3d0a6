import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { audit } from '../audit.js';
import { verifyPassword } from '../auth/password.js';
import { LoginRateLimiter } from '../auth/rate-limit.js';
import { clearedSessionCookie, hashSessionToken, newSessionToken, sessionCookie } from '../auth/session.js';
import { authedProcedure, publicProcedure, router } from '../trpc.js';

export const authRouter = router({
  /**
   * Signs in: sets the httpOnly `hie_session` cookie. After 5 failures for one username from one
   * address within 15 minutes, answers TOO_MANY_REQUESTS until the window passes.
   */
  login: publicProcedure
    .input(z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }))
    .mutation(async ({ ctx, input }) => {
      const key = LoginRateLimiter.key(input.username, ctx.sourceAddress);
      const waitMs = ctx.limiter.retryAfterMs(key);
      if (waitMs > 0) {
        throw new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: `too many failed sign-ins; try again in ${Math.ceil(waitMs / 60_000)} minute(s)`,
        });
      }
      const user = await ctx.store.users.getByUsername(input.username);
      const ok = await verifyPassword(input.password, user?.passwordHash);
      if (!user || !ok || user.disabled) {
        ctx.limiter.recordFailure(key);
        await audit(ctx, {
          action: 'auth.login_failed',
          entityType: 'user',
          entityId: user?.id ?? null,
          entityName: input.username,
          actor: { id: null, name: input.username },
        });
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'wrong username or password' });
      }
      ctx.limiter.reset(key);
      const token = newSessionToken();
      await ctx.store.sessions.create({
        id: hashSessionToken(token),
        userId: user.id,
        expiresAt: new Date(Date.now() + ctx.sessionTtlMs),
        sourceAddress: ctx.sourceAddress,
      });
      ctx.setCookie(sessionCookie(token, ctx.sessionTtlMs / 1000, ctx.secureCookies));
      await audit(ctx, { action: 'auth.login', entityType: 'user', entityId: user.id, entityName: user.username, actor: { id: user.id, name: user.username } });
      return { user: { id: user.id, username: user.username, displayName: user.displayName, isAdmin: user.isAdmin } };
    }),

  /** Ends the session and clears the cookie. */
  logout: authedProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionId) {
      await ctx.store.sessions.delete(ctx.sessionId);
      ctx.caches.sessions.delete(ctx.sessionId);
    }
    ctx.setCookie(clearedSessionCookie(ctx.secureCookies));
    await audit(ctx, { action: 'auth.logout', entityType: 'user', entityId: ctx.user.id, entityName: ctx.user.username });
    return { ok: true as const };
  }),

  /** The signed-in user and their workspaces. */
  me: authedProcedure.query(async ({ ctx }) => {
    const workspaces = await ctx.store.workspaces.listForUser(ctx.user.id);
    return {
      user: ctx.user,
      memberships: workspaces.map((w) => ({ workspaceId: w.id, workspaceName: w.name, role: w.role })),
    };
  }),
});
