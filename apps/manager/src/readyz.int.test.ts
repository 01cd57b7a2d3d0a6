/**
 * `/readyz` (Kubernetes readiness) says not ready, with every reason, while the store cannot be
 * reached or has migrations pending; `/healthz` (liveness) stays 200 throughout.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessCoordinator } from '@hie/cluster';
import { firstMigrations, openStore, openTestStore, type Store, type TestStore } from '@hie/store';
import { createManagerServer } from './server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The manager on a real port over `store`, with one engine node reporting (so only the store decides). */
async function serve(store: Store): Promise<string> {
  const coordinator = new InProcessCoordinator();
  await coordinator.reportStatus({ nodeId: 'n1', startedAt: Date.now(), heartbeatAt: Date.now() + 3_600_000, productions: [], itemTypes: [] });
  const manager = createManagerServer({ store, coordinator, log: pino({ level: 'silent' }) });
  const http: Server = createServer((req, res) => void manager.handle(req, res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    await manager.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    await coordinator.close();
  });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

async function probe(base: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('/readyz', () => {
  it('is ready on a reachable, fully migrated store', async () => {
    const t: TestStore = await openTestStore('postgres', { prefix: 'hie_test_ready' });
    cleanups.push(() => t.cleanup());
    const base = await serve(t.store);
    expect(await probe(base, '/readyz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('is not ready while a migration is pending, and ready once it is applied', async () => {
    const t = await openTestStore('postgres', { prefix: 'hie_test_ready', migrate: false });
    cleanups.push(() => t.cleanup());
    const pool = new pg.Pool({ connectionString: t.databaseUrl });
    await migrate(drizzle({ client: pool }), { migrationsFolder: firstMigrations(6) });
    await pool.end();
    const base = await serve(t.store);
    const r = await probe(base, '/readyz');
    expect(r.status).toBe(503);
    // 0006 and every migration after it are pending, named in order.
    expect(r.body).toMatchObject({ ok: false, reasons: [expect.stringMatching(/^migrations pending: 0006_alerts(, \d{4}_\w+)*$/)] });
    expect((await probe(base, '/healthz')).status).toBe(200);
    await t.store.migrate();
    expect((await probe(base, '/readyz')).status).toBe(200);
  });

  it('is not ready while the store is unreachable (its PostgreSQL database gone), and liveness stays up', async () => {
    const t = await openTestStore('postgres', { prefix: 'hie_test_ready' });
    const store = await openStore({ databaseUrl: t.databaseUrl, migrate: false });
    cleanups.push(async () => {
      await store.close().catch(() => undefined);
    });
    const base = await serve(store);
    expect((await probe(base, '/readyz')).status).toBe(200);
    // Drop the database under the running manager (FORCE ends its connections).
    await t.cleanup();
    const r = await probe(base, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ ok: false, reasons: ['store unreachable'] });
    expect(await probe(base, '/healthz')).toEqual({ status: 200, body: { ok: true } });
  });
});
