/**
 * Fast checks through `createCaller` (no HTTP, same procedures and middleware): the role matrix
 * and error mapping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from './trpc.js';
import { errorCode, sampleSpec, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
let wsA: string;
let wsB: string;
let users: Record<'admin' | 'analyst' | 'viewer' | 'outsider', SessionUser>;
let projectId: string;

beforeAll(async () => {
  h = await startHarness();
  const root = h.caller(h.admin);
  wsA = (await root.workspaces.create({ name: 'A' })).id;
  wsB = (await root.workspaces.create({ name: 'B' })).id;
  users = {
    admin: await h.user('wsadmin', { workspaceId: wsA, role: 'admin' }),
    analyst: await h.user('analyst', { workspaceId: wsA, role: 'analyst' }),
    viewer: await h.user('viewer', { workspaceId: wsA, role: 'viewer' }),
    outsider: await h.user('outsider', { workspaceId: wsB, role: 'admin' }),
  };
  projectId = (await root.projects.create({ workspaceId: wsA, name: 'p', spec: sampleSpec('p') })).id;
});
afterAll(async () => {
  await h?.close();
});

describe('createCaller', () => {
  it('no user → UNAUTHORIZED; health is public', async () => {
    const anon = h.caller(null);
    expect(await anon.health()).toEqual({ ok: true });
    expect(await errorCode(anon.projects.list({ workspaceId: wsA }))).toBe('UNAUTHORIZED');
  });

  it('role matrix: who may read, edit, deploy, delete, manage members', async () => {
    const as = (u: keyof typeof users) => h.caller(users[u]);
    const read = (u: keyof typeof users) => as(u).projects.get({ id: projectId });
    const edit = (u: keyof typeof users) => as(u).projects.update({ id: projectId, description: `by ${u}` });
    const deploy = (u: keyof typeof users) => as(u).production.deploy({ projectId });
    const members = (u: keyof typeof users) => as(u).workspaces.setMember({ workspaceId: wsA, username: 'viewer', role: 'viewer' });

    for (const u of ['admin', 'analyst', 'viewer'] as const) await expect(read(u)).resolves.toBeDefined();
    expect(await errorCode(read('outsider'))).toBe('NOT_FOUND');

    await expect(edit('analyst')).resolves.toBeDefined();
    await expect(edit('admin')).resolves.toBeDefined();
    expect(await errorCode(edit('viewer'))).toBe('FORBIDDEN');
    expect(await errorCode(edit('outsider'))).toBe('NOT_FOUND');

    await expect(deploy('analyst')).resolves.toEqual({ version: 1, state: 'running' });
    expect(await errorCode(deploy('viewer'))).toBe('FORBIDDEN');

    await expect(members('admin')).resolves.toBeDefined();
    expect(await errorCode(members('analyst'))).toBe('FORBIDDEN');
    expect(await errorCode(members('outsider'))).toBe('NOT_FOUND');

    // Lists only show the caller's workspaces.
    expect((await as('outsider').workspaces.list()).map((w) => w.name)).toEqual(['B']);
    expect((await as('viewer').workspaces.list()).map((w) => [w.name, w.role])).toEqual([['A', 'viewer']]);
    expect((await h.caller(h.admin).workspaces.list()).map((w) => w.name)).toEqual(['A', 'B']);

    // A running project's workspace cannot be deleted.
    expect(await errorCode(as('admin').workspaces.delete({ id: wsA }))).toBe('CONFLICT');
    await as('analyst').production.stop({ projectId });
  });

  it('bad ids answer NOT_FOUND, bad input BAD_REQUEST', async () => {
    const c = h.caller(users.analyst);
    expect(await errorCode(c.projects.get({ id: 'no-such-id' }))).toBe('NOT_FOUND');
    expect(await errorCode(c.versions.diff({ projectId, from: 0, to: 1 }))).toBe('BAD_REQUEST');
    expect(await errorCode(h.caller(h.admin).workspaces.members({ workspaceId: 'nope' }))).toBe('NOT_FOUND');
  });

  it('tests fhir.router rules on a typed sample with the engine\'s code', async () => {
    const c = h.caller(users.viewer);
    const settings = {
      mode: 'all_match',
      rules: [
        { name: 'female', when: { and: [{ path: 'Patient.gender', op: '=', value: 'female' }, { path: 'Patient.active', op: 'true' }] }, then: { action: 'send', to: ['A'] }, stop: true },
        { name: 'all', then: { action: 'discard' } },
      ],
    };
    const r = await c.production.testFhirRules({ projectId, sample: JSON.stringify({ resourceType: 'Patient', gender: 'female', active: true }), settings });
    expect(r).toMatchObject({ conditions: [{ matched: true, parts: [{ actual: 'female' }, { matched: true }] }, { matched: true }], outcome: { matched: [{ name: 'female' }] } });
    expect(await c.production.testFhirRules({ projectId, sample: 'not json', settings })).toHaveProperty('error');
    expect(await errorCode(h.caller(users.outsider).production.testFhirRules({ projectId, sample: '{}', settings }))).toBe('NOT_FOUND');
  });
});
