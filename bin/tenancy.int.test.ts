/**
 * Issue 9, finding 1, as the outsider would try it against a real `hie start` on PostgreSQL: a
 * signed-in user with no role in the demo workspace gets his own workspace (from a global admin:
 * self-service is off) and a project whose production is also called `adt-feed`. Both run side by
 * side; each sees only its own messages — by id, patient id and body text — and after a restart
 * recovery replays each project's unfinished messages into that project's items only.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@hie/manager';
import { openTestStore, type TestStore } from '@hie/store';
import { CookieJar } from '../apps/manager/src/testing/cookie-jar';
import { freePort, hie, hieExec, repoRoot, tempDir, waitForPort } from '../apps/engine/src/testing/helpers';

type Api = ReturnType<typeof createTRPCClient<AppRouter>>;

/** A tRPC client with its own cookie jar (one per user). */
function client(port: number): Api {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `http://127.0.0.1:${port}/api/trpc`, fetch: new CookieJar().fetch })] });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TRPCClientError) return String((e as TRPCClientError<AppRouter>).data?.code);
    throw e;
  }
  return 'OK';
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, tries = 100): Promise<T> {
  let v = await f();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 200));
    v = await f();
  }
  return v;
}

describe('tenant isolation: two projects whose productions are both called adt-feed', () => {
  let db: TestStore;
  let cwd: string;
  let port: number;
  let child: ReturnType<typeof hie> | undefined;
  const env = () => ({
    DATABASE_URL: db.databaseUrl!,
    HIE_PORT: String(port),
    HIE_HOST: '127.0.0.1',
    HIE_ADMIN_PASSWORD: 'test-admin-password',
    HIE_PORTAL: 'off',
  });
  const start = async () => {
    child = hie(['start'], { cwd, env: env() });
    await waitForPort(port, 60_000);
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGTERM');
    await new Promise((r) => c.on('exit', r));
  };

  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_tenancy' });
    cwd = await tempDir();
    port = await freePort();
    await start();
  }, 90_000);
  afterAll(async () => {
    await stop();
    await db?.cleanup();
  });

  it('keeps each tenant’s messages, search, resend and recovery to itself', async () => {
    const admin = client(port);
    await admin.auth.login.mutate({ username: 'admin', password: 'test-admin-password' });
    const demoWs = (await admin.workspaces.list.query()).find((w) => w.name === 'Demo')!;
    const demo = (await admin.projects.list.query({ workspaceId: demoWs.id })).find((p) => p.name === 'adt-feed')!;
    await waitForPort(2575, 30_000);

    // The outsider signs in: no workspace of his own, and he may not create one himself.
    await admin.users.create.mutate({ username: 'mallory', password: 'mallory-password-1' });
    const mallory = client(port);
    await mallory.auth.login.mutate({ username: 'mallory', password: 'mallory-password-1' });
    expect(await mallory.workspaces.list.query()).toEqual([]);
    expect(await code(mallory.workspaces.create.mutate({ name: 'Mallory Ltd' }))).toBe('FORBIDDEN');
    expect(await code(mallory.projects.list.query({ workspaceId: demoWs.id }))).toBe('NOT_FOUND');

    // A global admin gives him a workspace; he builds a production also called adt-feed.
    const ws = await admin.workspaces.create.mutate({ name: 'Mallory Ltd' });
    await admin.workspaces.setMember.mutate({ workspaceId: ws.id, username: 'mallory', role: 'admin' });
    const mPort = await freePort();
    const spec = {
      name: 'adt-feed',
      items: [
        { name: 'ADT In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: mPort } },
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' } },
        { name: 'ADT Files', type: 'file.out', settings: { directory: './out/mallory' } },
      ],
      connections: [
        { from: 'ADT In', to: 'Route' },
        { from: 'Route', to: 'ADT Files' },
      ],
    };
    const mine = await mallory.projects.create.mutate({ workspaceId: ws.id, name: 'adt-feed', spec });
    // No name squatting: his deploy runs beside the demo, and the owner can still redeploy hers.
    await mallory.production.deploy.mutate({ projectId: mine.id });
    await admin.production.deploy.mutate({ projectId: demo.id });
    await waitForPort(mPort, 30_000);

    // One message each. The demo's ADT also goes to its downstream system, stopped here, so it
    // stays unfinished (retrying) — what recovery replays after a restart.
    await admin.production.itemStop.mutate({ projectId: demo.id, item: 'Downstream System' });
    const sentDemo = await hieExec(['send', '--port', '2575', path.join(repoRoot, 'examples/messages/adt-a01.hl7')]);
    expect(sentDemo.output).toContain('AA');
    const hisFile = path.join(cwd, 'mallory.hl7');
    await writeFile(hisFile, 'MSH|^~\\&|M|M|M|M|20240101000000||ADT^A01|MAL-1|P|2.5\rPID|1||MAL-PID^^^M^MR||Mallory^Own\r');
    const sentHis = await hieExec(['send', '--port', String(mPort), hisFile]);
    expect(sentHis.output).toContain('AA MAL-1');

    const demoMsg = await until(
      () => admin.messages.search.query({ projectId: demo.id, controlId: '22139243', item: 'ADT In' }),
      (r) => r.items.length === 1,
    );
    const demoId = demoMsg.items[0].id;
    await until(
      () => mallory.messages.search.query({ projectId: mine.id }),
      (r) => r.items.length === 1,
    );

    // By id, patient id and body text, the outsider finds nothing of the demo's.
    const his = await mallory.messages.search.query({ projectId: mine.id });
    expect(his.items.map((m) => m.controlId)).toEqual(['MAL-1']);
    expect((await mallory.messages.search.query({ projectId: mine.id, patientId: '2216506' })).items).toEqual([]);
    const byText = await until(
      () => mallory.messages.search.query({ projectId: mine.id, text: 'Mallory^Own' }),
      (r) => r.items.length === 1,
    );
    expect(byText.items).toHaveLength(1); // text search works…
    expect((await mallory.messages.search.query({ projectId: mine.id, text: 'Duck^Donald' })).items).toEqual([]); // …inside his project only
    expect(await code(mallory.messages.get.query({ projectId: mine.id, id: demoId }))).toBe('NOT_FOUND');
    expect(await code(mallory.messages.get.query({ projectId: demo.id, id: demoId }))).toBe('NOT_FOUND');
    expect(await code(mallory.messages.resend.mutate({ projectId: mine.id, id: demoId, toItem: 'Route' }))).toBe('NOT_FOUND');
    // And the owner sees only hers.
    const owner = await admin.messages.search.query({ projectId: demo.id, text: 'Duck^Donald' });
    expect(owner.items.map((m) => m.id)).toEqual([demoId]);
    expect(owner.items.map((m) => m.id)).not.toContain(his.items[0].id);
    expect((await admin.messages.search.query({ projectId: demo.id, controlId: 'MAL-1' })).items).toEqual([]);

    // Restart: recovery replays the demo's unfinished message into the demo only.
    await stop();
    await start();
    const replayed = await until(
      () => admin.messages.get.query({ projectId: demo.id, id: demoId }),
      (m) => m.trace.some((e) => e.event === 'completed'),
    );
    expect(replayed.trace.map((e) => e.event)).toContain('completed');
    await until(
      () => mallory.production.status.query({ projectId: mine.id }),
      (s) => (s as { running?: { items: unknown[] } }).running?.items.length === 3,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const files = await readdir(path.join(cwd, 'out/mallory'));
    expect(files).toHaveLength(1); // his own message, never the demo's
    expect((await mallory.messages.search.query({ projectId: mine.id })).items.map((m) => m.controlId)).toEqual(['MAL-1']);
  }, 180_000);
});
