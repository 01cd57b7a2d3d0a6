import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, errorCode, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
beforeAll(async () => {
  h = await startHarness();
  admin = await h.login('admin', ADMIN_PASSWORD);
});
afterAll(async () => {
  await h?.close();
});

describe('workspaces and members over HTTP', () => {
  it('create, list (only the caller’s), update, members, delete', async () => {
    await h.user('wendy', { password: 'wendy-password' });
    const wendy = await h.login('wendy', 'wendy-password');
    // Self-service is off by default: only a global admin creates workspaces.
    expect(await errorCode(wendy.api.workspaces.create.mutate({ name: 'Cardiology' }))).toBe('FORBIDDEN');
    expect((await admin.api.audit.list.query({ action: 'access.denied' })).items[0]).toMatchObject({ actorName: 'wendy', entityName: 'Cardiology' });
    // HIE_SELF_SERVICE_WORKSPACES=1 lets any signed-in user create one (and be its admin).
    h.manager.services.selfServiceWorkspaces = true;
    const ws = await wendy.api.workspaces.create.mutate({ name: 'Cardiology', description: 'Heart' });
    h.manager.services.selfServiceWorkspaces = false;
    expect(ws).toMatchObject({ name: 'Cardiology', description: 'Heart', role: 'admin' });
    expect(await errorCode(admin.api.workspaces.create.mutate({ name: 'Cardiology' }))).toBe('CONFLICT');

    const other = await admin.api.workspaces.create.mutate({ name: 'Radiology' });
    // Wendy sees only hers; the global admin sees all.
    expect((await wendy.api.workspaces.list.query()).map((w) => w.name)).toEqual(['Cardiology']);
    expect((await admin.api.workspaces.list.query()).map((w) => w.name)).toEqual(['Cardiology', 'Radiology']);

    const renamed = await wendy.api.workspaces.update.mutate({ id: ws.id, name: 'Cardiology Dept' });
    expect(renamed.name).toBe('Cardiology Dept');

    await h.user('victor', { password: 'victor-password' });
    const m = await wendy.api.workspaces.setMember.mutate({ workspaceId: ws.id, username: 'victor', role: 'viewer' });
    expect(m).toMatchObject({ username: 'victor', role: 'viewer' });
    expect(await errorCode(wendy.api.workspaces.setMember.mutate({ workspaceId: ws.id, username: 'nobody', role: 'viewer' }))).toBe('NOT_FOUND');
    const members = await wendy.api.workspaces.members.query({ workspaceId: ws.id });
    expect(members.map((x) => [x.username, x.role])).toEqual([
      ['victor', 'viewer'],
      ['wendy', 'admin'],
    ]);

    // The last admin cannot be demoted or removed.
    const wendyId = members.find((x) => x.username === 'wendy')!.userId;
    expect(await errorCode(wendy.api.workspaces.setMember.mutate({ workspaceId: ws.id, username: 'wendy', role: 'viewer' }))).toBe('CONFLICT');
    expect(await errorCode(wendy.api.workspaces.removeMember.mutate({ workspaceId: ws.id, userId: wendyId }))).toBe('CONFLICT');

    // A viewer cannot edit (FORBIDDEN); an outsider cannot see it at all (NOT_FOUND).
    const victor = await h.login('victor', 'victor-password');
    expect((await victor.api.workspaces.list.query()).map((w) => w.name)).toEqual(['Cardiology Dept']);
    expect(await errorCode(victor.api.workspaces.update.mutate({ id: ws.id, name: 'Mine' }))).toBe('FORBIDDEN');
    expect(await errorCode(victor.api.workspaces.setMember.mutate({ workspaceId: ws.id, username: 'victor', role: 'admin' }))).toBe('FORBIDDEN');
    expect(await errorCode(victor.api.workspaces.members.query({ workspaceId: other.id }))).toBe('NOT_FOUND');
    expect(await errorCode(wendy.api.workspaces.update.mutate({ id: other.id, name: 'x' }))).toBe('NOT_FOUND');
    expect(await errorCode(wendy.api.workspaces.delete.mutate({ id: other.id }))).toBe('NOT_FOUND');

    await wendy.api.workspaces.removeMember.mutate({ workspaceId: ws.id, userId: m.userId });
    expect(await victor.api.workspaces.list.query()).toEqual([]);
    expect(await errorCode(victor.api.projects.list.query({ workspaceId: ws.id }))).toBe('NOT_FOUND');

    await wendy.api.workspaces.delete.mutate({ id: ws.id });
    expect(await wendy.api.workspaces.list.query()).toEqual([]);

    const audit = await admin.api.audit.list.query({ entityType: 'workspace' });
    expect(audit.items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['workspace.create', 'workspace.update', 'workspace.delete']),
    );
    const created = audit.items.find((a) => a.action === 'workspace.create' && a.entityId === ws.id)!;
    expect(created).toMatchObject({ actorName: 'wendy', sourceAddress: expect.stringMatching(/127\.0\.0\.1/) });
    const membership = await admin.api.audit.list.query({ entityType: 'membership' });
    expect(membership.items.map((a) => a.action)).toEqual(expect.arrayContaining(['workspace.member.set', 'workspace.member.remove']));
  });

  it('audit.list: a workspace admin sees their workspace; others FORBIDDEN or NOT_FOUND', async () => {
    const ws = await admin.api.workspaces.create.mutate({ name: 'Audit WS' });
    await h.user('ann', { password: 'ann-password', workspaceId: ws.id, role: 'analyst' });
    const ann = await h.login('ann', 'ann-password');
    expect(await errorCode(ann.api.audit.list.query({}))).toBe('FORBIDDEN');
    expect(await errorCode(ann.api.audit.list.query({ workspaceId: ws.id }))).toBe('FORBIDDEN');
    const page = await admin.api.audit.list.query({ workspaceId: ws.id, limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0].workspaceId).toBe(ws.id);
    const byActor = await admin.api.audit.list.query({ actor: 'admin', action: 'workspace.create' });
    expect(byActor.items.every((a) => a.actorName === 'admin')).toBe(true);
    expect(await admin.api.audit.list.query({ actor: 'no-such-user' })).toEqual({ items: [] });
  });
});
