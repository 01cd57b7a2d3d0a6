/**
 * Environments (dev, test, prod) of a workspace and their variables: what `${NAME}` and
 * `${secret:NAME}` in item settings resolve to when a version is deployed there. Admins write,
 * every change is audited; secret values are write-only (sealed at rest, never returned, never
 * in the audit log).
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { findReferences, hostPatternProblem, MAX_SECRET_HOSTS, normalizeHostPattern, replaceReferences, VARIABLE_NAME_PATTERN } from '@hie/config';
import type { Environment } from '@hie/store';
import { audit } from '../audit.js';
import { requireProject, requireRole, type Role } from '../authz.js';
import { variablePlace } from '../environments.js';
import { getVersion } from '../spec.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { iso } from '../views.js';

const id = z.string().min(1);
const envName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'an environment name is letters, digits, "_", "." and "-" (at most 63), starting with a letter or digit');
const varName = z.string().regex(VARIABLE_NAME_PATTERN, 'a variable name is letters, digits and "_", not starting with a digit (at most 100)');
/** A host a secret may be sent to: `lab.example.org`, `*.example.org`, `10.0.0.5`, each with an optional `:port`. */
const hostPattern = z
  .string()
  .max(260)
  .superRefine((h, ctx) => {
    const why = hostPatternProblem(h);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  })
  .transform(normalizeHostPattern);
/** What the API shows for a secret variable's value. */
export const SECRET_VARIABLE_SHOWN = '•••';

function isConflict(e: unknown): boolean {
  return typeof e === 'object' && e !== null && Reflect.get(e, 'code') === 'store.conflict';
}

/** The environment and the caller's role in its workspace (at least `min`); NOT_FOUND otherwise. */
async function requireEnvironment(ctx: AuthedCtx, environmentId: string, min: Role): Promise<Environment> {
  const env = await ctx.store.environments.get(environmentId);
  if (!env) throw new TRPCError({ code: 'NOT_FOUND', message: 'environment not found' });
  await requireRole(ctx, env.workspaceId, min);
  return env;
}

async function environmentView(ctx: AuthedCtx, env: Environment) {
  const [variables, deployments] = await Promise.all([ctx.store.environments.variables(env.id), ctx.store.environments.deployments(env.id)]);
  const projects = await Promise.all(deployments.map(async (d) => ({ ...d, project: await ctx.store.projects.get(d.projectId) })));
  return {
    id: env.id,
    workspaceId: env.workspaceId,
    name: env.name,
    description: env.description,
    createdAt: iso(env.createdAt),
    // A secret's value never leaves the manager: only that it is set.
    // Its hosts are not secret: they say where it may be sent.
    variables: variables.map((v) => ({ name: v.name, secret: v.secret, value: v.secret ? SECRET_VARIABLE_SHOWN : v.value, hosts: v.secret ? v.hosts : [], updatedAt: iso(v.updatedAt) })),
    /** What runs resolved with this environment: each project's deployed version. */
    runs: projects.map((p) => ({ projectId: p.projectId, projectName: p.project?.name ?? null, version: p.version, state: p.desiredState, updatedAt: iso(p.updatedAt) })),
  };
}

