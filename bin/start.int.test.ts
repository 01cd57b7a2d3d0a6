/**
 * The whole product as a user runs it: `hie start` (manager + engine node + store on PostgreSQL)
 * driven through the real tRPC HTTP API and a real MLLP client (`hie send`).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@hie/manager';
import { openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, hieExec, tempDir, waitForPort } from '../apps/engine/src/testing/helpers';

let cookie = '';
let lastSetCookie = '';
const jarFetch = async (input: string | URL | Request, init?: RequestInit) => {
  const headers = new Headers(init?.headers);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(input, { ...init, headers });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('hie_session='));
  if (set) {
    cookie = set.split(';')[0];
    lastSetCookie = set;
  }
  return res;
};

describe('hie start: deploy → engine runs → hie send → messages.search with trace; hot reload', () => {
  let db: TestStore;
  let child: ReturnType<typeof hie>;
  let port: number;
  let mllpPort: number;
  let api: ReturnType<typeof createTRPCClient<AppRouter>>;

  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_start' });
    port = await freePort();
    mllpPort = await freePort();
    const dir = await tempDir();
    child = hie(['start'], {
      cwd: dir,
      env: { DATABASE_URL: db.databaseUrl!, HIE_PORT: String(port), HIE_HOST: '127.0.0.1', HIE_ADMIN_PASSWORD: 'test-admin-pw', HIE_PORTAL: 'off', HIE_SESSION_TTL_HOURS: '2' },
    });
    await waitForPort(port, 60_000);
    api = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `http://127.0.0.1:${port}/api/trpc`, fetch: jarFetch })] });
  }, 90_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child) await new Promise((r) => child.on('exit', r));
    await db?.cleanup();
  });

  it('runs the flow end to end', async () => {
    await expect(api.projects.list.query({ workspaceId: '00000000-0000-0000-0000-000000000000' })).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await api.auth.login.mutate({ username: 'admin', password: 'test-admin-pw' });
    // HIE_SESSION_TTL_HOURS reaches the server: a 2-hour session cookie.
    expect(lastSetCookie).toContain('Max-Age=7200');
    const ws = await api.workspaces.create.mutate({ name: `Trust ${Date.now()}` });
    const outDir = path.join(await tempDir(), 'out');
    const spec = {
      name: 'lab-feed',
      items: [
        { name: 'Lab In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: mllpPort } },
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' } },
        { name: 'Lab Files', type: 'file.out', settings: { directory: outDir } },
      ],
      connections: [
        { from: 'Lab In', to: 'Route' },
        { from: 'Route', to: 'Lab Files' },
      ],
    };
    const project = await api.projects.create.mutate({ workspaceId: (ws as { id: string }).id, name: 'lab-feed', spec });
    const projectId = (project as { id: string }).id;
    await api.production.deploy.mutate({ projectId });
    await waitForPort(mllpPort, 30_000);

    const sent = await hieExec(['send', '--port', String(mllpPort), 'examples/messages/oru-r01.hl7']);
    expect(sent.code, sent.output).toBe(0);
    expect(sent.output).toContain('→ AA CNTRL-3456');

    let found: { items: { id: string; controlId: string | null; status: string }[] } = { items: [] };
    for (let i = 0; i < 50 && found.items.length === 0; i++) {
      found = (await api.messages.search.query({ projectId, controlId: 'CNTRL-3456' })) as typeof found;
      if (found.items.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found.items).toHaveLength(1);
    const byPatient = (await api.messages.search.query({ projectId, patientId: '555-44-4444' })) as typeof found;
    expect(byPatient.items.map((m) => m.id)).toEqual([found.items[0].id]);
    // Body text search: indexed off the ACK path, so it may take a moment to appear.
    let byText: typeof found = { items: [] };
    for (let i = 0; i < 50 && byText.items.length === 0; i++) {
      byText = (await api.messages.search.query({ projectId, text: 'everywoman' })) as typeof found;
      if (byText.items.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(byText.items.map((m) => m.id)).toEqual([found.items[0].id]);
    expect(((await api.messages.search.query({ projectId, text: 'no-such-text-anywhere' })) as typeof found).items).toEqual([]);
    let detail: { trace?: { event: string; item: string }[]; events?: { event: string; item: string }[] } = {};
    for (let i = 0; i < 50; i++) {
      detail = (await api.messages.get.query({ projectId, id: found.items[0].id })) as typeof detail;
      const trace = detail.trace ?? detail.events ?? [];
      if (trace.some((e) => e.event === 'completed')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const trace = (detail.trace ?? detail.events ?? []).map((e) => `${e.event}@${e.item}`);
    expect(trace).toEqual(expect.arrayContaining(['received@Lab In', 'delivered@Route', 'delivered@Lab Files']));
    expect(trace.at(-1)).toMatch(/^completed@/);

    // Hot reload: change one item; the others keep running (their restart counters and
    // processed counts carry on; only the changed one is new).
    type Status = { running?: { items: { name: string; processed: number }[] } };
    let before: Status = {};
    for (let i = 0; i < 50; i++) {
      // Node status is reported every second: wait until it shows the message processed.
      before = (await api.production.status.query({ projectId })) as Status;
      if (before.running?.items.find((x) => x.name === 'Route')?.processed === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Prometheus: item figures and store batch figures.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/hie_item_processed_total\{[^}]*item="Route"[^}]*\} 1/);
    expect(metrics).toContain(`hie_store_rows{project="${projectId}",writer="raw"}`);
    expect(metrics).toMatch(new RegExp(`hie_item_processed_total\\{project="${projectId}",production="lab-feed",item="Route"\\} 1`));

    const cur = (await api.projects.get.query({ id: projectId })) as { version: { version: number } };
    const changed = { ...spec, items: spec.items.map((it) => (it.name === 'Lab Files' ? { ...it, settings: { ...it.settings, filename: '{controlId}.hl7' } } : it)) };
    await api.projects.save.mutate({ id: projectId, spec: changed, comment: 'name files by control id', baseVersion: cur.version.version });
    await api.production.reload.mutate({ projectId });
    // The replaced file writer runs the new setting: the next message's file is named by its
    // control id. Counts carry on across the reload (they count messages, not hosts).
    const resent = await hieExec(['send', '--port', String(mllpPort), 'examples/messages/oru-r01.hl7']);
    expect(resent.code, resent.output).toBe(0);
    let names: string[] = [];
    for (let i = 0; i < 100 && !names.includes('CNTRL-3456.hl7'); i++) {
      names = await readdir(outDir);
      if (!names.includes('CNTRL-3456.hl7')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(names).toContain('CNTRL-3456.hl7');
    let after = before;
    for (let i = 0; i < 50; i++) {
      after = (await api.production.status.query({ projectId })) as typeof before;
      const counts = ['Route', 'Lab Files'].map((n) => after.running?.items.find((x) => x.name === n)?.processed);
      if (counts.every((c) => c === 2)) break; // node reports come every second
      await new Promise((r) => setTimeout(r, 100));
    }
    const processed = (s: typeof before, n: string) => s.running?.items.find((x) => x.name === n)?.processed;
    expect(processed(before, 'Route')).toBe(1);
    expect(processed(after, 'Route')).toBe(2); // untouched host, counting on
    expect(processed(after, 'Lab Files')).toBe(2); // replaced host, counts kept

    // Operator stop/start of one item goes through the coordinator to the engine node.
    const stateOf = async (n: string) =>
      ((await api.production.status.query({ projectId })) as { running?: { items: { name: string; state: string }[] } }).running?.items.find((x) => x.name === n)?.state;
    await api.production.itemStop.mutate({ projectId, item: 'Lab Files' });
    expect(await stateOf('Lab Files')).toBe('stopped');
    expect(await stateOf('Route')).toBe('running');
    await api.production.itemStart.mutate({ projectId, item: 'Lab Files' });
    expect(await stateOf('Lab Files')).toBe('running');
  }, 120_000);

  it("refuses at save an http.out to the manager's own address (localhost resolves to it) and a folder outside HIE_FILE_ROOTS", async () => {
    const ws = (await api.workspaces.create.mutate({ name: `Policy ${Date.now()}` })) as { id: string };
    const spec = {
      name: 'ssrf',
      items: [
        { name: 'Metrics', type: 'http.out', settings: { url: `http://localhost:${port}/metrics` } },
        { name: 'Etc', type: 'file.in', settings: { directory: '/etc' } },
      ],
      connections: [],
    };
    const err = (await api.projects.create.mutate({ workspaceId: ws.id, name: 'ssrf', spec }).catch((e: unknown) => e)) as {
      data?: { code?: string; problems?: { pathText: string }[] };
    };
    expect(err.data?.code).toBe('BAD_REQUEST');
    expect(err.data?.problems?.map((p) => p.pathText).sort()).toEqual(['items[0].settings.url', 'items[1].settings.directory']);
  }, 30_000);
});
