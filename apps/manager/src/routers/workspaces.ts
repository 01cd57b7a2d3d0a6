import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { membershipRoles } from '@hie/store';
import { audit, forbidden } from '../audit.js';
import { getWorkspace, requireRole, requireSession, roleKey } from '../authz.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { iso } from '../views.js';

const name = z.string().trim().min(1).max(100);
const description = z.string().max(2000);
const role = z.enum(membershipRoles);

function isConflict(e: unknown): boolean {
  return typeof e === 'object' && e !== null && Reflect.get(e, 'code') === 'store.conflict';
}

async function refuseIfRunning(ctx: AuthedCtx, workspaceId: string): Promise<void> {
  const projects = await ctx.store.projects.list(workspaceId);
  for (const p of projects) {
    const d = await ctx.store.deployments.get(p.id);
    if (d?.desiredState === 'running') {
      throw new TRPCError({ code: 'CONFLICT', message: `project "${p.name}" is deployed and running; stop it first` });
    }
  }
}

/** A workspace must keep at least one admin member. */
async function refuseLastAdmin(ctx: AuthedCtx, workspaceId: string, userId: string): Promise<void> {
  const members = await ctx.store.memberships.listForWorkspace(workspaceId);
  const admins = members.filter((m) => m.role === 'admin');
  if (admins.length === 1 && admins[0].userId === userId) {
    throw new TRPCError({ code: 'CONFLICT', message: 'a workspace needs at least one admin member' });
  }
}

