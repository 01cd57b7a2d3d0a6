/**
 * Sessions over real HTTP: the absolute lifetime, password changes ending other sessions, and
 * live (SSE) streams ending when their session or role does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from '../testing/harness.js';
import { hashSessionToken } from './session.js';

let h: Harness;
let admin: ApiClient;
let workspaceId: string;
let projectId: string;
beforeAll(async () => {
  h = await startHarness();
  admin = await h.login('admin', ADMIN_PASSWORD);
  workspaceId = (await admin.api.workspaces.create.mutate({ name: 'Sessions' })).id;
  projectId = (await admin.api.projects.create.mutate({ workspaceId, name: 'live', spec: sampleSpec('live') })).id;
});
afterAll(async () => {
  await h?.close();
});

const HOUR = 3_600_000;

/** `auth.me` with a raw session token; answers the status, the renewed cookie's Max-Age if any. */
async function me(token: string): Promise<{ status: number; maxAge?: number }> {
  const res = await fetch(`${h.baseUrl}/api/trpc/auth.me`, { headers: { cookie: `hie_session=${token}` } });
  const cookie = res.headers.getSetCookie()[0];
  const maxAge = cookie ? /Max-Age=(\d+)/.exec(cookie)?.[1] : undefined;
  return { status: res.status, ...(maxAge ? { maxAge: Number(maxAge) } : {}) };
}

describe('session lifetime', () => {
  it('a session ends at its absolute lifetime (default 7 days) however active, and never slides past it', async () => {
    const now = Date.now();
    const old = 'o'.repeat(43);
    await h.store.sessions.create({ id: hashSessionToken(old), userId: h.admin.id, createdAt: new Date(now - 8 * 24 * HOUR), expiresAt: new Date(now + HOUR) });
    expect((await me(old)).status).toBe(401);

    // Signed in 167 h ago, still active: it slides, but only to the 168 h mark, not 12 h on.
    const nearly = 'n'.repeat(43);
    const createdAt = new Date(now - 167 * HOUR);
    await h.store.sessions.create({ id: hashSessionToken(nearly), userId: h.admin.id, createdAt, expiresAt: new Date(now + 10 * 60_000) });
    const r = await me(nearly);
    expect(r.status).toBe(200);
    expect(r.maxAge).toBeGreaterThan(0);
    expect(r.maxAge).toBeLessThanOrEqual(3600);
    const stored = await h.store.sessions.getValid(hashSessionToken(nearly));
    expect(stored!.session.expiresAt.getTime()).toBe(createdAt.getTime() + 168 * HOUR);
  });
});

describe('password changes', () => {
  it('any user changes their own password: other sessions end, this one stays; audited without the password', async () => {
    await h.user('paula', { password: 'paula-password' });
    const here = await h.login('paula', 'paula-password');
    const there = await h.login('paula', 'paula-password');
    expect(await errorCode(here.api.auth.changePassword.mutate({ current: 'wrong-password', next: 'paula-new-password' }))).toBe('BAD_REQUEST');
    expect(await errorCode(here.api.auth.changePassword.mutate({ current: 'paula-password', next: 'too-short' }))).toBe('BAD_REQUEST');

    expect(await here.api.auth.changePassword.mutate({ current: 'paula-password', next: 'paula-new-password' })).toEqual({ ok: true, sessionsEnded: 1 });
    expect((await here.api.auth.me.query()).user.username).toBe('paula');
    expect(await errorCode(there.api.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await errorCode(h.anonymous().api.auth.login.mutate({ username: 'paula', password: 'paula-password' }))).toBe('UNAUTHORIZED');
    await expect(h.login('paula', 'paula-new-password')).resolves.toBeDefined();

    const { items } = await h.store.audit.query({ action: 'user.password_change' });
    expect(items.map((i) => i.actorName)).toContain('paula');
    expect(JSON.stringify(items)).not.toMatch(/paula-(new-)?password/);
  });

  it('an admin setting a password: that user\'s sessions all end; setting their own ends only their other sessions', async () => {
    const rita = await h.user('rita', { password: 'rita-password' });
    const ritaClient = await h.login('rita', 'rita-password');
    await admin.api.users.update.mutate({ id: rita.id, password: 'rita-new-password' });
    expect(await errorCode(ritaClient.api.auth.me.query())).toBe('UNAUTHORIZED');

    const root = await h.user('root2', { password: 'root2-password', isAdmin: true });
    const here = await h.login('root2', 'root2-password');
    const there = await h.login('root2', 'root2-password');
    await here.api.users.update.mutate({ id: root.id, password: 'root2-new-password' });
    expect((await here.api.auth.me.query()).user.username).toBe('root2');
    expect(await errorCode(there.api.auth.me.query())).toBe('UNAUTHORIZED');
  });
});

/** A raw SSE request to `production.live`, as a browser's EventSource makes it. */
async function openLive(client: ApiClient) {
  const input = encodeURIComponent(JSON.stringify({ projectId, intervalMs: 200 }));
  const abort = new AbortController();
  const res = await fetch(`${h.baseUrl}/api/trpc/production.live?input=${input}`, {
    headers: { accept: 'text/event-stream', cookie: client.jar.header() },
    signal: abort.signal,
  });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    /** Reads until `pattern` shows in the stream; false if the stream ended first. */
    async waitFor(pattern: RegExp): Promise<boolean> {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += decoder.decode(value, { stream: true });
      }
      return true;
    },
    /** Reads until the server ends the stream; everything it sent. */
    async untilEnd(): Promise<string> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    },
    close: () => abort.abort(),
  };
}

/** Opens a live stream as `client`, waits for its first sample, runs `act`; answers all the stream sent until the server ended it. */
async function streamEndsAfter(client: ApiClient, act: () => Promise<unknown>): Promise<string> {
  const live = await openLive(client);
  try {
    expect(await live.waitFor(/^data: \{"at"/m)).toBe(true);
    await act();
    const rest = await live.untilEnd();
    expect(rest).toMatch(/^event: serialized-error$/m);
    return rest;
  } finally {
    live.close();
  }
}

describe('live streams (SSE)', () => {
  it('end at logout, telling the client why (UNAUTHORIZED)', { timeout: 15_000 }, async () => {
    await h.user('lena', { workspaceId, role: 'viewer', password: 'lena-password' });
    const lena = await h.login('lena', 'lena-password');
    expect(await streamEndsAfter(lena, () => lena.api.auth.logout.mutate())).toContain('"code":"UNAUTHORIZED"');
  });

  it('end when the caller\'s role in the workspace is removed (FORBIDDEN)', { timeout: 15_000 }, async () => {
    const walt = await h.user('walt', { workspaceId, role: 'viewer', password: 'walt-password' });
    const client = await h.login('walt', 'walt-password');
    const removed = () => admin.api.workspaces.removeMember.mutate({ workspaceId, userId: walt.id });
    expect(await streamEndsAfter(client, removed)).toContain('"code":"FORBIDDEN"');
  });

  it('end when another session changes the password', { timeout: 15_000 }, async () => {
    await h.user('gwen', { workspaceId, role: 'viewer', password: 'gwen-password' });
    const streaming = await h.login('gwen', 'gwen-password');
    const other = await h.login('gwen', 'gwen-password');
    const changed = () => other.api.auth.changePassword.mutate({ current: 'gwen-password', next: 'gwen-new-password' });
    expect(await streamEndsAfter(streaming, changed)).toContain('"code":"UNAUTHORIZED"');
  });
});
