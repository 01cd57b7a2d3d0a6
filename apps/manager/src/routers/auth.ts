import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { audit } from '../audit.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { newPasswordSchema } from '../auth/password-policy.js';
import { isRefused, type LoginAttempt } from '../auth/rate-limit.js';
import { clearedSessionCookie, hashSessionToken, newSessionToken, sessionCookie } from '../auth/session.js';
import { endOtherSessions, firstExpiry } from '../auth/session-lookup.js';
import { authedProcedure, publicProcedure, router, type Ctx } from '../trpc.js';
import { requireSession } from '../authz.js';

/**
 * Reserves a sign-in slot for `username` from the caller's address before any password is
 * checked (see LoginRateLimiter).
 * @throws TOO_MANY_REQUESTS when the username or the address has failed too often lately.
 */
function reserveAttempt(ctx: Ctx, username: string): LoginAttempt {
  const attempt = ctx.limiter.begin(username, ctx.sourceAddress);
  if (isRefused(attempt)) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `too many failed sign-ins; try again in ${Math.ceil(attempt.retryAfterMs / 60_000)} minute(s)`,
    });
  }
  return attempt;
}

/** Runs `check` inside the attempt: an error that is not a wrong password gives the slot back. */
async function checked<T>(attempt: LoginAttempt, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (e) {
    attempt.cancel();
    throw e;
  }
}

export const authRouter = router({
  /**
   * Signs in: sets the httpOnly `hie_session` cookie. After 5 failures for one username from one
   * address, or 50 from one address, within 15 minutes, answers TOO_MANY_REQUESTS until the
   * window passes. Never accepted inside a batch of several calls (see auth/batch-guard.ts).
   */
  login: publicProcedure
    .input(z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }))
    .mutation(async ({ ctx, input }) => {
      const attempt = reserveAttempt(ctx, input.username);
      const { user, ok } = await checked(attempt, async () => {
        const row = await ctx.store.users.getByUsername(input.username);
        return { user: row, ok: await verifyPassword(input.password, row?.passwordHash) };
      });
      if (!user || !ok || user.disabled) {
        // The reserved slot stays taken: it is this failure.
        await audit(ctx, {
          action: 'auth.login_failed',
          entityType: 'user',
          entityId: user?.id ?? null,
          entityName: input.username,
          actor: { id: null, name: input.username },
        });
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'wrong username or password' });
      }
      attempt.succeeded();
      const token = newSessionToken();
      const now = Date.now();
      const expiresAt = firstExpiry(ctx, now);
      await ctx.store.sessions.create({
        id: hashSessionToken(token),
        userId: user.id,
        expiresAt: new Date(expiresAt),
        sourceAddress: ctx.sourceAddress,
      });
      ctx.setCookie(sessionCookie(token, (expiresAt - now) / 1000, ctx.secureCookies));
      await audit(ctx, { action: 'auth.login', entityType: 'user', entityId: user.id, entityName: user.username, actor: { id: user.id, name: user.username } });
      return { user: { id: user.id, username: user.username, displayName: user.displayName, isAdmin: user.isAdmin } };
    }),

  /** Ends the session and clears the cookie; live streams of this session end within a second. */
  logout: authedProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionId) {
      await ctx.store.sessions.delete(ctx.sessionId);
      ctx.caches.sessions.delete(ctx.sessionId);
    }
    ctx.setCookie(clearedSessionCookie(ctx.secureCookies));
    await audit(ctx, { action: 'auth.logout', entityType: 'user', entityId: ctx.user.id, entityName: ctx.user.username });
    return { ok: true as const };
  }),

  /**
   * Changes the caller's own password (any signed-in user). The current password must be right
   * (wrong ones count against the sign-in limit); every other session of the user ends, this one
   * stays. Never accepted inside a batch of several calls.
   */
  changePassword: authedProcedure
    .input(z.object({ current: z.string().min(1).max(1000), next: newPasswordSchema }))
    .mutation(async ({ ctx, input }) => {
      requireSession(ctx);
      if (input.next === input.current) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'the new password must differ from the current one' });
      }
      const attempt = reserveAttempt(ctx, ctx.user.username);
      const { row, ok } = await checked(attempt, async () => {
        const found = await ctx.store.users.get(ctx.user.id);
        return { row: found, ok: await verifyPassword(input.current, found?.passwordHash) };
      });
      if (!row || !ok) {
        await audit(ctx, { action: 'user.password_change_failed', entityType: 'user', entityId: ctx.user.id });
        // Not UNAUTHORIZED: the session is fine, the form's field is wrong.
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'the current password is wrong' });
      }
      attempt.succeeded();
      await ctx.store.users.update(ctx.user.id, { passwordHash: await hashPassword(input.next) });
      const ended = await endOtherSessions(ctx, ctx.user.id);
      await audit(ctx, {
        action: 'user.password_change',
        entityType: 'user',
        entityId: ctx.user.id,
        after: { passwordChanged: true, sessionsEnded: ended },
      });
      return { ok: true as const, sessionsEnded: ended };
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
