import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tables } from '@hie/store';
import type { AppRouter } from './router.js';
import { errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let outsider: ApiClient;
let workspaceId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, outsider, workspaceId } = await h.team('Pathology'));
});
afterAll(async () => {
  await h?.close();
});

async function badRequest(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof TRPCClientError)) throw e;
    const err = e as TRPCClientError<AppRouter>;
    expect(err.data?.code).toBe('BAD_REQUEST');
    expect(JSON.stringify(err.shape)).not.toMatch(/stack|\.ts:\d+/);
    return err.data?.problems ?? [];
  }
  throw new Error('expected BAD_REQUEST');
}

describe('projects', () => {
  it('create (default empty spec), list, get, update, export, import, clone, delete', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'Lab results (main)', description: 'ORU' });
    expect(p).toMatchObject({ name: 'Lab results (main)', currentVersion: 1, workspaceId });
    expect(await errorCode(analyst.api.projects.create.mutate({ workspaceId, name: 'Lab results (main)' }))).toBe('CONFLICT');

    const got = await viewer.api.projects.get.query({ id: p.id });
    expect(got.version).toMatchObject({ version: 1, author: 'alice', comment: 'created' });
    expect(got.version.spec).toEqual({ name: 'Lab results -main-', items: [], connections: [] });
    expect(typeof got.version.createdAt).toBe('string');
    expect(got.deployment).toBeUndefined();

    const list = await viewer.api.projects.list.query({ workspaceId });
    expect(list.map((x) => x.name)).toEqual(['Lab results (main)']);
    expect(list[0]).toMatchObject({ currentVersion: 1, description: 'ORU' });

    const upd = await analyst.api.projects.update.mutate({ id: p.id, description: 'ORU^R01' });
    expect(upd.description).toBe('ORU^R01');

    const imported = await analyst.api.projects.import.mutate({ workspaceId, spec: sampleSpec('imported-feed') });
    expect(imported.name).toBe('imported-feed');
    expect(await viewer.api.projects.export.query({ id: imported.id })).toEqual(sampleSpec('imported-feed'));

    const clone = await analyst.api.projects.clone.mutate({ id: imported.id, name: 'Copy of feed' });
    const cloned = await viewer.api.projects.export.query({ id: clone.id });
    expect(cloned).toEqual({ ...sampleSpec(), name: 'Copy of feed' });
    expect((await viewer.api.versions.list.query({ projectId: clone.id }))[0].comment).toBe('cloned from imported-feed v1');

    // viewer cannot edit; outsider cannot see; analyst cannot delete (admin only)
    expect(await errorCode(viewer.api.projects.update.mutate({ id: p.id, name: 'mine' }))).toBe('FORBIDDEN');
    expect(await errorCode(viewer.api.projects.create.mutate({ workspaceId, name: 'v' }))).toBe('FORBIDDEN');
    expect(await errorCode(outsider.api.projects.get.query({ id: p.id }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.projects.list.query({ workspaceId }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.projects.export.query({ id: p.id }))).toBe('NOT_FOUND');
    expect(await outsider.api.workspaces.list.query()).toEqual([]);
    expect(await errorCode(analyst.api.projects.delete.mutate({ id: clone.id }))).toBe('FORBIDDEN');

    await admin.api.projects.delete.mutate({ id: clone.id });
    expect(await errorCode(viewer.api.projects.get.query({ id: clone.id }))).toBe('NOT_FOUND');

    const audit = await admin.api.audit.list.query({ workspaceId, entityType: 'project' });
    expect(audit.items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['project.create', 'project.update', 'project.import', 'project.clone', 'project.delete']),
    );
  });

  it('save validates the whole spec: BAD_REQUEST with data.problems and their paths', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'validation' });
    const problems = await badRequest(
      analyst.api.projects.save.mutate({
        id: p.id,
        baseVersion: 1,
        spec: {
          name: 'validation',
          items: [
            // @ts-expect-error: a wrong overflow value, as a hand-edited spec might have
            { name: 'In', type: 'hl7.mllp.in', settings: { port: 99999 }, queue: { overflow: 'explode' } },
            { name: 'Out', type: 'no.such-type' },
          ],
          connections: [{ from: 'In', to: 'Nowhere' }],
        },
      }),
    );
    const paths = problems.map((x) => x.pathText);
    expect(paths).toEqual(
      expect.arrayContaining(['items[0].queue.overflow', 'items[0].settings.port', 'items[1].type', 'connections[0].to']),
    );
    for (const x of problems) expect(x.path.length).toBeGreaterThan(0);
    // Input-level zod problems carry paths too.
    const inputProblems = await badRequest(analyst.api.projects.save.mutate({ id: p.id, baseVersion: -1, spec: sampleSpec() }));
    expect(inputProblems.map((x) => x.pathText)).toEqual(['baseVersion']);
    // Nothing was saved.
    expect((await viewer.api.versions.list.query({ projectId: p.id })).map((v) => v.version)).toEqual([1]);
  });

  it('save: new immutable versions, CONFLICT on a stale baseVersion, cycle warnings', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'saving', spec: sampleSpec('saving') });
    const s2 = await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: { ...sampleSpec('saving'), description: 'two' }, comment: 'v2' });
    expect(s2).toEqual({ version: 2, warnings: { cycles: [] } });
    expect(await errorCode(analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: sampleSpec('saving') }))).toBe('CONFLICT');
    const looped = sampleSpec('saving');
    looped.connections = [...(looped.connections ?? []), { from: 'Files', to: 'ADT In' }];
    const s3 = await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 2, spec: looped });
    expect(s3.version).toBe(3);
    expect(s3.warnings.cycles).toEqual([['ADT In', 'Route', 'Files']]);
    expect(await errorCode(viewer.api.projects.save.mutate({ id: p.id, baseVersion: 3, spec: looped }))).toBe('FORBIDDEN');

    // Concurrent saves on the same base: exactly one wins, the others get CONFLICT.
    const results = await Promise.allSettled(
      [0, 1, 2, 3].map((i) => analyst.api.projects.save.mutate({ id: p.id, baseVersion: 3, spec: { ...looped, description: `race ${i}` } })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);

    // Version 1 is unchanged, and the database refuses to change it.
    expect((await viewer.api.projects.get.query({ id: p.id, version: 1 })).version.spec).toEqual(sampleSpec('saving'));
    await expect(h.store.db.update(tables.configVersions).set({ comment: 'tampered' })).rejects.toThrow();
    expect((await viewer.api.versions.list.query({ projectId: p.id })).map((v) => v.comment)).not.toContain('tampered');

    const audit = await admin.api.audit.list.query({ workspaceId, action: 'config.save' });
    const save = audit.items.find((a) => a.entityId === p.id && (a.after as { version: number }).version === 2)!;
    expect(save).toMatchObject({ actorName: 'alice', before: { version: 1 }, after: { version: 2, comment: 'v2' } });
  });
});

