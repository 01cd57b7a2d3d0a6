/**
 * Sign-in limits over real HTTP: batches, concurrent guesses, per-address limits. Each test talks
 * from its own loopback address (127.0.0.x: the socket's address, as the manager sees it without
 * a proxy), so the per-address counts of one test never touch another's.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../testing/harness.js';
import { LoginRateLimiter } from './rate-limit.js';

let h: Harness;
beforeAll(async () => {
  // 10 failures per address instead of 50: the same rule, fewer bcrypt hashes on a shared machine.
  h = await startHarness({ limiter: new LoginRateLimiter({ maxFailuresPerAddress: 10 }) });
});
afterAll(async () => {
  await h?.close();
});

interface Answer {
  status: number;
  setCookie: string[];
  body: unknown;
}

/** One HTTP request from `from` (a loopback address) to the manager. */
function call(from: string, method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<Answer> {
  const url = new URL(h.baseUrl);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        localAddress: from,
        method,
        path: pathAndQuery,
        headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const setCookie = res.headers['set-cookie'] ?? [];
          resolve({ status: res.statusCode ?? 0, setCookie, body: raw ? (JSON.parse(raw) as unknown) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** `auth.login` on its own (not batched) from `from`; answers the HTTP status. */
async function login(from: string, username: string, password: string): Promise<number> {
  return (await call(from, 'POST', '/api/trpc/auth.login', { username, password })).status;
}

/** The failed sign-ins audited for `username` (one per password actually checked). */
async function auditedFailures(username: string): Promise<number> {
  const { items } = await h.store.audit.query({ action: 'auth.login_failed' });
  return items.filter((i) => i.actorName === username).length;
}

function errorOf(body: unknown): { code?: string; message?: string } {
  const e = (body as { error?: { message?: string; data?: { code?: string } } } | undefined)?.error;
  return { code: e?.data?.code, message: e?.message };
}

describe('auth.login limits over HTTP', () => {
  it('a batch of 30 wrong passwords plus the right one is refused whole: no session, no password checked', async () => {
    await h.user('bella', { password: 'bella-password' });
    const calls = [...Array.from({ length: 30 }, (_, i) => ({ username: 'bella', password: `guess-${i}` })), { username: 'bella', password: 'bella-password' }];
    const input = Object.fromEntries(calls.map((c, i) => [String(i), c]));
    const res = await call('127.0.0.11', 'POST', `/api/trpc/${calls.map(() => 'auth.login').join(',')}?batch=1`, input);
    expect(res.status).toBe(400);
    expect(res.setCookie).toEqual([]);
    expect(errorOf(res.body)).toEqual({ code: 'BAD_REQUEST', message: 'auth.login cannot be batched with other calls: send it on its own' });
    expect(await auditedFailures('bella')).toBe(0);
    // Even mixed with another procedure.
    const mixed = await call('127.0.0.11', 'POST', '/api/trpc/health,auth.login?batch=1', { 1: { username: 'bella', password: 'bella-password' } });
    expect(mixed.status).toBe(400);
    expect(mixed.setCookie).toEqual([]);
    // A batch of one (what a batching client sends for a lone call) still signs in.
    const single = await call('127.0.0.11', 'POST', '/api/trpc/auth.login?batch=1', { 0: { username: 'bella', password: 'bella-password' } });
    expect(single.status).toBe(200);
    expect(single.setCookie[0]).toMatch(/^hie_session=/);
  });

  it('a batch of 2,000 calls is refused (413) before any procedure runs: no bcrypt', { timeout: 30_000 }, async () => {
    const batch = (path: string, n: number) => `/api/trpc/${Array.from({ length: n }, () => path).join(',')}?batch=1`;
    const big = await call('127.0.0.12', 'GET', batch('health', 2000));
    expect(big.status).toBe(413);
    expect(errorOf(big.body)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'a batch may hold at most 50 calls (this one has 2000)' });
    // 1,000 sign-ins (as many as fit in Node's 16 KiB request line): refused, not one password checked.
    const input = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i), { username: 'mallory', password: `guess-${i}` }]));
    const logins = await call('127.0.0.12', 'POST', batch('auth.login', 1000), input);
    expect(logins.status).toBe(413);
    expect(errorOf(logins.body).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await auditedFailures('mallory')).toBe(0);
    // The limit itself: 51 refused, 50 served.
    expect((await call('127.0.0.12', 'GET', batch('health', 51))).status).toBe(413);
    expect((await call('127.0.0.12', 'GET', batch('health', 50))).status).toBe(200);
  });

  it('concurrent wrong guesses beyond the limit are refused before bcrypt; then even the right password waits', async () => {
    await h.user('pat', { password: 'pat-password' });
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => login('127.0.0.13', 'pat', `guess-${i}`)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(await auditedFailures('pat')).toBe(5);
    expect(await login('127.0.0.13', 'pat', 'pat-password')).toBe(429);
    // The lock-out is pat's from that address only: pat signs in from another one.
    expect(await login('127.0.0.14', 'pat', 'pat-password')).toBe(200);
  });

  it('one address guessing across many usernames is stopped, without locking those users out elsewhere', async () => {
    await h.user('quinn', { password: 'quinn-password' });
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => login('127.0.0.15', `nobody-${i}`, 'guess')));
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(await login('127.0.0.15', 'quinn', 'quinn-password')).toBe(429);
    expect(await login('127.0.0.16', 'quinn', 'quinn-password')).toBe(200);
  });
});
