import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessCoordinator } from '@hie/cluster';
import { restoreDesiredState } from './deploy.js';
import { registry } from './metrics.js';
import { seedDemo } from './seed.js';
import { createManagerServer } from './server.js';
import { ADMIN_PASSWORD, itemStatus, nodeStatus, startHarness, type Harness } from './testing/harness.js';

const demoSpec: unknown = JSON.parse(readFileSync(new URL('../../../examples/adt-feed.json', import.meta.url), 'utf8'));

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('HTTP surface', () => {
  it('/healthz; anything else is left to the caller', async () => {
    const ok = await fetch(`${h.baseUrl}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    expect((await fetch(`${h.baseUrl}/designer`)).status).toBe(404);
    expect((await fetch(`${h.baseUrl}/api/trpc/no.such.procedure`)).status).toBe(404);
  });

  it('/readyz: 503 with a reason until an engine node reports, then 200', async () => {
    const before = await fetch(`${h.baseUrl}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ ok: false, reason: 'no engine node reported in the last 10 s', reasons: ['no engine node reported in the last 10 s'] });
    await h.coordinator.reportStatus({ nodeId: 'n-ready', startedAt: Date.now(), heartbeatAt: Date.now(), productions: [], itemTypes: [] });
    const after = await fetch(`${h.baseUrl}/readyz`);
    expect(after.status).toBe(200);
    // A node that stopped reporting does not count.
    await h.coordinator.reportStatus({ nodeId: 'n-ready', startedAt: 0, heartbeatAt: Date.now() - 60_000, productions: [], itemTypes: [] });
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(503);
  });

  it('/metrics: default metrics and per-item figures from the latest node status', async () => {
    await h.coordinator.reportStatus(
      nodeStatus('n-metrics', 'p1', 'adt-feed', [
        itemStatus('ADT In', { processed: 42, errors: 2, queueDepth: 7, latencyP99Ms: 3.5 }),
        itemStatus('Files', { processed: 40 }),
      ]),
    );
    const res = await fetch(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('# TYPE hie_item_processed_total counter');
    expect(text).toContain('hie_item_processed_total{project="p1",production="adt-feed",item="ADT In"} 42');
    expect(text).toContain('hie_item_processed_total{project="p1",production="adt-feed",item="Files"} 40');
    expect(text).toContain('hie_item_errors_total{project="p1",production="adt-feed",item="ADT In"} 2');
    expect(text).toContain('hie_item_queue_depth{project="p1",production="adt-feed",item="ADT In"} 7');
    expect(text).toContain('hie_item_latency_p99_ms{project="p1",production="adt-feed",item="ADT In"} 3.5');
    expect(text).toMatch(/hie_engine_nodes \d/);
    // A second project whose production has the same name is its own series, never summed in.
    await h.coordinator.reportStatus(nodeStatus('n-metrics-2', 'p2', 'adt-feed', [itemStatus('ADT In', { processed: 5 })]));
    await new Promise((r) => setTimeout(r, 300)); // one status read serves a scrape (250 ms)
    const both = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(both).toContain('hie_item_processed_total{project="p1",production="adt-feed",item="ADT In"} 42');
    expect(both).toContain('hie_item_processed_total{project="p2",production="adt-feed",item="ADT In"} 5');
    // The lead can add metrics of their own to the exported registry.
    expect(registry.getSingleMetric('hie_item_queue_depth')).toBeDefined();
  });

  it('a portal handler gets what the manager does not serve', async () => {
    const manager = createManagerServer({
      store: h.store,
      coordinator: new InProcessCoordinator(),
      log: pino({ level: 'silent' }),
      portalHandler: (req, res) => {
        if (req.url !== '/') return false;
        res.end('portal');
        return true;
      },
    });
    const server = createServer((req, res) => {
      void manager.handle(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/`)).text()).toBe('portal');
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await manager.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('seedDemo and restoreDesiredState', () => {
  it('creates workspace Demo, project adt-feed v1 deployed running, admin a member; once', async () => {
    const first = await seedDemo({ store: h.store, coordinator: h.coordinator, spec: demoSpec });
    expect(first.created).toBe(true);
    const desired = await h.coordinator.getDesired(first.projectId);
    expect(desired).toMatchObject({ production: 'adt-feed', version: 1, state: 'running', workspaceId: first.workspaceId });

    const admin = await h.login('admin', ADMIN_PASSWORD);
    const me = await admin.api.auth.me.query();
    expect(me.memberships).toEqual([{ workspaceId: first.workspaceId, workspaceName: 'Demo', role: 'admin' }]);
    const project = await admin.api.projects.get.query({ id: first.projectId });
    expect(project.version.spec).toEqual(demoSpec);
    expect(project.deployment).toMatchObject({ version: 1, state: 'running' });

    const second = await seedDemo({ store: h.store, coordinator: h.coordinator, spec: demoSpec });
    expect(second).toEqual({ created: false, workspaceId: first.workspaceId, projectId: first.projectId });
    expect((await admin.api.versions.list.query({ projectId: first.projectId })).length).toBe(1);

    // A fresh in-process coordinator (a restart) gets the desired state back from the store.
    const fresh = new InProcessCoordinator();
    expect(await restoreDesiredState({ store: h.store, coordinator: fresh })).toBe(1);
    expect(await fresh.getDesired(first.projectId)).toMatchObject({ production: 'adt-feed', version: 1, state: 'running' });
  });

  it("the demo's listeners bind 127.0.0.1 only: a first start exposes nothing to the network", () => {
    const items = (demoSpec as { items: { name: string; type: string; settings: { host?: string } }[] }).items;
    const listeners = items.filter((i) => i.type === 'hl7.mllp.in' || i.type === 'http.in');
    expect(listeners.map((i) => i.name)).toContain('ADT In');
    for (const i of listeners) expect({ item: i.name, host: i.settings.host }).toEqual({ item: i.name, host: '127.0.0.1' });
  });

  it('refuses an invalid demo spec', async () => {
    await expect(seedDemo({ store: h.store, coordinator: h.coordinator, spec: { name: 'x', items: [{ name: 'a', type: 'nope.nope' }] } })).rejects.toMatchObject({
      code: 'config.invalid',
    });
  });
});
