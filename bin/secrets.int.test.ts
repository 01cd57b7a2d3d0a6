/**
 * Secret settings through the whole product: `hie start` (manager + engine node, PostgreSQL)
 * generates its key into the data dir, stores an http.in bearer token encrypted, never shows it,
 * and the engine's listener accepts exactly that token — also after a restart, when the
 * desired state is restored with the key read back from the file.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@hie/manager';
import { openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, tempDir, waitForPort } from '../apps/engine/src/testing/helpers';
import { CookieJar } from '../apps/manager/src/testing/cookie-jar';

const TOKEN = 'tok-Vb93-long-enough';

function client(port: number) {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `http://127.0.0.1:${port}/api/trpc`, fetch: new CookieJar().fetch })] });
}

async function post(port: number, authorization?: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/in`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...(authorization ? { authorization } : {}) },
    body: 'hello',
  });
  await res.arrayBuffer();
  return res.status;
}

describe('hie start: secret settings', () => {
  let db: TestStore;
  let dataDir: string;
  let child: ReturnType<typeof hie> | undefined;
  let port: number;
  let httpPort: number;

  async function start() {
    port = await freePort();
    child = hie(['start'], {
      cwd: dataDir,
      env: {
        DATABASE_URL: db.databaseUrl!,
        HIE_DATA_DIR: path.join(dataDir, 'data'),
        HIE_PORT: String(port),
        HIE_HOST: '127.0.0.1',
        HIE_ADMIN_PASSWORD: 'test-admin-pw',
        HIE_PORTAL: 'off',
        HIE_LOG_LEVEL: 'debug',
      },
    });
    await waitForPort(port, 60_000);
  }

  async function stop(): Promise<string> {
    const c = child!;
    child = undefined;
    const exited = new Promise((r) => c.on('exit', r));
    c.kill('SIGTERM');
    await exited;
    return c.output();
  }

  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_secrets' });
    dataDir = await tempDir();
    httpPort = await freePort();
  }, 30_000);

  afterAll(async () => {
    if (child) await stop();
    await db?.cleanup();
  });

  it('stores the token encrypted, never shows it, and the engine accepts exactly it, also after a restart', async () => {
    await start();
    const keyFile = path.join(dataDir, 'data', 'secret.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const api = client(port);
    await api.auth.login.mutate({ username: 'admin', password: 'test-admin-pw' });
    const ws = await api.workspaces.create.mutate({ name: 'Secrets' });
    const spec = {
      name: 'web-feed',
      items: [
        { name: 'Web In', type: 'http.in', settings: { host: '127.0.0.1', port: httpPort, path: '/in', bearerToken: TOKEN } },
        { name: 'Drop', type: 'hl7.router', settings: { otherwise: 'discard' } },
      ],
      connections: [{ from: 'Web In', to: 'Drop' }],
    };
    const project = await api.projects.create.mutate({ workspaceId: ws.id, name: 'web-feed', spec });
    expect(JSON.stringify(await api.projects.get.query({ id: project.id }))).not.toContain(TOKEN);
    expect(JSON.stringify(await api.projects.export.query({ id: project.id }))).not.toContain(TOKEN);

    const sql = new pg.Client({ connectionString: db.databaseUrl });
    await sql.connect();
    try {
      const rows = await sql.query<{ spec: unknown }>("SELECT spec FROM config_versions WHERE spec->>'name' = 'web-feed'");
      expect(rows.rows).toHaveLength(1);
      expect(JSON.stringify(rows.rows[0]!.spec)).not.toContain(TOKEN);
      expect(JSON.stringify(rows.rows[0]!.spec)).toContain('hie:enc:v1:');
    } finally {
      await sql.end();
    }

    await api.production.deploy.mutate({ projectId: project.id });
    await waitForPort(httpPort, 30_000);
    expect(await post(httpPort, `Bearer ${TOKEN}`)).toBe(202);
    expect(await post(httpPort, 'Bearer tok-Vb93-long-enougH')).toBe(401);
    expect(await post(httpPort, 'Bearer x')).toBe(401);
    expect(await post(httpPort)).toBe(401);

    // Restart: the desired state is restored from the store, decrypted with the key file.
    let output = await stop();
    await start();
    await waitForPort(httpPort, 30_000);
    expect(await post(httpPort, `Bearer ${TOKEN}`)).toBe(202);
    expect(await post(httpPort, 'Bearer wrong')).toBe(401);
    output += await stop();
    expect(output).toContain('HIE is running');
    expect(output.match(/generated the key of secret settings/g)).toHaveLength(1);
    expect(output).not.toContain(TOKEN);
  }, 150_000);
});
