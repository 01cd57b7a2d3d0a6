/**
 * API tokens through the real HTTP API: `Authorization: Bearer hie_…` acts for its user within
 * its scope (workspace, role no higher than the user's, optional project); expired, revoked and
 * wrong-scope tokens are refused; only the hash is stored; every change is audited.
 */
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionToken } from './auth/session.js';
import type { AppRouter } from './router.js';
import { errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let workspaceId: string;
let otherWorkspaceId: string;
let projectId: string;
let otherProjectId: string;

function bearer(token: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${h.baseUrl}/api/trpc`, headers: () => ({ authorization: `Bearer ${token}` }) })] });
}

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, workspaceId } = await h.team('Tokens'));
  otherWorkspaceId = (await admin.api.workspaces.create.mutate({ name: 'Other' })).id;
  await admin.api.workspaces.setMember.mutate({ workspaceId: otherWorkspaceId, username: 'alice', role: 'analyst' });
  projectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'one', spec: sampleSpec('one') })).id;
  otherProjectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'two', spec: sampleSpec('two') })).id;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('API tokens', () => {
  it('acts for the user within its workspace, shown once, stored hashed', async () => {
    const created = await analyst.api.tokens.create.mutate({ name: 'ci', workspaceId, role: 'analyst' });
    expect(created.token).toMatch(/^hie_[A-Za-z0-9_-]{43}$/);
    const api = bearer(created.token);
    expect(await api.tokens.current.query()).toMatchObject({ workspaceId, role: 'analyst', projectId: null, username: 'alice' });
    expect((await api.projects.list.query({ workspaceId })).map((p) => p.name).sort()).toEqual(['one', 'two']);
    const got = await api.projects.get.query({ id: projectId });
    await api.projects.save.mutate({ id: projectId, spec: got.version.spec, baseVersion: got.version.version, comment: 'from CI' });
    // Only the hash is stored, and the list never shows the token.
    const row = (await h.store.apiTokens.listForUser((await h.store.users.getByUsername('alice'))!.id))[0]!;
    expect(row.tokenHash).toBe(hashSessionToken(created.token));
    expect(JSON.stringify(await analyst.api.tokens.list.query())).not.toContain(created.token);
    expect((await analyst.api.tokens.list.query())[0]).toMatchObject({ name: 'ci', state: 'active' });
  });

  it('is refused outside its workspace (FORBIDDEN) and cannot manage users, workspaces or tokens', async () => {
    const { token } = await analyst.api.tokens.create.mutate({ name: 'ws', workspaceId, role: 'analyst' });
    const api = bearer(token);
    expect(await errorCode(api.projects.list.query({ workspaceId: otherWorkspaceId }))).toBe('FORBIDDEN');
    expect(await errorCode(api.tokens.create.mutate({ name: 'more', workspaceId, role: 'viewer' }))).toBe('FORBIDDEN');
    expect(await errorCode(api.workspaces.create.mutate({ name: 'Mine' }))).toBe('FORBIDDEN');
    expect((await api.workspaces.list.query()).map((w) => w.id)).toEqual([workspaceId]);
    // A global admin's token is no global admin.
    const adminToken = (await admin.api.tokens.create.mutate({ name: 'admin-ci', workspaceId, role: 'admin' })).token;
    expect(await errorCode(bearer(adminToken).users.list.query())).toBe('FORBIDDEN');
    expect(await errorCode(bearer(adminToken).projects.list.query({ workspaceId: otherWorkspaceId }))).toBe('FORBIDDEN');
  });

  it('holds to its role and project', async () => {
    const ro = bearer((await analyst.api.tokens.create.mutate({ name: 'ro', workspaceId, role: 'viewer' })).token);
    expect(await ro.projects.get.query({ id: projectId })).toBeTruthy();
    expect(await errorCode(ro.production.deploy.mutate({ projectId }))).toBe('FORBIDDEN');
    const one = bearer((await analyst.api.tokens.create.mutate({ name: 'one', workspaceId, role: 'analyst', projectId })).token);
    expect(await one.projects.get.query({ id: projectId })).toBeTruthy();
    expect(await errorCode(one.projects.get.query({ id: otherProjectId }))).toBe('FORBIDDEN');
    expect(await errorCode(one.projects.create.mutate({ workspaceId, name: 'three' }))).toBe('FORBIDDEN');
  });

  it('cannot exceed its user role, at creation or later', async () => {
    expect(await errorCode(viewer.api.tokens.create.mutate({ name: 'up', workspaceId, role: 'analyst' }))).toBe('FORBIDDEN');
    expect(await errorCode(analyst.api.tokens.create.mutate({ name: 'up', workspaceId, role: 'admin' }))).toBe('FORBIDDEN');
    const t = bearer((await analyst.api.tokens.create.mutate({ name: 'later', workspaceId, role: 'analyst' })).token);
    const got = await t.projects.get.query({ id: projectId });
    // alice becomes a viewer: her token can no longer save.
    await admin.api.workspaces.setMember.mutate({ workspaceId, username: 'alice', role: 'viewer' });
    h.manager.services.caches.roles.clear();
    expect(await errorCode(t.projects.save.mutate({ id: projectId, spec: got.version.spec, baseVersion: got.version.version }))).toBe('FORBIDDEN');
    await admin.api.workspaces.setMember.mutate({ workspaceId, username: 'alice', role: 'analyst' });
    h.manager.services.caches.roles.clear();
  });

  it('is refused once revoked or expired (UNAUTHORIZED), and an unknown one too', async () => {
    const created = await analyst.api.tokens.create.mutate({ name: 'gone', workspaceId, role: 'viewer' });
    const api = bearer(created.token);
    expect(await api.projects.list.query({ workspaceId })).toHaveLength(2);
    expect((await analyst.api.tokens.revoke.mutate({ id: created.id })).state).toBe('revoked');
    expect(await errorCode(api.projects.list.query({ workspaceId }))).toBe('UNAUTHORIZED');

    const old = await analyst.api.tokens.create.mutate({ name: 'old', workspaceId, role: 'viewer', expiresInDays: 1 });
    await h.store.db.execute(`update api_tokens set expires_at = now() - interval '1 second' where id = '${old.id}'`);
    expect(await errorCode(bearer(old.token).projects.list.query({ workspaceId }))).toBe('UNAUTHORIZED');
    expect(await errorCode(bearer(`hie_${'x'.repeat(43)}`).projects.list.query({ workspaceId }))).toBe('UNAUTHORIZED');
    // Someone else's token cannot be revoked by id.
    expect(await errorCode(viewer.api.tokens.revoke.mutate({ id: old.id }))).toBe('NOT_FOUND');
  });

  it('audits creation and revocation, never the token', async () => {
    const log = await admin.api.audit.list.query({ workspaceId, limit: 200 });
    const actions = log.items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['token.create', 'token.revoke']));
    expect(JSON.stringify(log)).not.toMatch(/hie_[A-Za-z0-9_-]{43}/);
  });
});