describe('items and connections', () => {
  it('upsert, delete (with its connections), connections add/remove, all versioned', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'designer', spec: sampleSpec('designer') });
    const listed = await viewer.api.items.list.query({ projectId: p.id });
    expect(listed.items.map((i) => i.name)).toEqual(['ADT In', 'Route', 'Files']);

    const up = await analyst.api.items.upsert.mutate({
      projectId: p.id,
      baseVersion: 1,
      item: { name: 'Archive', type: 'file.out', settings: { directory: './archive' }, queue: { type: 'lifo' } },
    });
    expect(up).toMatchObject({ version: 2, replaced: false });
    const replaced = await analyst.api.items.upsert.mutate({
      projectId: p.id,
      baseVersion: 2,
      item: { name: 'Archive', type: 'file.out', settings: { directory: './archive2' } },
    });
    expect(replaced).toMatchObject({ version: 3, replaced: true });
    // An invalid item: problems re-rooted at `item`.
    const problems = await badRequest(
      analyst.api.items.upsert.mutate({
        projectId: p.id,
        baseVersion: 3,
        // @ts-expect-error: overflow value not allowed
        item: { name: 'Archive', type: 'file.out', settings: {}, queue: { overflow: 'sideways' } },
      }),
    );
    expect(problems.map((x) => x.pathText).sort()).toEqual(['item.queue.overflow', 'item.settings.directory']);
    expect(await errorCode(analyst.api.items.upsert.mutate({ projectId: p.id, baseVersion: 2, item: { name: 'X', type: 'file.out', settings: { directory: '.' } } }))).toBe('CONFLICT');

    const c = await analyst.api.connections.add.mutate({ projectId: p.id, baseVersion: 3, from: 'Route', to: 'Archive' });
    expect(c).toEqual({ version: 4, warnings: { cycles: [] } });
    expect(await errorCode(analyst.api.connections.add.mutate({ projectId: p.id, baseVersion: 4, from: 'Route', to: 'Ghost' }))).toBe('NOT_FOUND');
    expect(await errorCode(analyst.api.connections.add.mutate({ projectId: p.id, baseVersion: 4, from: 'Route', to: 'Archive' }))).toBe('BAD_REQUEST');
    const loop = await analyst.api.connections.add.mutate({ projectId: p.id, baseVersion: 4, from: 'Archive', to: 'Route' });
    expect(loop.warnings.cycles).toEqual([['Route', 'Archive']]);
    await analyst.api.connections.remove.mutate({ projectId: p.id, baseVersion: 5, from: 'Archive', to: 'Route' });
    expect(await errorCode(analyst.api.connections.remove.mutate({ projectId: p.id, baseVersion: 6, from: 'Archive', to: 'Route' }))).toBe('NOT_FOUND');

    const del = await analyst.api.items.delete.mutate({ projectId: p.id, baseVersion: 6, name: 'Route' });
    expect(del.version).toBe(7);
    const spec = await viewer.api.projects.export.query({ id: p.id });
    expect(spec.items?.map((i) => i.name)).toEqual(['ADT In', 'Files', 'Archive']);
    expect(spec.connections).toEqual([]);
    expect(await errorCode(analyst.api.items.delete.mutate({ projectId: p.id, baseVersion: 7, name: 'Route' }))).toBe('NOT_FOUND');
    expect(await errorCode(viewer.api.items.delete.mutate({ projectId: p.id, baseVersion: 7, name: 'Files' }))).toBe('FORBIDDEN');

    const audit = await admin.api.audit.list.query({ workspaceId });
    expect(audit.items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['config.item.upsert', 'config.item.delete', 'config.connection.add', 'config.connection.remove']),
    );
  });
});

