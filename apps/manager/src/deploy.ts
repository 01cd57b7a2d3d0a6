/**
 * Desired state: the deployments table is the durable record (which version of each project
 * runs, started or stopped); the Coordinator is what engine nodes watch. Every change writes
 * both, store first.
 */
import { TRPCError } from '@trpc/server';
import type { Coordinator, DesiredState } from '@hie/cluster';
import type { Deployment, DesiredState as State, Project, Store } from '@hie/store';
import type { Ctx } from './trpc.js';
import { resolveInEnvironment } from './environments.js';
import { asSpec } from './spec.js';
import { revealSecrets, type SecretBox } from './secrets.js';

type DeployDeps = { store: Store; coordinator: Coordinator; secrets?: SecretBox };

/**
 * What the engine runs of a stored spec: its secret settings decrypted and its `${…}` references
 * resolved with the environment's values (none: a spec with references is refused).
 * @throws HieError `config.invalid` naming each missing variable; `secrets.unavailable`.
 */
export async function runnableSpec(deps: DeployDeps, project: Project, spec: unknown, environmentId: string | null): Promise<unknown> {
  const env = environmentId ? await deps.store.environments.get(environmentId) : undefined;
  if (environmentId && !env) throw new TRPCError({ code: 'NOT_FOUND', message: 'environment not found' });
  return resolveInEnvironment(deps, revealSecrets(spec, deps.secrets, project.id), env);
}

function productionName(spec: unknown): string {
  const s = asSpec(spec);
  return typeof s.name === 'string' ? s.name : '';
}

/**
 * Writes the desired state of a project (store, then coordinator). Productions of the same name
 * may run side by side: messages belong to a project id, never to a production's name.
 * `environmentId`: the environment the spec's references resolve in (undefined: the one it runs
 * in now; null: none).
 * @throws NOT_FOUND when the version does not exist; `config.invalid` when a variable is missing.
 */
export async function writeDesired(
  deps: DeployDeps,
  project: Project,
  version: number,
  state: State,
  updatedBy: string | null,
  environmentId?: string | null,
): Promise<DesiredState> {
  const row = await deps.store.configVersions.get(project.id, version);
  if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `project has no version ${version}` });
  const production = productionName(row.spec);
  const envId = environmentId !== undefined ? environmentId : ((await deps.store.deployments.get(project.id))?.environmentId ?? null);
  // Resolved before anything is written: a missing variable leaves the running deployment as it is.
  const spec = await runnableSpec(deps, project, row.spec, envId);
  const dep = await deps.store.deployments.upsert(project.id, { version, desiredState: state, updatedBy, environmentId: envId });
  const desired: DesiredState = {
    projectId: project.id,
    workspaceId: project.workspaceId,
    production,
    version,
    state,
    spec,
    updatedAt: dep.updatedAt.getTime(),
    ...(updatedBy ? { updatedBy } : {}),
  };
  await deps.coordinator.setDesired(desired);
  return desired;
}

/**
 * Loads every deployment from the store into the coordinator: call it once at start-up with the
 * in-process coordinator (it forgets everything when the process ends). Returns the count. A
 * deployment whose environment lost a variable it needs is left out and reported to `onError`.
 */
export async function restoreDesiredState(deps: DeployDeps & { onError?: (projectId: string, e: unknown) => void }): Promise<number> {
  let n = 0;
  for (const d of await deps.store.deployments.list()) {
    const [project, row] = await Promise.all([deps.store.projects.get(d.projectId), deps.store.configVersions.get(d.projectId, d.version)]);
    if (!project || !row) continue;
    let spec: unknown;
    try {
      spec = await runnableSpec(deps, project, row.spec, d.environmentId);
    } catch (e) {
      deps.onError?.(project.id, e);
      continue;
    }
    await deps.coordinator.setDesired({
      projectId: project.id,
      workspaceId: project.workspaceId,
      production: productionName(row.spec),
      version: d.version,
      state: d.desiredState,
      spec,
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
