/**
 * Who may do what. Roles are per workspace: `viewer` reads, `analyst` also edits and deploys,
 * `admin` also manages the workspace and its members. A global admin (`users.is_admin`) is admin
 * in every workspace and manages users. A workspace (or project) the caller is not a member of
 * answers NOT_FOUND, the same as one that does not exist, so ids do not leak.
 */
import { TRPCError } from '@trpc/server';
import type { MembershipRole, Project, Workspace } from '@hie/store';
import { forbidden as deny, type DeniedScope } from './audit.js';
import type { AuthedCtx, CachedMembership, Ctx } from './trpc.js';

export type Role = MembershipRole;

const rank: Record<Role, number> = { viewer: 1, analyst: 2, admin: 3 };

/** True when `role` is at least `min`. */
export function atLeast(role: Role, min: Role): boolean {
  return rank[role] >= rank[min];
}

/** The cache key of a membership. */
export function roleKey(userId: string, workspaceId: string): string {
  return `${userId}:${workspaceId}`;
}

/** The caller's membership of a workspace (role and PHI reader flag), one cached read for both. */
async function membershipIn(ctx: AuthedCtx, workspaceId: string): Promise<CachedMembership | undefined> {
  const m = await ctx.caches.roles.getOrLoad(roleKey(ctx.user.id, workspaceId), async () => {
    const row = await ctx.store.memberships.get(ctx.user.id, workspaceId);
    return row ? { role: row.role, phiReader: row.phiReader } : 'none';
  });
  return m === 'none' ? undefined : m;
}

/**
 * The caller's role in a workspace (admin for a global admin), or undefined when none. With an
 * API token: the lower of the token's role and the user's, and FORBIDDEN outside the token's
 * workspace.
 */
export async function roleIn(ctx: AuthedCtx, workspaceId: string): Promise<Role | undefined> {
  if (ctx.user.isAdmin) return 'admin';
  const token = ctx.token;
  const role = token?.userIsAdmin ? 'admin' : (await membershipIn(ctx, workspaceId))?.role;
  if (!token || !role) return role;
  if (token.workspaceId !== workspaceId) throw deny('this API token is scoped to another workspace', { entityType: 'workspace', entityId: workspaceId, workspaceId });
  return atLeast(role, token.role) ? token.role : role;
}

/** @throws FORBIDDEN when the caller came with an API token (signing in, tokens and users need a session). */
export function requireSession(ctx: Ctx): void {
  if (ctx.token) throw deny('an API token cannot do this: sign in');
}

function forbidden(min: Role, role: Role, scope: DeniedScope): TRPCError {
  return deny(`this needs the ${min} role in the workspace (you are ${role})`, { ...scope, detail: { needs: min, role } });
}

/**
 * The caller's role in the workspace, at least `min`.
 * @throws NOT_FOUND when the workspace does not exist or the caller is not a member;
 *   FORBIDDEN when the role is lower than `min`.
 */
export async function requireRole(ctx: AuthedCtx, workspaceId: string, min: Role): Promise<Role> {
  const role = await roleIn(ctx, workspaceId);
  // A membership implies the workspace exists (cascade); a global admin's call must check.
  const exists = role !== undefined && (!ctx.user.isAdmin || (await ctx.store.workspaces.get(workspaceId)) !== undefined);
  if (!role || !exists) throw new TRPCError({ code: 'NOT_FOUND', message: 'workspace not found' });
  if (!atLeast(role, min)) throw forbidden(min, role, { entityType: 'workspace', entityId: workspaceId, workspaceId });
  // A project token reads the workspace, never changes it.
  if (ctx.token?.projectId && min !== 'viewer') throw deny('this API token is scoped to one project', { entityType: 'workspace', entityId: workspaceId, workspaceId });
  return role;
}

/** The workspace, NOT_FOUND when it is gone. */
export async function getWorkspace(ctx: Ctx, workspaceId: string): Promise<Workspace> {
  const workspace = await ctx.store.workspaces.get(workspaceId);
  if (!workspace) throw new TRPCError({ code: 'NOT_FOUND', message: 'workspace not found' });
  return workspace;
}

/**
 * The project and the caller's role in its workspace, at least `min`.
 * @throws NOT_FOUND (no such project, or not a member), FORBIDDEN (role too low).
 */
export async function requireProject(ctx: AuthedCtx, projectId: string, min: Role): Promise<{ project: Project; role: Role }> {
  const project = await ctx.store.projects.get(projectId);
  const role = project ? await roleIn(ctx, project.workspaceId) : undefined;
  if (!project || !role) throw new TRPCError({ code: 'NOT_FOUND', message: 'project not found' });
  if (!atLeast(role, min)) {
    throw forbidden(min, role, { entityType: 'project', entityId: project.id, entityName: project.name, workspaceId: project.workspaceId });
  }
  if (ctx.token?.projectId && ctx.token.projectId !== project.id) {
    throw deny('this API token is scoped to another project', { entityType: 'project', entityId: project.id, entityName: project.name, workspaceId: project.workspaceId });
  }
  return { project, role };
}

/**
 * May the caller read message bodies (raw or parsed) in the workspace? Analysts and admins may; a
 * viewer only with the membership's PHI reader flag (metadata and traces need no flag).
 */
export async function canReadBodies(ctx: AuthedCtx, workspaceId: string, role: Role): Promise<boolean> {
  if (atLeast(role, 'analyst')) return true;
  return (await membershipIn(ctx, workspaceId))?.phiReader === true;
}

/** @throws FORBIDDEN unless the caller is a global admin. */
export function requireGlobalAdmin(ctx: Ctx): void {
  if (!ctx.user?.isAdmin || ctx.token) throw deny('only an administrator may do this');
}