describe('versions', () => {
  it('list, diff and rollback', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'versions', spec: sampleSpec('versions') });
    const v2 = sampleSpec('versions');
    v2.items = [
      { name: 'ADT In', type: 'hl7.mllp.in', settings: { port: 2600 }, position: { x: 10, y: 0 } },
      { name: 'Route', type: 'hl7.router', settings: { rules: [] } },
      { name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: 'lab', port: 2700 } },
    ];
    v2.connections = [
      { from: 'ADT In', to: 'Route' },
      { from: 'Route', to: 'Lab Out' },
    ];
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: v2, comment: 'lab out' });

    const versions = await viewer.api.versions.list.query({ projectId: p.id });
    expect(versions.map((v) => [v.version, v.comment, v.author])).toEqual([
      [2, 'lab out', 'alice'],
      [1, 'created', 'alice'],
    ]);

    const diff = await viewer.api.versions.diff.query({ projectId: p.id, from: 1, to: 2 });
    expect(diff.added).toEqual(['Lab Out']);
    expect(diff.removed).toEqual(['Files']);
    expect(diff.changed).toEqual([
      {
        item: 'ADT In',
        fields: [
          { path: 'position.x', before: 0, after: 10 },
          { path: 'settings.port', before: 2575, after: 2600 },
        ],
      },
    ]);
    expect(diff.connectionsAdded).toEqual([{ from: 'Route', to: 'Lab Out' }]);
    expect(diff.connectionsRemoved).toEqual([{ from: 'Route', to: 'Files' }]);
    expect(await errorCode(viewer.api.versions.diff.query({ projectId: p.id, from: 1, to: 9 }))).toBe('NOT_FOUND');

    const rb = await analyst.api.versions.rollback.mutate({ projectId: p.id, version: 1 });
    expect(rb.version).toBe(3);
    expect(await viewer.api.projects.export.query({ id: p.id })).toEqual(sampleSpec('versions'));
    expect((await viewer.api.versions.list.query({ projectId: p.id }))[0]).toMatchObject({ version: 3, comment: 'rollback to v1' });
    expect(await viewer.api.versions.diff.query({ projectId: p.id, from: 1, to: 3 })).toMatchObject({ added: [], removed: [], changed: [] });
    expect(await errorCode(viewer.api.versions.rollback.mutate({ projectId: p.id, version: 1 }))).toBe('FORBIDDEN');
    expect(await errorCode(outsider.api.versions.list.query({ projectId: p.id }))).toBe('NOT_FOUND');
  });

  it('itemTypes.list: built-in types with JSON Schemas, and the common settings schema', async () => {
    const { types, common } = await viewer.api.itemTypes.list.query();
    const mllp = types.find((t) => t.type === 'hl7.mllp.in')!;
    expect(mllp).toMatchObject({ kind: 'service', source: 'builtin' });
    expect(mllp.settingsSchema).toMatchObject({ type: 'object' });
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(['file.out', 'hl7.router', 'http.in']));
    expect(common).toMatchObject({ type: 'object' });
    expect(JSON.stringify(common)).toContain('overflow');
  });
});
