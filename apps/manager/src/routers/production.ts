import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { explainResolvedProblems, toTrpcCode } from '@hie/config';
import { audit } from '../audit.js';
import { requireProject } from '../authz.js';
import { waitWhileAllowed } from '../auth/live-guard.js';
import { runnableSpec, writeDesired } from '../deploy.js';
import { checkSpec, getVersion } from '../spec.js';
import { runningOf, type ItemStatus } from '../status.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { deploymentView } from '../views.js';
import { sandboxProcedures } from './sandbox.js';
import type { Project, DesiredState as State } from '@hie/store';

const projectId = z.string().min(1);

/** The environment named (or with the id) `nameOrId` in the project's workspace. */
async function environmentFor(ctx: AuthedCtx, project: Project, nameOrId: string) {
  const env = (await ctx.store.environments.getByName(project.workspaceId, nameOrId)) ?? (await ctx.store.environments.get(nameOrId));
  if (!env || env.workspaceId !== project.workspaceId) throw new TRPCError({ code: 'NOT_FOUND', message: `no environment "${nameOrId}" in this workspace` });
  return env;
}

/**
 * `environment`: where the version's `${…}` references resolve (a name or id); undefined keeps
 * the environment the project runs in now.
 */
async function setState(ctx: AuthedCtx, project: Project, version: number, state: State, action: string, environment?: string) {
  const before = await ctx.store.deployments.get(project.id);
  const env = environment !== undefined ? await environmentFor(ctx, project, environment) : before?.environmentId ? await ctx.store.environments.get(before.environmentId) : undefined;
  // Re-check the version with today's item types: the engine will refuse what is invalid anyway.
  // As the engine will see it: secrets in plaintext (a secret's own rules apply to it, not to its
  // ciphertext), references resolved in the target environment.
  const stored = (await getVersion(ctx, project, version)).spec;
  const runnable = await runnableSpec(ctx, project, stored, env?.id ?? null);
  await checkSpec(ctx, runnable, (p) => explainResolvedProblems(stored, p, env?.name ?? ''));
  await writeDesired(ctx, project, version, state, ctx.user.id, env?.id ?? null);
  ctx.caches.deployments.clear();
  await audit(ctx, {
    action,
    entityType: 'deployment',
    entityId: project.id,
    entityName: project.name,
    workspaceId: project.workspaceId,
    before: before ? { version: before.version, state: before.desiredState, environmentId: before.environmentId } : null,
    after: { version, state, ...(env ? { environment: env.name, environmentId: env.id } : {}) },
  });
  return { version, state, ...(env ? { environment: env.name } : {}) };
}

async function itemCommand(ctx: AuthedCtx, input: { projectId: string; item: string }, kind: 'item.start' | 'item.stop' | 'item.restart') {
  const { project } = await requireProject(ctx, input.projectId, 'analyst');
  const result = await ctx.coordinator.sendCommand({ kind, projectId: project.id, item: input.item });
  await audit(ctx, {
    action: kind,
    entityType: 'item',
    entityId: `${project.id}:${input.item}`,
    entityName: `${project.name}/${input.item}`,
    workspaceId: project.workspaceId,
    after: { item: input.item, ok: result.ok, ...(result.error ? { error: result.error } : {}) },
  });
  if (!result.ok) {
    const code = result.error?.code ?? 'engine.unexpected';
    throw new TRPCError({ code: toTrpcCode(code), message: result.error?.message ?? `${kind} failed` });
  }
  return { ok: true as const, nodeId: result.nodeId };
}

const itemInput = z.object({ projectId, item: z.string().min(1) });

export const productionRouter = router({
  ...sandboxProcedures,
  /**
   * Desired state running at `version` (default: the current version), its `${…}` references
   * resolved in `environment` (a name or id; default: the environment it runs in now). The same
   * version promoted to another environment is one call, without editing it.
   */
  deploy: authedProcedure
    .input(z.object({ projectId, version: z.int().min(1).optional(), environment: z.string().min(1).max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.projectId, 'analyst');
      return setState(ctx, project, input.version ?? project.currentVersion, 'running', 'deployment.deploy', input.environment);
    }),

  /** Desired state running at the deployed version (the current one if never deployed). */
  start: authedProcedure.input(z.object({ projectId })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const dep = await ctx.store.deployments.get(project.id);
    return setState(ctx, project, dep?.version ?? project.currentVersion, 'running', 'deployment.start');
  }),

  /** Desired state stopped (the engine drains and stops every item). */
  stop: authedProcedure.input(z.object({ projectId })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const dep = await ctx.store.deployments.get(project.id);
    if (!dep) throw new TRPCError({ code: 'NOT_FOUND', message: 'the project has never been deployed' });
    return setState(ctx, project, dep.version, 'stopped', 'deployment.stop');
  }),

  /** Deploys the current version, running; the engine hot-reloads only the changed items. */
  reload: authedProcedure.input(z.object({ projectId })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    return setState(ctx, project, project.currentVersion, 'running', 'deployment.reload');
  }),

  /** What should run (desired) and what the engine nodes report (running). */
  status: authedProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    const [dep, nodes] = await Promise.all([ctx.store.deployments.get(project.id), ctx.coordinator.listStatus()]);
    const running = runningOf(nodes, project.id);
    return {
      ...(dep ? { desired: deploymentView(dep) } : {}),
      ...(running ? { running } : {}),
    };
  }),

  itemStart: authedProcedure.input(itemInput).mutation(({ ctx, input }) => itemCommand(ctx, input, 'item.start')),
  itemStop: authedProcedure.input(itemInput).mutation(({ ctx, input }) => itemCommand(ctx, input, 'item.stop')),
  itemRestart: authedProcedure.input(itemInput).mutation(({ ctx, input }) => itemCommand(ctx, input, 'item.restart')),

  /** Server-sent events: the project's item figures every second (`at`: epoch ms). */
  live: authedProcedure.input(z.object({ projectId, intervalMs: z.int().min(200).max(60_000).optional() })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    const every = input.intervalMs ?? 1000;
    while (!signal?.aborted) {
      const running = runningOf(await ctx.coordinator.listStatus(), project.id);
      const items: ItemStatus[] = running?.items ?? [];
      yield { at: Date.now(), state: running?.state, stale: running?.stale ?? true, items, messagesReceived: running?.messagesReceived ?? 0 };
      // Ends the stream (with UNAUTHORIZED / FORBIDDEN) at logout or when the role is removed.
      await waitWhileAllowed(ctx, project.workspaceId, 'viewer', every, signal);
    }
  }),
});
