import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '@hie/store';
import { errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let workspaceId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, workspaceId } = await h.team('Audit Trust'));
});
afterAll(async () => {
  await h?.close();
});

const entries = async (filter: { action: string; entityId?: string; workspaceId?: string }) =>
  (await admin.api.audit.list.query({ workspaceId, ...filter })).items;

describe('audit: refused attempts', () => {
  it('every FORBIDDEN is recorded once as access.denied: procedure, actor, entity name, workspace', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'Denied feed' });
    expect(await errorCode(viewer.api.projects.update.mutate({ id: p.id, description: 'mine' }))).toBe('FORBIDDEN');
    const [project] = await entries({ action: 'access.denied', entityId: p.id });
    expect(project).toMatchObject({
      actorName: 'vera',
      entityType: 'project',
      entityName: 'Denied feed',
      workspaceId,
      after: { procedure: 'projects.update', needs: 'analyst', role: 'viewer' },
    });

    // a workspace-level refusal carries the workspace's name
    expect(await errorCode(analyst.api.workspaces.update.mutate({ id: workspaceId, description: 'x' }))).toBe('FORBIDDEN');
    const [ws] = await entries({ action: 'access.denied', entityId: workspaceId });
    expect(ws).toMatchObject({ actorName: 'alice', entityType: 'workspace', entityName: 'Audit Trust', after: { procedure: 'workspaces.update', needs: 'admin' } });

    // a global-admin-only call has no workspace: it is in the global trail
    expect(await errorCode(viewer.api.users.create.mutate({ username: 'eve', password: 'eve-password-1' }))).toBe('FORBIDDEN');
    const global = (await admin.api.audit.list.query({ action: 'access.denied', actor: 'vera' })).items;
    expect(global[0]).toMatchObject({ entityType: 'procedure', entityName: 'users.create', workspaceId: null, after: { procedure: 'users.create' } });

    // the body-text search refusal (its own scope) is recorded once, not twice
    const before = (await entries({ action: 'access.denied', entityId: p.id })).length;
    expect(await errorCode(viewer.api.messages.search.query({ projectId: p.id, text: 'SMITH' }))).toBe('FORBIDDEN');
    const after = await entries({ action: 'access.denied', entityId: p.id });
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ actorName: 'vera', after: { procedure: 'messages.search', what: 'searching message text', role: 'viewer' } });
  });
});

describe('audit: config saves show what changed', () => {
  it('names items, connections and setting paths — never setting values', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'Changes', spec: sampleSpec('changes') });
    const files = { name: 'Files', type: 'file.out', settings: { directory: './out/very-private-folder' } } as const;
    await analyst.api.items.upsert.mutate({ projectId: p.id, baseVersion: 1, item: files });
    const [upsert] = await entries({ action: 'config.item.upsert', entityId: p.id });
    expect(upsert).toMatchObject({
      entityName: 'Changes',
      after: { version: 2, item: 'Files', changes: { itemsChanged: [{ item: 'Files', paths: ['settings.directory'] }] } },
    });
    expect(JSON.stringify(upsert)).not.toContain('very-private-folder');

    await analyst.api.connections.add.mutate({ projectId: p.id, baseVersion: 2, from: 'ADT In', to: 'Files' });
    expect((await entries({ action: 'config.connection.add', entityId: p.id }))[0].after).toMatchObject({
      changes: { connectionsAdded: ['ADT In → Files'] },
    });

    const spec = sampleSpec('changes');
    spec.items = spec.items!.filter((i) => i.name !== 'Route');
    spec.connections = [];
    spec.description = 'no routing';
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 3, spec });
    const [save] = await entries({ action: 'config.save', entityId: p.id });
    expect(save.after).toMatchObject({
      version: 4,
      changes: {
        itemsRemoved: ['Route'],
        itemsChanged: [{ item: 'Files', paths: ['settings.directory'] }],
        connectionsRemoved: ['ADT In → Route', 'Route → Files', 'ADT In → Files'],
        production: ['description'],
      },
    });
    expect(JSON.stringify(save)).not.toContain('no routing');

    await analyst.api.versions.rollback.mutate({ projectId: p.id, version: 1 });
    expect((await entries({ action: 'config.rollback', entityId: p.id }))[0].after).toMatchObject({
      rolledBackTo: 1,
      changes: { itemsAdded: ['Route'], connectionsAdded: ['ADT In → Route', 'Route → Files'] },
    });
  });
});

describe('audit: export, entity names, soft delete', () => {
  it('projects.export is audited with the version', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'Exported', spec: sampleSpec('exported') });
    expect(await viewer.api.projects.export.query({ id: p.id })).toEqual(sampleSpec('exported'));
    const [entry] = await entries({ action: 'project.export', entityId: p.id });
    expect(entry).toMatchObject({ actorName: 'vera', entityType: 'project', entityName: 'Exported', workspaceId, after: { version: 1 } });
  });

  it('entries carry entity names: projects, deployments, users, workspaces', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'Named', spec: sampleSpec('named') });
    expect((await entries({ action: 'project.create', entityId: p.id }))[0].entityName).toBe('Named');
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    expect((await entries({ action: 'deployment.deploy', entityId: p.id }))[0].entityName).toBe('Named');
    await analyst.api.production.stop.mutate({ projectId: p.id });
    const user = await admin.api.users.create.mutate({ username: 'nina', password: 'nina-password-1' });
    expect((await admin.api.audit.list.query({ action: 'user.create', entityId: user.id })).items[0].entityName).toBe('nina');
    await admin.api.workspaces.update.mutate({ id: workspaceId, description: 'renamed nothing' });
    expect((await entries({ action: 'workspace.update', entityId: workspaceId }))[0].entityName).toBe('Audit Trust');
  });

  it('deleting a project keeps its config history, answers NOT_FOUND, frees the name', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'Short-lived', spec: sampleSpec('short') });
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: { ...sampleSpec('short'), description: 'v2' } });
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    await analyst.api.production.stop.mutate({ projectId: p.id });
    await admin.api.projects.delete.mutate({ id: p.id });

    expect(await errorCode(viewer.api.projects.get.query({ id: p.id }))).toBe('NOT_FOUND');
    expect(await errorCode(viewer.api.versions.list.query({ projectId: p.id }))).toBe('NOT_FOUND');
    expect(await errorCode(analyst.api.production.deploy.mutate({ projectId: p.id }))).toBe('NOT_FOUND');
    expect((await viewer.api.projects.list.query({ workspaceId })).map((x) => x.id)).not.toContain(p.id);
    const [{ n }] = await h.store.db.select({ n: count() }).from(tables.configVersions).where(eq(tables.configVersions.projectId, p.id));
    expect(n).toBe(2);
    expect(await h.store.deployments.get(p.id)).toBeUndefined();
    const [row] = await h.store.db
      .select({ deletedAt: tables.projects.deletedAt })
      .from(tables.projects)
      .where(eq(tables.projects.id, p.id));
    expect(row.deletedAt).toBeInstanceOf(Date);
    expect((await entries({ action: 'project.delete', entityId: p.id }))[0]).toMatchObject({ entityName: 'Short-lived', actorName: 'admin' });

    const again = await analyst.api.projects.create.mutate({ workspaceId, name: 'Short-lived' });
    expect(again.id).not.toBe(p.id);
    expect((await viewer.api.projects.get.query({ id: again.id })).version.version).toBe(1);
  });
});
