/**
 * `hie start` as a hospital would run it: HTTPS with its own certificate (HIE_TLS_CERT/KEY), a
 * metrics token, and a production whose MLLP port is already taken. Real process, real TLS, real
 * sockets; the certificate is made with `openssl` at test time.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, repoRoot, tempDir } from '../apps/engine/src/testing/helpers';

const exec = promisify(execFile);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

let ca: Buffer;
/** One HTTPS request trusting the test's certificate only. */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('hie start over HTTPS, with a production that cannot bind its port', () => {
  let db: TestStore;
  let child: ReturnType<typeof hie>;
  let squatter: net.Server;
  let base: string;
  let port: number;
  let busyPort: number;
  let projectId: string;
  const metricsToken = 'test-metrics-token-0123456789';

  beforeAll(async () => {
    const dir = await tempDir('hie-web-');
    await exec(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { cwd: dir },
    );
    ca = readFileSync(path.join(dir, 'cert.pem'));

    squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    busyPort = (squatter.address() as net.AddressInfo).port;

    // The demo project, deployed, with its listener on the taken port (and not on 2575: no fixed ports in tests).
    db = await openTestStore('postgres', { prefix: 'hie_test_web' });
    const demo = JSON.parse(readFileSync(path.join(repoRoot, 'examples/adt-feed.json'), 'utf8')) as { items: { name: string; settings: Record<string, unknown> }[] };
    const downstream = await freePort();
    for (const item of demo.items) {
      if (item.name === 'ADT In') item.settings.port = busyPort;
      if (item.name === 'Downstream Out' || item.name === 'Downstream System') item.settings.port = downstream;
    }
    const ws = await db.store.workspaces.create({ name: 'Demo', description: 'Demo workspace' });
    const project = await db.store.projects.create({ workspaceId: ws.id, name: 'adt-feed', description: 'demo' });
    projectId = project.id;
    await db.store.configVersions.create(project.id, demo, null, 'test');
    await db.store.deployments.upsert(project.id, { version: 1, desiredState: 'running', updatedBy: null });

    port = await freePort();
    base = `https://127.0.0.1:${port}`;
    child = hie(['start'], {
      cwd: dir,
      env: {
        DATABASE_URL: db.databaseUrl!,
        HIE_PORT: String(port),
        HIE_HOST: '127.0.0.1',
        HIE_ADMIN_PASSWORD: 'test-admin-pw',
        HIE_PORTAL: 'off',
        HIE_TLS_CERT: path.join(dir, 'cert.pem'),
        HIE_TLS_KEY: path.join(dir, 'key.pem'),
        HIE_METRICS_TOKEN: metricsToken,
      },
    });
    // The banner comes once the engine has applied the restored productions.
    for (let i = 0; !child.output().includes('HIE is running'); i++) {
      if (child.exitCode !== null || i > 600) throw new Error(`hie start did not come up:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await new Promise((r) => child.on('exit', r));
    await new Promise<void>((r) => (squatter ? squatter.close(() => r()) : r()));
    await db?.cleanup();
  });

  it('the start banner gives the https URL and says the production FAILED, with the bind error', () => {
    const out = child.output();
    expect(out).toContain(`HIE is running: https://localhost:${port}/`);
    expect(out).toContain('1 production FAILED to start');
    expect(out).toMatch(new RegExp(`FAILED: production "adt-feed": item "ADT In" is down: .*EADDRINUSE.*${busyPort}`));
  });

  let cookie = '';
  it('serves HTTPS: HSTS, a Secure session cookie; plain HTTP on the port gets no API', async () => {
    const login = await request(`${base}/api/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ username: 'admin', password: 'test-admin-pw' }),
    });
    expect(login.status).toBe(200);
    expect(login.headers['strict-transport-security']).toBe('max-age=31536000');
    const session = (login.headers['set-cookie'] ?? []).find((c) => c.startsWith('hie_session='));
    expect(session).toContain('; Secure');
    expect(session).toContain('HttpOnly');
    cookie = session!.split(';')[0];
    await expect(fetch(`http://127.0.0.1:${port}/api/trpc/health`)).rejects.toThrow();
  });

  it('production.status reports the production failed with the bind error, never running', async () => {
    const res = await request(`${base}/api/trpc/production.status?input=${encodeURIComponent(JSON.stringify({ projectId }))}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const running = (JSON.parse(res.body) as { result: { data: { running?: { state: string; error?: { code: string; message: string } } } } }).result.data.running;
    expect(running?.state).toBe('failed');
    expect(running?.error?.code).toBe('EADDRINUSE');
    expect(running?.error?.message).toContain(String(busyPort));
  });

  it('/metrics answers only with the bearer token', async () => {
    expect((await request(`${base}/metrics`)).status).toBe(401);
    const ok = await request(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('hie_engine_nodes');
  });
});
