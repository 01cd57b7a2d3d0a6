import { TRPCError } from '@trpc/server';
import { atLeast, roleIn, type Role } from '../authz.js';
import type { AuthedCtx } from '../trpc.js';
import { loadSession } from './session-lookup.js';

/**
 * How often a live stream re-checks its caller, whatever its own interval: a stream ends at most
 * this long after a logout or a role removal made through this process (another manager process
 * also waits out its auth cache, a few seconds).
 */
export const LIVE_RECHECK_MS = 1000;

/**
 * Checks that a live stream's caller still may read the workspace: the session still exists
 * (no logout, no password change, user not disabled, within its lifetime) and the user, as
 * the store knows them now, still holds at least `min` there.
 * @throws UNAUTHORIZED when the session has ended; FORBIDDEN when the role is gone or too low.
 */
export async function requireStillAllowed(ctx: AuthedCtx, workspaceId: string, min: Role): Promise<void> {
  let user = ctx.user;
  if (ctx.sessionId) {
    const session = await loadSession(ctx, ctx.sessionId);
    if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'your session has ended; sign in again' });
    user = session.user;
  }
  const role = await roleIn({ ...ctx, user }, workspaceId);
  if (!role || !atLeast(role, min)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'you no longer have access to this workspace' });
  }
}

/**
 * Waits `ms` (or until `signal` aborts), re-checking the caller every {@link LIVE_RECHECK_MS}
 * with {@link requireStillAllowed}: the error it throws ends the stream, and the client sees why.
 */
export async function waitWhileAllowed(ctx: AuthedCtx, workspaceId: string, min: Role, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0 && !signal?.aborted; left = until - Date.now()) {
    await sleep(Math.min(left, LIVE_RECHECK_MS), signal);
    if (!signal?.aborted) await requireStillAllowed(ctx, workspaceId, min);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
