/**
 * Browser protections of the manager's HTTP surface, over real HTTP: security headers, no-store on
 * the API, the cross-site check on mutations, `Secure` cookies and HSTS behind a trusted proxy,
 * and the `/metrics` bearer token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessCoordinator } from '@hie/cluster';
import { createManagerServer, type ManagerServerOptions } from './server.js';
import { ADMIN_PASSWORD, sampleSpec, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
const servers: { server: Server; close: () => Promise<void> }[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await h?.close();
});

/** Another manager on the harness's store, with options of its own, on a real port. */
async function serve(opts: Partial<ManagerServerOptions>): Promise<string> {
  const manager = createManagerServer({ store: h.store, coordinator: new InProcessCoordinator(), log: pino({ level: 'silent' }), ...opts });
  const server = createServer((req, res) => {
    void manager.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    server,
    close: async () => {
      await manager.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const loginBody = JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD });
const json = { 'content-type': 'application/json' };

function login(base: string, headers: Record<string, string>, body: string | FormData = loginBody): Promise<Response> {
  return fetch(`${base}/api/trpc/auth.login`, { method: 'POST', headers, body });
}

/** The tRPC error code of a refused call (a typed JSON error, as every API error). */
async function trpcCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { data?: { code?: string } } };
  return String(body.error?.data?.code);
}

