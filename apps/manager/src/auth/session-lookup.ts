import type { Ctx, ManagerServices, SessionUser } from '../trpc.js';

/** A session as the request path sees it (and caches for a few seconds). Times in epoch ms. */
export interface LiveSession {
  user: SessionUser;
  expiresAt: number;
  /** When the user signed in: the absolute lifetime counts from here. */
  createdAt: number;
}

/**
 * The session behind `sessionId` (a token hash): from the cache, else the store. Undefined when
 * it is gone (logout, password change), expired, past the absolute lifetime, or its user is
 * disabled.
 */
export async function loadSession(services: ManagerServices, sessionId: string, now = Date.now()): Promise<LiveSession | undefined> {
  let session = services.caches.sessions.get(sessionId);
  if (!session || session.expiresAt <= now) {
    const found = await services.store.sessions.getValid(sessionId, new Date(now));
    if (!found) {
      services.caches.sessions.delete(sessionId);
      return undefined;
    }
    const { id, username, displayName, isAdmin } = found.user;
    session = {
      user: { id, username, displayName, isAdmin },
      expiresAt: found.session.expiresAt.getTime(),
      createdAt: found.session.createdAt.getTime(),
    };
    services.caches.sessions.set(sessionId, session);
  }
  // Also catches sessions made before the maximum was lowered.
  if (session.createdAt + services.sessionMaxMs <= now) {
    services.caches.sessions.delete(sessionId);
    return undefined;
  }
  return session;
}

/**
 * The expiry a session should slide to now, or undefined when it need not move: sliding starts
 * once less than half of `sessionTtlMs` is left (one write per half-life), and never passes
 * `createdAt + sessionMaxMs`.
 */
export function slidExpiry(services: ManagerServices, session: LiveSession, now = Date.now()): number | undefined {
  const target = Math.min(now + services.sessionTtlMs, session.createdAt + services.sessionMaxMs);
  return session.expiresAt - now < services.sessionTtlMs / 2 && target > session.expiresAt ? target : undefined;
}

/** The expiry of a session created now. */
export function firstExpiry(services: ManagerServices, now = Date.now()): number {
  return now + Math.min(services.sessionTtlMs, services.sessionMaxMs);
}

/**
 * Ends every session of `userId` except the caller's own (all of them when the caller has no
 * session, or is someone else), here and in this process's cache; returns how many ended.
 */
export async function endOtherSessions(ctx: Ctx, userId: string): Promise<number> {
  const keep = ctx.user?.id === userId ? ctx.sessionId : null;
  if (!keep) {
    // Cached sessions are keyed by token hash, not user: drop them all (a rare call).
    ctx.caches.sessions.clear();
    return ctx.store.sessions.deleteForUser(userId);
  }
  const ended = await ctx.store.sessions.deleteOthersOfUser(userId, keep);
  for (const id of ended) ctx.caches.sessions.delete(id);
  return ended.length;
}
