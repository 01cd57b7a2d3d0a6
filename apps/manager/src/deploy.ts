/**
 * Desired state: the deployments table is the durable record (which version of each project
 * runs, started or stopped); the Coordinator is what engine nodes watch. Every change writes
 * both, store first.
 */
import { TRPCError } from '@trpc/server';
import type { Coordinator, DesiredState } from '@hie/cluster';
import type { Deployment, DesiredState as State, Project, Store } from '@hie/store';
import type { Ctx } from './trpc.js';
import { asSpec } from './spec.js';

function productionName(spec: unknown): string {
  const s = asSpec(spec);
  return typeof s.name === 'string' ? s.name : '';
}

/**
 * Writes the desired state of a project (store, then coordinator). Productions of the same name
 * may run side by side: messages belong to a project id, never to a production's name.
 * @throws NOT_FOUND when the version does not exist.
 */
export async function writeDesired(
  deps: { store: Store; coordinator: Coordinator },
  project: Project,
  version: number,
  state: State,
  updatedBy: string | null,
): Promise<DesiredState> {
  const row = await deps.store.configVersions.get(project.id, version);
  if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `project has no version ${version}` });
  const production = productionName(row.spec);
  const dep = await deps.store.deployments.upsert(project.id, { version, desiredState: state, updatedBy });
  const desired: DesiredState = {
    projectId: project.id,
    workspaceId: project.workspaceId,
    production,
    version,
    state,
    spec: row.spec,
    updatedAt: dep.updatedAt.getTime(),
    ...(updatedBy ? { updatedBy } : {}),
  };
  await deps.coordinator.setDesired(desired);
  return desired;
}

/**
 * Loads every deployment from the store into the coordinator: call it once at start-up with the
 * in-process coordinator (it forgets everything when the process ends). Returns the count.
 */
export async function restoreDesiredState(deps: { store: Store; coordinator: Coordinator }): Promise<number> {
  let n = 0;
  for (const d of await deps.store.deployments.list()) {
    const [project, row] = await Promise.all([deps.store.projects.get(d.projectId), deps.store.configVersions.get(d.projectId, d.version)]);
    if (!project || !row) continue;
    await deps.coordinator.setDesired({
      projectId: project.id,
      workspaceId: project.workspaceId,
      production: productionName(row.spec),
      version: d.version,
      state: d.desiredState,
      spec: row.spec,
      updatedAt: d.updatedAt.getTime(),
      ...(d.updatedBy ? { updatedBy: d.updatedBy } : {}),
    });
    n++;
  }
  return n;
}

/** Every deployment by project id, for views (see `caches.deployments`). */
export async function deploymentsForViews(ctx: Ctx): Promise<Map<string, Deployment>> {
  const all = await ctx.caches.deployments.getOrLoad('all', async () => new Map((await ctx.store.deployments.list()).map((d) => [d.projectId, d])));
  return all ?? new Map();
}
