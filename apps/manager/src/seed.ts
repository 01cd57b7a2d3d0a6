import type { Coordinator } from '@hie/cluster';
import { builtinItemTypes, parseProduction } from '@hie/config';
import type { Store } from '@hie/store';
import { writeDesired } from './deploy.js';

export interface SeedDemoResult {
  /** False when the demo project already existed (nothing was changed). */
  created: boolean;
  workspaceId: string;
  projectId: string;
}

/**
 * The first-run demo: workspace "Demo", project "adt-feed" with `spec` as version 1, the `admin`
 * user as a member, deployed running. Does nothing if the project already exists.
 * @throws HieError `config.invalid` when `spec` is not a valid production.
 */
export async function seedDemo(deps: { store: Store; coordinator: Coordinator; spec: unknown }): Promise<SeedDemoResult> {
  const { store } = deps;
  const types = new Map(builtinItemTypes.map((t) => [t.type, t]));
  parseProduction(deps.spec, { itemTypes: (t) => types.get(t) });
  const workspace = (await store.workspaces.getByName('Demo')) ?? (await store.workspaces.create({ name: 'Demo', description: 'Demo workspace' }));
  const existing = await store.projects.getByName(workspace.id, 'adt-feed');
  if (existing) return { created: false, workspaceId: workspace.id, projectId: existing.id };

  const admin = await store.users.getByUsername('admin');
  if (admin) await store.memberships.set(admin.id, workspace.id, 'admin');
  const project = await store.projects.create({
    workspaceId: workspace.id,
    name: 'adt-feed',
    description: 'Demo: ADT and lab results in over MLLP, routed to files and downstream',
  });
  const version = await store.configVersions.create(project.id, deps.spec, admin?.id ?? null, 'demo');
  await writeDesired(deps, project, version.version, 'running', admin?.id ?? null);
  await store.audit.append({
    actorName: 'system',
    action: 'project.seed_demo',
    entityType: 'project',
    entityId: project.id,
    workspaceId: workspace.id,
    after: { name: project.name, version: version.version, state: 'running' },
  });
  return { created: true, workspaceId: workspace.id, projectId: project.id };
}
