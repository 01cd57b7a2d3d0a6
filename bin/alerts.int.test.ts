/**
 * Alerts end to end (issue 13 point 3) on a real `hie start` (manager + engine + PostgreSQL): a
 * downstream MLLP system goes away, and the "item down" rule sends exactly one webhook (a real
 * HTTP receiver) and one e-mail (a real SMTP server), then one resolve notice on each when it
 * comes back. Meanwhile the production reads `degraded`, never `running`.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@hie/manager';
import { openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, tempDir, until, waitForPort } from '../apps/engine/src/testing/helpers';
import { connectMllp } from '../apps/engine/src/testing/mllp-client';
import { MllpDownstream } from '../apps/engine/src/testing/mllp-downstream';
import { mailReceiver, webhookReceiver, type MailReceiver, type WebhookReceiver } from '../apps/manager/src/testing/alert-receivers';

let cookie = '';
const jarFetch = async (input: string | URL | Request, init?: RequestInit) => {
  const headers = new Headers(init?.headers);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(input, { ...init, headers });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('hie_session='));
  if (set) cookie = set.split(';')[0];
  return res;
};

const adt = (id: string) => `MSH|^~\\&|PAS|ROYAL|LAB|ROYAL|20260501120000||ADT^A01|${id}|P|2.5.1\rPID|1||PAT1^^^ROYAL^MR||DOE^JANE\r`;

describe('hie start: alerts on a downstream outage', () => {
  let db: TestStore;
  let child: ReturnType<typeof hie>;
  let port: number;
  let api: ReturnType<typeof createTRPCClient<AppRouter>>;
  let hook: WebhookReceiver;
  let mail: MailReceiver;

  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_alerts' });
    hook = await webhookReceiver();
    mail = await mailReceiver();
    port = await freePort();
    child = hie(['start'], {
      cwd: await tempDir(),
      env: { DATABASE_URL: db.databaseUrl!, HIE_PORT: String(port), HIE_HOST: '127.0.0.1', HIE_ADMIN_PASSWORD: 'test-admin-pw', HIE_PORTAL: 'off', HIE_DEMO: '0', HIE_ALERT_INTERVAL_MS: '250' },
    });
    await waitForPort(port, 60_000);
    api = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `http://127.0.0.1:${port}/api/trpc`, fetch: jarFetch })] });
  }, 90_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child) await new Promise((r) => child.on('exit', r));
    await hook?.close();
    await mail?.close();
    await db?.cleanup();
  });

  it('exactly one webhook and one e-mail when the downstream stops, one resolve notice on each when it returns', async () => {
    const inPort = await freePort();
    const downstream = new MllpDownstream(await freePort());
    await downstream.up();
    await api.auth.login.mutate({ username: 'admin', password: 'test-admin-pw' });
    const ws = await api.workspaces.create.mutate({ name: 'Alerts Trust' });
    const spec = {
      name: 'lab-feed',
      items: [
        { name: 'Lab In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: inPort } },
        { name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: downstream.port }, messaging: { retryDelayMs: 100, retryMaxDelayMs: 300 } },
      ],
      connections: [{ from: 'Lab In', to: 'Lab Out' }],
    };
    const { id: projectId } = await api.projects.create.mutate({ workspaceId: ws.id, name: 'lab-feed', spec });
    await api.production.deploy.mutate({ projectId });
    await waitForPort(inPort, 30_000);
    await api.alerts.create.mutate({
      projectId,
      name: 'Lab system unreachable',
      condition: { kind: 'item_down', item: 'Lab Out' },
      channels: [
        { kind: 'webhook', url: hook.url },
        { kind: 'email', host: '127.0.0.1', port: mail.port, secure: false, from: 'hie@trust.example', to: ['integration-oncall@trust.example'] },
      ],
      repeatMinutes: 60,
    });

    const client = await connectMllp(inPort);
    expect(await client.send(adt('A1'))).toContain('MSA|AA|A1');
    await until(() => downstream.received.includes('A1'), 20_000);
    // The node reports about every second: wait for a report after the delivery.
    await until(async () => (await api.production.status.query({ projectId })).running?.state === 'running', 20_000);

    await downstream.down();
    expect(await client.send(adt('A2'))).toContain('MSA|AA|A2');
    await until(() => hook.received.length >= 1 && mail.received.length >= 1, 30_000);
    expect(hook.received[0]).toMatchObject({ event: 'fired', subject: 'Lab Out', project: { id: projectId, name: 'lab-feed' }, rule: { name: 'Lab system unreachable', condition: 'item_down' } });
    expect(mail.received[0]).toMatchObject({ to: ['integration-oncall@trust.example'], subject: '[HIE FIRING] lab-feed: Lab system unreachable (Lab Out)' });
    // No patient data in a notice.
    expect(JSON.stringify(hook.received[0])).not.toContain('DOE');
    expect(mail.received[0].text).not.toContain('DOE');
    const during = await api.production.status.query({ projectId });
    expect(during.running).toMatchObject({ state: 'degraded', problems: [{ item: 'Lab Out', problem: 'retrying' }] });
    // Let the evaluator run several more times during the outage: it must not send again.
    await waitTicks(api, projectId, 4);

    await downstream.up();
    await until(() => downstream.received.includes('A2'), 30_000);
    await until(() => hook.received.length >= 2 && mail.received.length >= 2, 30_000);
    await waitTicks(api, projectId, 4);
    expect(hook.received.map((n) => n.event)).toEqual(['fired', 'resolved']);
    expect(mail.received.map((m) => m.subject)).toEqual(['[HIE FIRING] lab-feed: Lab system unreachable (Lab Out)', '[HIE RESOLVED] lab-feed: Lab system unreachable (Lab Out)']);
    expect((await api.alerts.history.query({ projectId })).map((e) => e.event)).toEqual(['resolved', 'fired']);
    await until(async () => (await api.production.status.query({ projectId })).running?.state === 'running', 20_000);
    client.close();
  });
});

/**
 * Lets the evaluator (every 250 ms) run several times: waits for `n` new node status reports (the
 * node reports about every second), so at least `n` evaluations saw a fresh report.
 */
async function waitTicks(api: ReturnType<typeof createTRPCClient<AppRouter>>, projectId: string, n: number): Promise<void> {
  let seen = 0;
  let last = (await api.production.status.query({ projectId })).running?.heartbeatAt ?? 0;
  await until(async () => {
    const at = (await api.production.status.query({ projectId })).running?.heartbeatAt ?? 0;
    if (at !== last) {
      seen++;
      last = at;
    }
    return seen >= n;
  }, 30_000);
}
