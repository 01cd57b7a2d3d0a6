import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { audit } from '../audit.js';
import { requireGlobalAdmin } from '../authz.js';
import { hashPassword } from '../auth/password.js';
import { newPasswordSchema } from '../auth/password-policy.js';
import { endOtherSessions } from '../auth/session-lookup.js';
import { authedProcedure, router } from '../trpc.js';
import { userView } from '../views.js';

const username = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._@-]+$/, { message: 'may contain only letters, digits, ".", "_", "@" and "-"' });
const password = newPasswordSchema;

/** Users: global admins only. */
export const usersRouter = router({
  list: authedProcedure.query(async ({ ctx }) => {
    requireGlobalAdmin(ctx);
    return (await ctx.store.users.list()).map(userView);
  }),

  create: authedProcedure
    .input(
      z.object({
        username,
        password,
        displayName: z.string().max(200).optional(),
        isAdmin: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      requireGlobalAdmin(ctx);
      if (await ctx.store.users.getByUsername(input.username)) {
        throw new TRPCError({ code: 'CONFLICT', message: `user "${input.username}" already exists` });
      }
      const user = await ctx.store.users.create({
        username: input.username,
        passwordHash: await hashPassword(input.password),
        displayName: input.displayName ?? input.username,
        isAdmin: input.isAdmin ?? false,
      });
      const view = userView(user);
      await audit(ctx, { action: 'user.create', entityType: 'user', entityId: user.id, entityName: user.username, after: view });
      return view;
    }),

  /**
   * Disabling a user ends their sessions; setting a password ends the user's sessions too (all but
   * the caller's own when admins set their own).
   */
  update: authedProcedure
    .input(
      z.object({
        id: z.string().min(1),
        displayName: z.string().max(200).optional(),
        password: password.optional(),
        isAdmin: z.boolean().optional(),
        disabled: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      requireGlobalAdmin(ctx);
      const before = await ctx.store.users.get(input.id);
      if (!before) throw new TRPCError({ code: 'NOT_FOUND', message: 'user not found' });
      if (input.id === ctx.user.id && (input.isAdmin === false || input.disabled === true)) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'you cannot remove your own administrator rights or disable yourself' });
      }
      const user = await ctx.store.users.update(input.id, {
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...(input.password !== undefined ? { passwordHash: await hashPassword(input.password) } : {}),
        ...(input.isAdmin !== undefined ? { isAdmin: input.isAdmin } : {}),
        ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
      });
      if (input.disabled === true) await ctx.store.sessions.deleteForUser(input.id);
      else if (input.password !== undefined) await endOtherSessions(ctx, input.id);
      // Cached sessions carry the user's name and admin flag: drop them all (a rare call).
      ctx.caches.sessions.clear();
      ctx.caches.usernames.delete(input.id);
      const after = userView(user);
      await audit(ctx, {
        action: 'user.update',
        entityType: 'user',
        entityId: user.id,
        entityName: user.username,
        before: userView(before),
        after: { ...after, ...(input.password !== undefined ? { passwordChanged: true } : {}) },
      });
      return after;
    }),
});