export const environmentsRouter = router({
  /** The workspace's environments, their variables (secrets as `•••`) and what each runs. */
  list: authedProcedure.input(z.object({ workspaceId: id })).query(async ({ ctx, input }) => {
    await requireRole(ctx, input.workspaceId, 'viewer');
    return Promise.all((await ctx.store.environments.list(input.workspaceId)).map((e) => environmentView(ctx, e)));
  }),

  create: authedProcedure.input(z.object({ workspaceId: id, name: envName, description: z.string().max(2000).optional() })).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.workspaceId, 'admin');
    let env: Environment;
    try {
      env = await ctx.store.environments.create({ workspaceId: input.workspaceId, name: input.name, description: input.description ?? '' });
    } catch (e) {
      if (isConflict(e)) throw new TRPCError({ code: 'CONFLICT', message: `an environment named "${input.name}" already exists in this workspace`, cause: e });
      throw e;
    }
    await audit(ctx, { action: 'environment.create', entityType: 'environment', entityId: env.id, entityName: env.name, workspaceId: env.workspaceId, after: { name: env.name, description: env.description } });
    return environmentView(ctx, env);
  }),

  /** Refused with CONFLICT while a deployment runs resolved with it. */
  delete: authedProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const env = await requireEnvironment(ctx, input.id, 'admin');
    const runs = await ctx.store.environments.deployments(env.id);
    if (runs.length > 0) throw new TRPCError({ code: 'CONFLICT', message: `environment "${env.name}" has ${runs.length} deployment(s); deploy them elsewhere first` });
    await ctx.store.environments.delete(env.id);
    await audit(ctx, { action: 'environment.delete', entityType: 'environment', entityId: env.id, entityName: env.name, workspaceId: env.workspaceId, before: { name: env.name } });
    return { ok: true as const };
  }),

  /**
   * Sets a variable (`secret`: a `${secret:NAME}` value, sealed at rest and never shown again).
   * A secret's `hosts` are where it may be sent (refused at deploy into an item pointed anywhere
   * else); they are set only with the value, so whoever widens them knows the secret (omitted:
   * the stored ones are kept; a new secret has none). Takes effect at the next deploy.
   */
  setVariable: authedProcedure
    .input(
      z
        .object({
          environmentId: id,
          name: varName,
          value: z.string().max(10_000),
          secret: z.boolean().optional(),
          hosts: z.array(hostPattern).max(MAX_SECRET_HOSTS).optional(),
        })
        .refine((i) => i.secret === true || i.hosts === undefined, { message: 'hosts apply to secrets only', path: ['hosts'] }),
    )
    .mutation(async ({ ctx, input }) => {
      const env = await requireEnvironment(ctx, input.environmentId, 'admin');
      const secret = input.secret ?? false;
      const before = (await ctx.store.environments.variables(env.id)).find((v) => v.name === input.name && v.secret === secret);
      const value = secret ? ctx.secrets.seal(input.value, variablePlace(env.id, input.name)) : input.value;
      const hosts = input.hosts ? [...new Set(input.hosts)] : undefined;
      const row = await ctx.store.environments.setVariable({ environmentId: env.id, name: input.name, secret, value, ...(hosts ? { hosts } : {}), updatedBy: ctx.user.id });
      await audit(ctx, {
        action: 'environment.set_variable',
        entityType: 'environment',
        entityId: env.id,
        entityName: env.name,
        workspaceId: env.workspaceId,
        // A secret's value is never audited: only that it was set, and where it may go.
        before: before ? { name: input.name, secret, ...(secret ? { hosts: before.hosts } : { value: before.value }) } : null,
        after: { name: input.name, secret, ...(secret ? { hosts: row.hosts } : { value: input.value }) },
      });
      return { ok: true as const };
    }),

  deleteVariable: authedProcedure.input(z.object({ environmentId: id, name: varName, secret: z.boolean().optional() })).mutation(async ({ ctx, input }) => {
    const env = await requireEnvironment(ctx, input.environmentId, 'admin');
    const secret = input.secret ?? false;
    if (!(await ctx.store.environments.deleteVariable(env.id, input.name, secret))) throw new TRPCError({ code: 'NOT_FOUND', message: `no variable ${input.name} in "${env.name}"` });
    await audit(ctx, { action: 'environment.delete_variable', entityType: 'environment', entityId: env.id, entityName: env.name, workspaceId: env.workspaceId, before: { name: input.name, secret } });
    return { ok: true as const };
  }),

  /**
   * Each setting of a project version that holds references, resolved in `environment` (what the
   * designer shows on hover): secrets as `•••`, a missing variable named in `missing`.
   */
  resolve: authedProcedure.input(z.object({ projectId: id, environment: z.string().min(1), version: z.int().min(1).optional() })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    const env = (await ctx.store.environments.getByName(project.workspaceId, input.environment)) ?? (await ctx.store.environments.get(input.environment));
    if (!env || env.workspaceId !== project.workspaceId) throw new TRPCError({ code: 'NOT_FOUND', message: `no environment "${input.environment}" in this workspace` });
    const vars = await ctx.store.environments.variables(env.id);
    const plain = new Map(vars.filter((v) => !v.secret).map((v) => [v.name, v.value]));
    const secrets = new Set(vars.filter((v) => v.secret).map((v) => v.name));
    const row = await getVersion(ctx, project, input.version);
    const settings = findReferences(row.spec).map((at) => {
      const missing = at.refs.filter((r) => !(r.secret ? secrets.has(r.name) : plain.has(r.name))).map((r) => (r.secret ? `secret:${r.name}` : r.name));
      const resolved = replaceReferences(at.value, (r, text) => (r.secret ? (secrets.has(r.name) ? SECRET_VARIABLE_SHOWN : text) : (plain.get(r.name) ?? text)));
      return { item: at.item, path: at.path, value: at.value, resolved, missing };
    });
    return { environment: env.name, version: row.version, settings };
  }),
});
