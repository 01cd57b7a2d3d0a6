import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '@hie/cluster';
import { ADMIN_PASSWORD, errorCode, itemStatus, nodeStatus, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let workspaceId: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.login('admin', ADMIN_PASSWORD);
  workspaceId = (await admin.api.workspaces.create.mutate({ name: 'Integration' })).id;
  await h.user('alice', { workspaceId, role: 'analyst' });
  await h.user('vera', { workspaceId, role: 'viewer' });
  analyst = await h.login('alice', 'alice-password');
  viewer = await h.login('vera', 'vera-password');
});
afterAll(async () => {
  await h?.close();
});

describe('production', () => {
  it('status is truthful: a running production with a failed item is degraded, with every item failed it is failed, never running', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'truthful', spec: sampleSpec('truthful') });
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    const lastError = { code: 'config.tls', message: 'cannot read TLS certificate file', at: Date.now() };
    await h.coordinator.reportStatus(
      nodeStatus('node-t', p.id, 'truthful', [
        itemStatus('ADT In', { type: 'hl7.mllp.in', kind: 'service' }),
        itemStatus('Route', { type: 'hl7.router', kind: 'process' }),
        itemStatus('Files', { state: 'failed', lastError }),
      ]),
    );
    const degraded = await viewer.api.production.status.query({ projectId: p.id });
    expect(degraded.running).toMatchObject({ state: 'degraded', problems: [{ item: 'Files', problem: 'failed', error: lastError.message }] });

    // A downstream away: the sender retries; amber too.
    await h.coordinator.reportStatus(nodeStatus('node-t', p.id, 'truthful', [itemStatus('ADT In', { kind: 'service' }), itemStatus('Files', { retrying: true })]));
    expect((await viewer.api.production.status.query({ projectId: p.id })).running).toMatchObject({ state: 'degraded', problems: [{ item: 'Files', problem: 'retrying' }] });

    await h.coordinator.reportStatus(
      nodeStatus('node-t', p.id, 'truthful', [itemStatus('ADT In', { kind: 'service', state: 'failed' }), itemStatus('Files', { state: 'failed' }), itemStatus('Off', { enabled: false, state: 'stopped' })]),
    );
    expect((await viewer.api.production.status.query({ projectId: p.id })).running?.state).toBe('failed');

    await h.coordinator.reportStatus(nodeStatus('node-t', p.id, 'truthful', [itemStatus('ADT In', { kind: 'service' }), itemStatus('Files')]));
    expect((await viewer.api.production.status.query({ projectId: p.id })).running).toMatchObject({ state: 'running', problems: [] });
  });

  it('deploy writes desired state to the coordinator; start/stop/reload; status merges node reports', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'feed', spec: sampleSpec('feed') });
    expect(await errorCode(viewer.api.production.deploy.mutate({ projectId: p.id }))).toBe('FORBIDDEN');
    expect(await errorCode(analyst.api.production.stop.mutate({ projectId: p.id }))).toBe('NOT_FOUND');
    expect(await viewer.api.production.status.query({ projectId: p.id })).toEqual({});

    expect(await analyst.api.production.deploy.mutate({ projectId: p.id })).toEqual({ version: 1, state: 'running' });
    const desired = await h.coordinator.getDesired(p.id);
    expect(desired).toMatchObject({ projectId: p.id, workspaceId, production: 'feed', version: 1, state: 'running', spec: sampleSpec('feed') });
    expect(desired?.updatedBy).toBeDefined();
    expect((await viewer.api.projects.list.query({ workspaceId })).find((x) => x.id === p.id)?.deployment).toMatchObject({ version: 1, state: 'running' });

    // A running project cannot be deleted.
    expect(await errorCode(admin.api.projects.delete.mutate({ id: p.id }))).toBe('CONFLICT');

    // The engine's report shows up in status, merged across nodes.
    await h.coordinator.reportStatus(nodeStatus('node-a', p.id, 'feed', [itemStatus('Files', { processed: 10, errors: 1, queueDepth: 3, latencyP99Ms: 8 })]));
    await h.coordinator.reportStatus(nodeStatus('node-b', p.id, 'feed', [itemStatus('Files', { processed: 5, queueDepth: 1, latencyP99Ms: 12 }), itemStatus('Route', { type: 'hl7.router', kind: 'process' })]));
    const status = await viewer.api.production.status.query({ projectId: p.id });
    expect(status.desired).toMatchObject({ version: 1, state: 'running' });
    expect(status.running).toMatchObject({ version: 1, state: 'running', stale: false });
    expect(status.running?.nodes.sort()).toEqual(['node-a', 'node-b']);
    const files = status.running!.items.find((i) => i.name === 'Files')!;
    expect(files).toMatchObject({ processed: 15, errors: 1, queueDepth: 4, latencyP99Ms: 12 });

    // Save v2, reload deploys it; stop keeps the version; start resumes it.
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: { ...sampleSpec('feed'), description: 'v2' } });
    expect(await analyst.api.production.reload.mutate({ projectId: p.id })).toEqual({ version: 2, state: 'running' });
    expect(await h.coordinator.getDesired(p.id)).toMatchObject({ version: 2, state: 'running', spec: { description: 'v2' } });
    expect(await analyst.api.production.stop.mutate({ projectId: p.id })).toEqual({ version: 2, state: 'stopped' });
    expect(await h.coordinator.getDesired(p.id)).toMatchObject({ version: 2, state: 'stopped' });
    expect(await analyst.api.production.start.mutate({ projectId: p.id })).toEqual({ version: 2, state: 'running' });
    // Deploy an older version explicitly.
    expect(await analyst.api.production.deploy.mutate({ projectId: p.id, version: 1 })).toEqual({ version: 1, state: 'running' });
    expect(await errorCode(analyst.api.production.deploy.mutate({ projectId: p.id, version: 7 }))).toBe('NOT_FOUND');

    // Another project may run a production of the same name: messages belong to project ids.
    const twin = await analyst.api.projects.create.mutate({ workspaceId, name: 'twin', spec: sampleSpec('feed') });
    expect(await analyst.api.production.deploy.mutate({ projectId: twin.id })).toEqual({ version: 1, state: 'running' });
    expect((await h.coordinator.listDesired()).filter((d) => d.production === 'feed' && d.state === 'running')).toHaveLength(2);
    await analyst.api.production.stop.mutate({ projectId: twin.id });

    await analyst.api.production.stop.mutate({ projectId: p.id });
    await admin.api.projects.delete.mutate({ id: p.id });

    const audit = await admin.api.audit.list.query({ workspaceId, entityType: 'deployment' });
    expect(audit.items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['deployment.deploy', 'deployment.reload', 'deployment.stop', 'deployment.start']),
    );
    // Newest first: the last one is the first stop.
    const stop = audit.items.filter((a) => a.action === 'deployment.stop').at(-1)!;
    expect(stop).toMatchObject({ before: { version: 2, state: 'running' }, after: { version: 2, state: 'stopped' } });
  });

  it('item start/stop/restart are sent to the engine node as commands', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'commands', spec: sampleSpec('commands') });
    expect(await errorCode(analyst.api.production.itemRestart.mutate({ projectId: p.id, item: 'Files' }))).toBe('INTERNAL_SERVER_ERROR');
    const seen: Command[] = [];
    const off = h.coordinator.onCommand(async (c) => {
      seen.push(c);
      if ('item' in c && c.item === 'Ghost') return { ok: false, error: { code: 'engine.not_found', message: 'no item Ghost' } };
      return { ok: true, nodeId: 'node-x' };
    });
    try {
      expect(await analyst.api.production.itemStop.mutate({ projectId: p.id, item: 'Files' })).toEqual({ ok: true, nodeId: 'node-x' });
      await analyst.api.production.itemStart.mutate({ projectId: p.id, item: 'Files' });
      await analyst.api.production.itemRestart.mutate({ projectId: p.id, item: 'Files' });
      expect(await errorCode(analyst.api.production.itemRestart.mutate({ projectId: p.id, item: 'Ghost' }))).toBe('NOT_FOUND');
      expect(await errorCode(viewer.api.production.itemStop.mutate({ projectId: p.id, item: 'Files' }))).toBe('FORBIDDEN');
    } finally {
      off();
    }
    expect(seen.map((c) => c.kind)).toEqual(['item.stop', 'item.start', 'item.restart', 'item.restart']);
    expect(seen[0]).toEqual({ kind: 'item.stop', projectId: p.id, item: 'Files' });
  });

  it('production.live streams item figures over SSE', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'live', spec: sampleSpec('live') });
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    let processed = 0;
    const report = () => h.coordinator.reportStatus(nodeStatus('node-live', p.id, 'live', [itemStatus('Files', { processed: ++processed })]));
    await report();
    const timer = setInterval(() => void report(), 100);
    const events: { at: number; items: { name: string; processed: number }[] }[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const sub = viewer.api.production.live.subscribe(
          { projectId: p.id, intervalMs: 200 },
          {
            onData(data) {
              events.push(data);
              if (events.length === 2) {
                sub.unsubscribe();
                resolve();
              }
            },
            onError: reject,
          },
        );
      });
    } finally {
      clearInterval(timer);
    }
    expect(events).toHaveLength(2);
    expect(events[1].at).toBeGreaterThan(events[0].at);
    expect(events[0].items[0]).toMatchObject({ name: 'Files' });
    expect(events[1].items[0].processed).toBeGreaterThan(events[0].items[0].processed);
  });

  it('production.live refuses outsiders', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'secret', spec: sampleSpec('secret') });
    await h.user('otto');
    const otto = await h.login('otto', 'otto-password');
    const code = await new Promise<string>((resolve) => {
      const sub = otto.api.production.live.subscribe(
        { projectId: p.id },
        {
          onData: () => resolve('data'),
          onError: (e) => {
            sub.unsubscribe();
            resolve(String(e.data?.code));
          },
        },
      );
    });
    expect(code).toBe('NOT_FOUND');
  });
});