export const workspacesRouter = router({
  /** The caller's workspaces (every workspace for a global admin, as admin). */
  list: authedProcedure.query(async ({ ctx }) => {
    const all = ctx.user.isAdmin
      ? (await ctx.store.workspaces.list()).map((w) => ({ ...w, role: 'admin' as const }))
      : await ctx.store.workspaces.listForUser(ctx.user.id);
    // An API token sees its own workspace only.
    const rows = ctx.token ? all.filter((w) => w.id === ctx.token?.workspaceId) : all;
    return rows.map((w) => ({ id: w.id, name: w.name, description: w.description, role: w.role, createdAt: iso(w.createdAt) }));
  }),

  /**
   * Global admins create workspaces; with self-service on (`HIE_SELF_SERVICE_WORKSPACES=1`) any
   * signed-in user may, and becomes its admin. Adding members always needs a workspace admin.
   */
  create: authedProcedure.input(z.object({ name, description: description.optional() })).mutation(async ({ ctx, input }) => {
    requireSession(ctx);
    if (!ctx.user.isAdmin && !ctx.selfServiceWorkspaces) {
      // Audited as access.denied by the tRPC middleware, with this scope.
      throw forbidden('only an administrator may create workspaces (self-service is off)', { entityType: 'workspace', entityName: input.name });
    }
    let ws;
    try {
      ws = await ctx.store.workspaces.create({ name: input.name, description: input.description ?? '' });
    } catch (e) {
      if (isConflict(e)) throw new TRPCError({ code: 'CONFLICT', message: `a workspace named "${input.name}" already exists`, cause: e });
      throw e;
    }
    await ctx.store.memberships.set(ctx.user.id, ws.id, 'admin');
    ctx.caches.roles.delete(roleKey(ctx.user.id, ws.id));
    const view = { id: ws.id, name: ws.name, description: ws.description, role: 'admin' as const, createdAt: iso(ws.createdAt) };
    await audit(ctx, { action: 'workspace.create', entityType: 'workspace', entityId: ws.id, entityName: ws.name, workspaceId: ws.id, after: view });
    return view;
  }),

  update: authedProcedure
    .input(z.object({ id: z.string().min(1), name: name.optional(), description: description.optional() }))
    .mutation(async ({ ctx, input }) => {
      const myRole = await requireRole(ctx, input.id, 'admin');
      const workspace = await getWorkspace(ctx, input.id);
      let ws;
      try {
        ws = await ctx.store.workspaces.update(input.id, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
        });
      } catch (e) {
        if (isConflict(e)) throw new TRPCError({ code: 'CONFLICT', message: `a workspace named "${input.name}" already exists`, cause: e });
        throw e;
      }
      await audit(ctx, {
        action: 'workspace.update',
        entityType: 'workspace',
        entityId: ws.id,
        entityName: ws.name,
        workspaceId: ws.id,
        before: { name: workspace.name, description: workspace.description },
        after: { name: ws.name, description: ws.description },
      });
      return { id: ws.id, name: ws.name, description: ws.description, role: myRole, createdAt: iso(ws.createdAt) };
    }),

  /** Deletes the workspace with its projects; refused with CONFLICT while one of them runs. */
  delete: authedProcedure.input(z.object({ id: z.string().min(1) })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.id, 'admin');
    const workspace = await getWorkspace(ctx, input.id);
    await refuseIfRunning(ctx, input.id);
    await ctx.store.workspaces.delete(input.id);
    ctx.caches.roles.clear();
    ctx.caches.deployments.clear();
    await audit(ctx, {
      action: 'workspace.delete',
      entityType: 'workspace',
      entityId: workspace.id,
      entityName: workspace.name,
      workspaceId: workspace.id,
      before: { name: workspace.name, description: workspace.description },
    });
    return { ok: true as const };
  }),

  members: authedProcedure.input(z.object({ workspaceId: z.string().min(1) })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.workspaceId, 'viewer');
    const members = await ctx.store.memberships.listForWorkspace(input.workspaceId);
    const users = await Promise.all(members.map((m) => ctx.store.users.get(m.userId)));
    return members
      .map((m, i) => ({
        userId: m.userId,
        username: users[i]?.username ?? '',
        displayName: users[i]?.displayName ?? '',
        role: m.role,
        phiReader: m.phiReader,
      }))
      .sort((a, b) => a.username.localeCompare(b.username));
  }),

  /**
   * Adds a user to the workspace or changes their role. `phiReader` lets a viewer read message
   * bodies (analysts and admins always may); left out, it is kept as it is (false for a new member).
   */
  setMember: authedProcedure
    .input(z.object({ workspaceId: z.string().min(1), username: z.string().min(1), role, phiReader: z.boolean().optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.workspaceId, 'admin');
      const user = await ctx.store.users.getByUsername(input.username);
      if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: `no user "${input.username}"` });
      const before = await ctx.store.memberships.get(user.id, input.workspaceId);
      if (before?.role === 'admin' && input.role !== 'admin') await refuseLastAdmin(ctx, input.workspaceId, user.id);
      const m = await ctx.store.memberships.set(user.id, input.workspaceId, input.role, { phiReader: input.phiReader });
      ctx.caches.roles.delete(roleKey(user.id, input.workspaceId));
      await audit(ctx, {
        action: 'workspace.member.set',
        entityType: 'membership',
        entityId: `${input.workspaceId}:${user.id}`,
        workspaceId: input.workspaceId,
        entityName: user.username,
        before: before ? { username: user.username, role: before.role, phiReader: before.phiReader } : null,
        after: { username: user.username, role: m.role, phiReader: m.phiReader },
      });
      return { userId: user.id, username: user.username, displayName: user.displayName, role: m.role, phiReader: m.phiReader };
    }),

  removeMember: authedProcedure
    .input(z.object({ workspaceId: z.string().min(1), userId: z.string().min(1) }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.workspaceId, 'admin');
      const before = await ctx.store.memberships.get(input.userId, input.workspaceId);
      if (!before) throw new TRPCError({ code: 'NOT_FOUND', message: 'not a member of this workspace' });
      if (before.role === 'admin') await refuseLastAdmin(ctx, input.workspaceId, input.userId);
      await ctx.store.memberships.remove(input.userId, input.workspaceId);
      ctx.caches.roles.delete(roleKey(input.userId, input.workspaceId));
      await audit(ctx, {
        action: 'workspace.member.remove',
        entityType: 'membership',
        entityId: `${input.workspaceId}:${input.userId}`,
        workspaceId: input.workspaceId,
        before: { userId: input.userId, role: before.role },
      });
      return { ok: true as const };
    }),
});
