import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFirstAdmin } from './auth/first-admin.js';
import { LoginRateLimiter } from './auth/rate-limit.js';
import { hashSessionToken } from './auth/session.js';
import { ADMIN_PASSWORD, errorCode, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ limiter: new LoginRateLimiter() });
});
afterAll(async () => {
  await h?.close();
});

describe('auth over HTTP', () => {
  it('refuses every procedure but login and health without a session (UNAUTHORIZED)', async () => {
    const { api } = h.anonymous();
    expect(await api.health.query()).toEqual({ ok: true });
    expect(await errorCode(api.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await errorCode(api.workspaces.list.query())).toBe('UNAUTHORIZED');
    expect(await errorCode(api.projects.create.mutate({ workspaceId: 'x', name: 'p' }))).toBe('UNAUTHORIZED');
  });

  it('logs in with an httpOnly SameSite=Lax cookie whose token is stored only as a hash', async () => {
    const jarFetchRes: string[] = [];
    const res = await fetch(`${h.baseUrl}/api/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(res.status).toBe(200);
    jarFetchRes.push(...res.headers.getSetCookie());
    expect(jarFetchRes).toHaveLength(1);
    const cookie = jarFetchRes[0];
    expect(cookie).toMatch(/^hie_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    const token = cookie.slice('hie_session='.length, cookie.indexOf(';'));
    expect(await h.store.sessions.getValid(token)).toBeUndefined();
    expect(await h.store.sessions.getValid(hashSessionToken(token))).toBeDefined();
    const body = await res.text();
    expect(body).not.toContain(token);
    expect(body).not.toContain('passwordHash');
  });

  it('me and logout', async () => {
    const { api, jar } = await h.login('admin', ADMIN_PASSWORD);
    const me = await api.auth.me.query();
    expect(me.user).toMatchObject({ username: 'admin', isAdmin: true });
    expect(me.memberships).toEqual([]);
    const token = jar.get('hie_session')!;
    await api.auth.logout.mutate();
    expect(jar.get('hie_session')).toBeUndefined();
    expect(await h.store.sessions.getValid(hashSessionToken(token))).toBeUndefined();
    // The old token no longer works even if replayed.
    jar.set('hie_session', token);
    expect(await errorCode(api.auth.me.query())).toBe('UNAUTHORIZED');
  });

  it('sessions slide forward when half their life is gone, and expire', async () => {
    const { api, jar } = h.anonymous();
    const token = 'x'.repeat(43);
    await h.store.sessions.create({ id: hashSessionToken(token), userId: h.admin.id, expiresAt: new Date(Date.now() + 3_600_000) });
    const res = await fetch(`${h.baseUrl}/api/trpc/auth.me`, { headers: { cookie: `hie_session=${token}` } });
    expect(res.status).toBe(200);
    // The cookie is renewed with the full lifetime, and so is the stored session.
    expect(res.headers.getSetCookie()).toEqual([`hie_session=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200`]);
    const after = await h.store.sessions.getValid(hashSessionToken(token));
    expect(after!.session.expiresAt.getTime()).toBeGreaterThan(Date.now() + 11 * 3_600_000);

    const stale = 'y'.repeat(43);
    await h.store.sessions.create({ id: hashSessionToken(stale), userId: h.admin.id, expiresAt: new Date(Date.now() - 1000) });
    jar.set('hie_session', stale);
    expect(await errorCode(api.auth.me.query())).toBe('UNAUTHORIZED');
  });

  it('wrong password → UNAUTHORIZED, audited as a failed login without the password', async () => {
    const { api } = h.anonymous();
    expect(await errorCode(api.auth.login.mutate({ username: 'admin', password: 'nope-nope' }))).toBe('UNAUTHORIZED');
    expect(await errorCode(api.auth.login.mutate({ username: 'ghost', password: 'nope-nope' }))).toBe('UNAUTHORIZED');
    const { items } = await h.store.audit.query({ action: 'auth.login_failed' });
    expect(items.map((i) => i.actorName)).toEqual(expect.arrayContaining(['admin', 'ghost']));
    expect(JSON.stringify(items)).not.toContain('nope-nope');
  });

  it('rate-limits logins: 5 failures per username and address → TOO_MANY_REQUESTS, even with the right password', async () => {
    await h.user('carol', { password: 'carol-password' });
    const { api } = h.anonymous();
    for (let i = 0; i < 5; i++) {
      expect(await errorCode(api.auth.login.mutate({ username: 'carol', password: `wrong-${i}` }))).toBe('UNAUTHORIZED');
    }
    expect(await errorCode(api.auth.login.mutate({ username: 'carol', password: 'carol-password' }))).toBe('TOO_MANY_REQUESTS');
    // Other usernames from the same address are not affected.
    await h.user('dave', { password: 'dave-password' });
    await expect(h.login('dave', 'dave-password')).resolves.toBeDefined();
  });

  it('a disabled user loses their sessions and cannot log in', async () => {
    const erin = await h.user('erin', { password: 'erin-password' });
    const { api } = await h.login('erin', 'erin-password');
    expect((await api.auth.me.query()).user.username).toBe('erin');
    const admin = await h.login('admin', ADMIN_PASSWORD);
    await admin.api.users.update.mutate({ id: erin.id, disabled: true });
    expect(await errorCode(api.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await errorCode(h.anonymous().api.auth.login.mutate({ username: 'erin', password: 'erin-password' }))).toBe('UNAUTHORIZED');
  });
});

describe('users (global admin only)', () => {
  it('list, create, update; never a password hash; others FORBIDDEN', async () => {
    const admin = await h.login('admin', ADMIN_PASSWORD);
    const frank = await admin.api.users.create.mutate({ username: 'frank', password: 'frank-password', displayName: 'Frank' });
    expect(frank).toMatchObject({ username: 'frank', displayName: 'Frank', isAdmin: false, disabled: false });
    expect(await errorCode(admin.api.users.create.mutate({ username: 'frank', password: 'frank-password' }))).toBe('CONFLICT');
    const short = await errorCode(admin.api.users.create.mutate({ username: 'gina', password: 'short' }));
    expect(short).toBe('BAD_REQUEST');
    const list = await admin.api.users.list.query();
    expect(list.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', 'frank']));
    expect(JSON.stringify(list)).not.toMatch(/passwordHash|\$2[aby]\$/);

    const updated = await admin.api.users.update.mutate({ id: frank.id, displayName: 'Frank F', password: 'frank-password-2' });
    expect(updated.displayName).toBe('Frank F');
    const f = await h.login('frank', 'frank-password-2');
    expect(await errorCode(f.api.users.list.query())).toBe('FORBIDDEN');
    expect(await errorCode(f.api.users.create.mutate({ username: 'x1', password: 'password-x-long' }))).toBe('FORBIDDEN');
    expect(await errorCode(admin.api.users.update.mutate({ id: h.admin.id, isAdmin: false }))).toBe('BAD_REQUEST');

    const audit = await admin.api.audit.list.query({ entityType: 'user' });
    const actions = audit.items.map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['user.create', 'user.update']));
    expect(JSON.stringify(audit.items)).not.toContain('frank-password');
  });

  it('ensureFirstAdmin creates the admin once; a generated password is returned, not stored', async () => {
    const again = await ensureFirstAdmin(h.store, 'whatever-1');
    expect(again).toEqual({ created: false, username: 'admin' });
  });
});