describe('security headers', () => {
  it('every API answer: no-store, nosniff, no framing, no referrer, a deny-all CSP; no HSTS over plain HTTP', async () => {
    const res = await fetch(`${h.baseUrl}/api/trpc/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('strict-transport-security')).toBeNull();
    // Errors too.
    const refused = await fetch(`${h.baseUrl}/api/trpc/auth.me`);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('patient data over SSE (production.live) is no-store', async () => {
    const admin = await h.login('admin', ADMIN_PASSWORD);
    const ws = await admin.api.workspaces.create.mutate({ name: 'Headers' });
    const p = await admin.api.projects.create.mutate({ workspaceId: ws.id, name: 'sse', spec: sampleSpec('sse') });
    const abort = new AbortController();
    const res = await admin.jar.fetch(`${h.baseUrl}/api/trpc/production.live?input=${encodeURIComponent(JSON.stringify({ projectId: p.id }))}`, {
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    abort.abort();
  });

  it('pages the portal serves get the same headers (the portal adds its own CSP)', async () => {
    const base = await serve({
      portalHandler: (_req, res) => {
        res.end('<html></html>');
        return true;
      },
    });
    const res = await fetch(`${base}/designer`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    // The API's deny-all policy would break the portal's pages.
    expect(res.headers.get('content-security-policy')).toBeNull();
  });
});

describe('mutations refuse what another site could make a browser send', () => {
  it('refuses multipart/form-data (a plain HTML form needs no CORS preflight) with 415', async () => {
    const form = new FormData();
    form.set('username', 'admin');
    form.set('password', ADMIN_PASSWORD);
    const res = await login(h.baseUrl, {}, form);
    expect(res.status).toBe(415);
    expect(await trpcCode(res)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(res.headers.getSetCookie()).toEqual([]);
    const urlencoded = await login(h.baseUrl, { 'content-type': 'application/x-www-form-urlencoded' }, 'username=admin');
    expect(urlencoded.status).toBe(415);
    const text = await login(h.baseUrl, { 'content-type': 'text/plain' }, loginBody);
    expect(text.status).toBe(415);
  });

  it('refuses a foreign Origin and Sec-Fetch-Site: cross-site with 403; the call does not run', async () => {
    const evil = await login(h.baseUrl, { ...json, origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(await trpcCode(evil)).toBe('FORBIDDEN');
    expect(evil.headers.getSetCookie()).toEqual([]);
    const nullOrigin = await login(h.baseUrl, { ...json, origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const crossSite = await login(h.baseUrl, { ...json, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(await trpcCode(crossSite)).toBe('FORBIDDEN');
    // Another port on the same host is another origin.
    const port = Number(new URL(h.baseUrl).port);
    const otherPort = await login(h.baseUrl, { ...json, origin: `http://127.0.0.1:${port === 65535 ? 1 : port + 1}` });
    expect(otherPort.status).toBe(403);
  });

  it('batched calls are refused one by one, as typed errors the tRPC client understands', async () => {
    const res = await fetch(`${h.baseUrl}/api/trpc/workspaces.create,auth.logout?batch=1`, {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example' },
      body: JSON.stringify({ 0: { name: 'Planted' }, 1: {} }),
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { data: { code: string } } }[];
    expect(body.map((b) => b.error.data.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });

  it('accepts the same origin, same-site fetches and clients that send no Origin (curl, CI)', async () => {
    expect((await login(h.baseUrl, { ...json, origin: h.baseUrl, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await login(h.baseUrl, json)).status).toBe(200);
    // Queries (GET) are not mutations: reading needs CORS, which this server never grants.
    expect((await fetch(`${h.baseUrl}/api/trpc/health`, { headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });
});

describe('behind a trusted proxy (trustProxy)', () => {
  const proxied = { ...json, origin: 'https://hie.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hie.example' };

  it('X-Forwarded-Proto: https → the session cookie is Secure, HSTS is sent, the public origin is accepted', async () => {
    const base = await serve({ trustProxy: true });
    const res = await login(base, proxied);
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('hie_session='));
    expect(cookie).toContain('; Secure');
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    // The cookie set by the sliding refresh would be Secure too: a plain HTTP request still gets none.
    const plain = await login(base, json);
    expect(plain.headers.getSetCookie().find((c) => c.startsWith('hie_session='))).not.toContain('Secure');
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });

  it('without trustProxy the forwarded headers are ignored: no Secure, no HSTS, the forwarded origin is foreign', async () => {
    const res = await login(h.baseUrl, proxied);
    expect(res.status).toBe(403);
    const direct = await login(h.baseUrl, { ...json, 'x-forwarded-proto': 'https' });
    expect(direct.headers.getSetCookie().find((c) => c.startsWith('hie_session='))).not.toContain('Secure');
    expect(direct.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('/metrics with a bearer token (HIE_METRICS_TOKEN)', () => {
  it('401 without the token or with a wrong one; the metrics with it', async () => {
    const token = 'metrics-token-0123456789';
    const base = await serve({ metricsToken: token });
    const none = await fetch(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await none.text()).not.toContain('process_cpu');
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Basic ${token}` } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('process_cpu_user_seconds_total');
    // Without a token configured, /metrics stays open (the default).
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(200);
  });
});

describe('patient data never in a URL', () => {
  it('fhir.router rules are tested on a sample sent in a POST body (a Bundle of 150 KB works), never in a query string', async () => {
    const { admin, workspaceId } = await h.team('NoSamplesInUrls');
    const projectId = (await admin.api.projects.create.mutate({ workspaceId, name: 'fhir-rules' })).id;
    const patient = { resourceType: 'Patient', gender: 'female', name: [{ family: 'DOE', given: ['JANE'] }], birthDate: '1980-01-01' };
    const sample = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: 1500 }, (_, i) => ({ resource: { ...patient, id: `p${i}` } })) });
    expect(sample.length).toBeGreaterThan(150_000);
    const settings = { mode: 'first_match', rules: [{ name: 'collections', when: { path: 'Bundle.type', op: '=', value: 'collection' }, then: { action: 'discard' } }] };

    const post = await admin.jar.fetch(`${h.baseUrl}/api/trpc/production.testFhirRules`, { method: 'POST', headers: json, body: JSON.stringify({ projectId, sample, settings }) });
    expect(post.status).toBe(200);
    const answer = (await post.json()) as { result: { data: { outcome: { matched: { name: string }[] } } } };
    expect(answer.result.data.outcome.matched.map((r) => r.name)).toEqual(['collections']);

    // In a URL the sample would land in every proxy's access log (and a large one is refused by the HTTP server): not taken.
    const input = encodeURIComponent(JSON.stringify({ projectId, sample: JSON.stringify(patient), settings }));
    const get = await admin.jar.fetch(`${h.baseUrl}/api/trpc/production.testFhirRules?input=${input}`);
    expect(get.status).toBe(405);
  });
});
