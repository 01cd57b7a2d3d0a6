import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Project } from '@hie/store';
import { audit } from '../audit.js';
import { requireProject, requireRole } from '../authz.js';
import { deploymentsForViews } from '../deploy.js';
import { redactSpec, resolveSecrets, revealSecrets, sealSecrets, secretLookup, type SecretLookup } from '../secrets.js';
import { asSpec, checkSpec, commitSpec, emptySpec, getVersion, productionNameFor, specInput, type Spec } from '../spec.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { deploymentView, iso, projectView } from '../views.js';

const name = z.string().trim().min(1).max(100);
const description = z.string().max(2000);
const id = z.string().min(1);
const version = z.int().min(1);

function isConflict(e: unknown): boolean {
  return typeof e === 'object' && e !== null && Reflect.get(e, 'code') === 'store.conflict';
}

async function authorName(ctx: AuthedCtx, authorId: string | null): Promise<string | null> {
  if (!authorId) return null;
  return (await ctx.caches.usernames.getOrLoad(authorId, async () => (await ctx.store.users.get(authorId))?.username)) ?? null;
}

/** A checked spec for a new project, its secrets in plaintext, and where its secrets are (read once per request). */
interface NewSpec {
  spec: Spec;
  secretsOf: SecretLookup;
}

/**
 * A spec sent for a new project, checked, its secrets in plaintext. `••• set` is refused (with
 * its path): a new project has nothing stored to keep — an export's secrets must be entered.
 */
async function checkNewSpec(ctx: AuthedCtx, spec: unknown): Promise<NewSpec> {
  const secretsOf = await secretLookup(ctx);
  const { plain } = resolveSecrets(ctx.secrets, spec, { projectId: undefined, current: undefined, secretsOf });
  return { spec: (await checkSpec(ctx, plain)).spec, secretsOf };
}

/** Creates a project with `spec` as version 1 (spec already checked, secrets in plaintext: encrypted here). */
async function createWithSpec(
  ctx: AuthedCtx,
  input: { workspaceId: string; name: string; description?: string },
  { spec, secretsOf }: NewSpec,
  comment: string,
  action: string,
): Promise<Project> {
  let project: Project;
  try {
    project = await ctx.store.projects.create({ workspaceId: input.workspaceId, name: input.name, description: input.description ?? '' });
  } catch (e) {
    if (isConflict(e)) throw new TRPCError({ code: 'CONFLICT', message: `a project named "${input.name}" already exists in this workspace`, cause: e });
    throw e;
  }
  const v = await ctx.store.configVersions.create(project.id, sealSecrets(ctx.secrets, spec, project.id, secretsOf), ctx.user.id, comment);
  const created = { ...project, currentVersion: v.version, updatedAt: v.createdAt };
  await audit(ctx, {
    action,
    entityType: 'project',
    entityId: project.id,
    entityName: project.name,
    workspaceId: project.workspaceId,
    after: { name: project.name, description: project.description, version: v.version },
  });
  return created;
}

