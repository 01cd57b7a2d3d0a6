import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from './db.js';
import { toStoreError } from './errors.js';
import { BACKENDS, useTestStore } from './test-backends.js';

const uniq = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

describe.each(BACKENDS)('repositories on %s', (backend) => {
  const t = useTestStore(backend);

  it('users: create, find, update, unique username', async () => {
    const username = uniq('alice');
    const u = await t.store.users.create({ username, passwordHash: 'h1', displayName: 'Alice', isAdmin: true });
    expect(u).toMatchObject({ username, passwordHash: 'h1', displayName: 'Alice', isAdmin: true, disabled: false });
    expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(u.createdAt).toBeInstanceOf(Date);
    expect(await t.store.users.getByUsername(username)).toEqual(u);
    expect(await t.store.users.get(u.id)).toEqual(u);
    await expect(t.store.users.create({ username, passwordHash: 'x' })).rejects.toMatchObject({
      code: 'store.conflict',
      kind: 'user',
      details: { constraint: 'users_username_unique' },
    });
    const updated = await t.store.users.update(u.id, { displayName: 'Alice B', disabled: true });
    expect(updated).toMatchObject({ displayName: 'Alice B', disabled: true });
    await expect(t.store.users.update(randomUUID(), { displayName: 'x' })).rejects.toMatchObject({ code: 'store.not_found' });
    expect((await t.store.users.list()).map((x) => x.username)).toContain(username);
    expect(await t.store.users.count()).toBeGreaterThanOrEqual(1);
  });

  it('sessions: valid, expired, disabled user, delete', async () => {
    const u = await t.store.users.create({ username: uniq('bob'), passwordHash: 'h' });
    const now = new Date();
    await t.store.sessions.create({ id: 'hash-live-' + u.id, userId: u.id, expiresAt: new Date(now.getTime() + 60_000), sourceAddress: '10.0.0.1' });
    await t.store.sessions.create({ id: 'hash-old-' + u.id, userId: u.id, expiresAt: new Date(now.getTime() - 1000) });
    const live = await t.store.sessions.getValid('hash-live-' + u.id, now);
    expect(live?.user.id).toBe(u.id);
    expect(live?.session.sourceAddress).toBe('10.0.0.1');
    expect(await t.store.sessions.getValid('hash-old-' + u.id, now)).toBeUndefined();
    expect(await t.store.sessions.deleteExpired(now)).toBeGreaterThanOrEqual(1);
    await t.store.sessions.touch('hash-live-' + u.id, new Date(now.getTime() + 120_000));
    expect((await t.store.sessions.getValid('hash-live-' + u.id, now))?.session.expiresAt.getTime()).toBe(now.getTime() + 120_000);
    await t.store.users.update(u.id, { disabled: true });
    expect(await t.store.sessions.getValid('hash-live-' + u.id, now)).toBeUndefined();
    expect(await t.store.sessions.deleteForUser(u.id)).toBe(1);
  });

  it('workspaces and memberships', async () => {
    const u = await t.store.users.create({ username: uniq('carol'), passwordHash: 'h' });
    const ws = await t.store.workspaces.create({ name: uniq('Trust A'), description: 'acute' });
    expect(await t.store.workspaces.getByName(ws.name)).toEqual(ws);
    await expect(t.store.workspaces.create({ name: ws.name })).rejects.toMatchObject({ code: 'store.conflict' });
    expect(await t.store.memberships.set(u.id, ws.id, 'viewer')).toEqual({ userId: u.id, workspaceId: ws.id, role: 'viewer', phiReader: false });
    expect((await t.store.memberships.set(u.id, ws.id, 'analyst')).role).toBe('analyst');
    expect(await t.store.memberships.listForWorkspace(ws.id)).toEqual([{ userId: u.id, workspaceId: ws.id, role: 'analyst', phiReader: false }]);
    expect(await t.store.memberships.get(u.id, ws.id)).toMatchObject({ role: 'analyst' });
    expect((await t.store.workspaces.listForUser(u.id)).map((w) => [w.id, w.role])).toEqual([[ws.id, 'analyst']]);
    // the check constraint guards the role even past the type system
    await expect(
      t.store.db.execute(sql`INSERT INTO memberships (user_id, workspace_id, role) VALUES (${u.id}, ${ws.id}, 'owner') ON CONFLICT DO NOTHING`),
    ).rejects.toThrow();
    expect(await t.store.memberships.remove(u.id, ws.id)).toBe(true);
    expect(await t.store.memberships.listForUser(u.id)).toEqual([]);
    await expect(t.store.memberships.set(u.id, randomUUID(), 'admin')).rejects.toMatchObject({ code: 'store.invalid' });
    expect((await t.store.workspaces.update(ws.id, { description: 'acute + community' })).description).toBe('acute + community');
  });

  it('projects: unique name per workspace, update, cascade delete', async () => {
    const ws = await t.store.workspaces.create({ name: uniq('Trust B') });
    const ws2 = await t.store.workspaces.create({ name: uniq('Trust C') });
    const p = await t.store.projects.create({ workspaceId: ws.id, name: 'ADT feed' });
    expect(p).toMatchObject({ name: 'ADT feed', currentVersion: 0, description: '' });
    await expect(t.store.projects.create({ workspaceId: ws.id, name: 'ADT feed' })).rejects.toMatchObject({ code: 'store.conflict' });
    await t.store.projects.create({ workspaceId: ws2.id, name: 'ADT feed' });
    expect((await t.store.projects.list(ws.id)).map((x) => x.id)).toEqual([p.id]);
    expect(await t.store.projects.getByName(ws.id, 'ADT feed')).toMatchObject({ id: p.id });
    const up = await t.store.projects.update(p.id, { description: 'inbound ADT' });
    expect(up.description).toBe('inbound ADT');
    expect(up.updatedAt.getTime()).toBeGreaterThanOrEqual(p.updatedAt.getTime());
    expect(await t.store.workspaces.projectCount(ws.id)).toBe(1);
    expect(await t.store.workspaces.delete(ws.id)).toBe(true);
    expect(await t.store.projects.get(p.id)).toBeUndefined();
  });

  it('config versions are sequential under concurrency and immutable', async () => {
    const author = await t.store.users.create({ username: uniq('dave'), passwordHash: 'h' });
    const ws = await t.store.workspaces.create({ name: uniq('Trust D') });
    const p = await t.store.projects.create({ workspaceId: ws.id, name: 'Lab results' });
    const saved = await Promise.all(
      Array.from({ length: 12 }, (_, i) => t.store.configVersions.create(p.id, { items: [{ name: `item-${i}` }] }, author.id, `save ${i}`)),
    );
    expect(saved.map((v) => v.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await t.store.projects.get(p.id))?.currentVersion).toBe(12);
    const list = await t.store.configVersions.list(p.id);
    expect(list.map((v) => v.version)).toEqual(Array.from({ length: 12 }, (_, i) => 12 - i));
    expect(list[0]).not.toHaveProperty('spec');
    const v3 = saved.find((v) => v.version === 3)!;
    expect(await t.store.configVersions.get(p.id, 3)).toEqual(v3);
    expect((await t.store.configVersions.latest(p.id))?.version).toBe(12);
    await expect(
      t.store.db.execute(sql`UPDATE config_versions SET spec = '{}'::jsonb WHERE project_id = ${p.id} AND version = 3`),
    ).rejects.toSatisfy((e: unknown) => e instanceof Error);
    const err = await t.store.db
      .execute(sql`UPDATE config_versions SET comment = 'x' WHERE id = ${v3.id}`)
      .then(() => undefined, (e: unknown) => toStoreError(e));
    expect(err).toMatchObject({ code: 'store.immutable', kind: 'user' });
    expect((await t.store.configVersions.get(p.id, 3))?.spec).toEqual(v3.spec);
    await expect(t.store.configVersions.create(randomUUID(), {}, null)).rejects.toMatchObject({ code: 'store.not_found' });

    // deployments
    const d = await t.store.deployments.upsert(p.id, { version: 3, desiredState: 'running', updatedBy: author.id });
    expect(d).toMatchObject({ projectId: p.id, version: 3, desiredState: 'running', updatedBy: author.id });
    const d2 = await t.store.deployments.upsert(p.id, { version: 12, desiredState: 'stopped' });
    expect(d2).toMatchObject({ version: 12, desiredState: 'stopped', updatedBy: null });
    expect(await t.store.deployments.get(p.id)).toEqual(d2);
    expect((await t.store.deployments.list()).map((x) => x.projectId)).toContain(p.id);
    await expect(t.store.deployments.upsert(p.id, { version: 99, desiredState: 'running' })).rejects.toMatchObject({ code: 'store.not_found' });
    // deleting the project removes its deployment and keeps its versions (soft delete)
    expect(await t.store.projects.delete(p.id)).toBe(true);
    expect(await t.store.configVersions.list(p.id)).toHaveLength(12);
    expect(await t.store.deployments.get(p.id)).toBeUndefined();
  });

  it('projects: delete is soft — hidden everywhere, history kept, name reusable', async () => {
    const ws = await t.store.workspaces.create({ name: uniq('Trust S') });
    const p = await t.store.projects.create({ workspaceId: ws.id, name: 'Radiology' });
    await t.store.configVersions.create(p.id, { name: 'rad', items: [] }, null, 'created');
    await t.store.deployments.upsert(p.id, { version: 1, desiredState: 'stopped' });
    expect(await t.store.projects.delete(p.id)).toBe(true);
    expect(await t.store.projects.delete(p.id)).toBe(false);
    expect(await t.store.projects.get(p.id)).toBeUndefined();
    expect(await t.store.projects.getByName(ws.id, 'Radiology')).toBeUndefined();
    expect(await t.store.projects.list(ws.id)).toEqual([]);
    await expect(t.store.projects.update(p.id, { description: 'x' })).rejects.toMatchObject({ code: 'store.not_found' });
    await expect(t.store.configVersions.create(p.id, {}, null)).rejects.toMatchObject({ code: 'store.not_found' });
    await expect(t.store.deployments.upsert(p.id, { version: 1, desiredState: 'running' })).rejects.toMatchObject({ code: 'store.not_found' });
    expect(await t.store.deployments.get(p.id)).toBeUndefined();
    // the row and its history are still there
    expect((await t.store.configVersions.get(p.id, 1))?.spec).toEqual({ name: 'rad', items: [] });
    const [raw] = await queryRows<{ deleted_at: unknown }>(t.store.db, sql`SELECT deleted_at FROM projects WHERE id = ${p.id}`);
    expect(raw.deleted_at).not.toBeNull();
    // the name is free again
    const again = await t.store.projects.create({ workspaceId: ws.id, name: 'Radiology' });
    expect(again.id).not.toBe(p.id);
    expect((await t.store.projects.list(ws.id)).map((x) => x.id)).toEqual([again.id]);
  });

  it('audit: append and query with filters and a cursor', async () => {
    const ws = uniq('ws');
    const entries = [];
    for (let i = 0; i < 9; i++) {
      entries.push(
        await t.store.audit.append({
          actorId: i % 2 === 0 ? 'u1' : 'u2',
          actorName: i % 2 === 0 ? 'alice' : 'bob',
          action: i % 3 === 0 ? 'project.create' : 'config.save',
          entityType: 'project',
          entityId: `p${i % 3}`,
          workspaceId: ws,
          before: i === 0 ? null : { v: i - 1 },
          after: { v: i },
          sourceAddress: '127.0.0.1',
        }),
      );
    }
    expect(entries[1]).toMatchObject({ before: { v: 0 }, after: { v: 1 }, actorName: 'bob' });
    expect(entries[0].before).toBeNull();
    const newestFirst = [...entries].reverse().map((e) => e.id);
    const page1 = await t.store.audit.query({ workspaceId: ws, limit: 4 });
    const page2 = await t.store.audit.query({ workspaceId: ws, limit: 4 }, page1.nextCursor);
    const page3 = await t.store.audit.query({ workspaceId: ws, limit: 4 }, page2.nextCursor);
    expect([...page1.items, ...page2.items, ...page3.items].map((e) => e.id)).toEqual(newestFirst);
    expect(page3.nextCursor).toBeUndefined();
    expect((await t.store.audit.query({ workspaceId: ws, actorId: 'u2' })).items).toHaveLength(4);
    expect((await t.store.audit.query({ workspaceId: ws, action: 'project.create' })).items).toHaveLength(3);
    expect((await t.store.audit.query({ workspaceId: ws, entityType: 'project', entityId: 'p1' })).items).toHaveLength(3);
    expect((await t.store.audit.query({ workspaceId: ws, from: new Date(Date.now() + 60_000) })).items).toHaveLength(0);
    await expect(t.store.audit.query({}, 'garbage')).rejects.toMatchObject({ code: 'store.invalid' });
  });
});