export const projectsRouter = router({
  list: authedProcedure.input(z.object({ workspaceId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.workspaceId, 'viewer');
    const [projects, deployments] = await Promise.all([ctx.store.projects.list(input.workspaceId), deploymentsForViews(ctx)]);
    return projects.map((p) => projectView(p, deployments.get(p.id)));
  }),

  /** A project with the spec of its current version (or of `version`). */
  get: authedProcedure.input(z.object({ id, version: version.optional() })).query(async ({ ctx, input }) => {
    const [{ project, role }, deployments, secretsOf] = await Promise.all([requireProject(ctx, input.id, 'viewer'), deploymentsForViews(ctx), secretLookup(ctx)]);
    const deployment = deployments.get(project.id);
    const row = await getVersion(ctx, project, input.version);
    const author = await authorName(ctx, row.authorId);
    return {
      project: projectView(project, deployment),
      role,
      version: {
        version: row.version,
        spec: redactSpec(asSpec(row.spec), secretsOf),
        comment: row.comment,
        createdAt: iso(row.createdAt),
        author,
      },
      ...(deployment ? { deployment: deploymentView(deployment) } : {}),
    };
  }),

  /** A new project; `spec` defaults to an empty production named like the project (version 1). */
  create: authedProcedure
    .input(z.object({ workspaceId: id, name, description: description.optional(), spec: specInput.optional() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.workspaceId, 'analyst');
      return projectView(await createWithSpec(ctx, input, await checkNewSpec(ctx, input.spec ?? emptySpec(input.name)), 'created', 'project.create'));
    }),

  update: authedProcedure
    .input(z.object({ id, name: name.optional(), description: description.optional() }))
    .mutation(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.id, 'analyst');
      let updated: Project;
      try {
        updated = await ctx.store.projects.update(input.id, {
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
        });
      } catch (e) {
        if (isConflict(e)) throw new TRPCError({ code: 'CONFLICT', message: `a project named "${input.name}" already exists in this workspace`, cause: e });
        throw e;
      }
      await audit(ctx, {
        action: 'project.update',
        entityType: 'project',
        entityId: project.id,
        entityName: updated.name,
        workspaceId: project.workspaceId,
        before: { name: project.name, description: project.description },
        after: { name: updated.name, description: updated.description },
      });
      return projectView(updated, (await deploymentsForViews(ctx)).get(project.id));
    }),

  /**
   * Deletes a project (soft: its config versions stay as history, its name is free again, its
   * deployment row goes); refused with CONFLICT while it is deployed running.
   */
  delete: authedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.id, 'admin');
    const dep = await ctx.store.deployments.get(project.id);
    if (dep?.desiredState === 'running') {
      throw new TRPCError({ code: 'CONFLICT', message: 'the project is deployed and running; stop it first' });
    }
    await ctx.store.projects.delete(project.id);
    ctx.caches.deployments.clear();
    await audit(ctx, {
      action: 'project.delete',
      entityType: 'project',
      entityId: project.id,
      entityName: project.name,
      workspaceId: project.workspaceId,
      before: { name: project.name, description: project.description, currentVersion: project.currentVersion },
    });
    return { ok: true as const };
  }),

  /** A copy of the project's current spec as a new project (its production renamed after it). */
  clone: authedProcedure.input(z.object({ id, name })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.id, 'analyst');
    const row = await getVersion(ctx, project);
    // Secrets are bound to their project: decrypted here, encrypted again for the copy.
    const { spec } = await checkSpec(ctx, { ...revealSecrets(asSpec(row.spec), ctx.secrets, project.id), name: productionNameFor(input.name) });
    const created = await createWithSpec(
      ctx,
      { workspaceId: project.workspaceId, name: input.name, description: project.description },
      { spec, secretsOf: await secretLookup(ctx) },
      `cloned from ${project.name} v${row.version}`,
      'project.clone',
    );
    return projectView(created);
  }),

  /**
   * The production spec of the current version (or of `version`): the file `hie run` takes, its
   * secrets shown as `••• set` (fill them in before running it elsewhere).
   */
  export: authedProcedure.input(z.object({ id, version: version.optional() })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.id, 'viewer');
    const row = await getVersion(ctx, project, input.version);
    // The whole configuration leaves the system: audited like a download.
    await audit(ctx, {
      action: 'project.export',
      entityType: 'project',
      entityId: project.id,
      entityName: project.name,
      workspaceId: project.workspaceId,
      after: { version: row.version },
    });
    return redactSpec(asSpec(row.spec), await secretLookup(ctx));
  }),

  /** A new project from a production spec; its name defaults to the production's. */
  import: authedProcedure
    .input(z.object({ workspaceId: id, name: name.optional(), description: description.optional(), spec: specInput }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.workspaceId, 'analyst');
      const checked = await checkNewSpec(ctx, input.spec);
      const { spec } = checked;
      const projectName = input.name ?? (typeof spec.name === 'string' ? spec.name : 'imported');
      return projectView(
        await createWithSpec(ctx, { workspaceId: input.workspaceId, name: projectName, description: input.description ?? spec.description }, checked, 'imported', 'project.import'),
      );
    }),

  /**
   * Saves a whole spec (items, connections, settings, positions) as a new immutable version.
   * BAD_REQUEST with `data.problems` when invalid; CONFLICT when `baseVersion` is not current.
   */
  save: authedProcedure
    .input(z.object({ id, spec: specInput, comment: z.string().max(2000).optional(), baseVersion: z.int().min(0) }))
    .mutation(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.id, 'analyst');
      return commitSpec(ctx, project, { baseVersion: input.baseVersion, comment: input.comment, change: () => input.spec });
    }),
});
