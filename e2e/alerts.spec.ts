/**
 * Alerts and truthful status in the portal, against a real `hie start`: a production whose sender
 * cannot reach its downstream reads amber ("degraded"), with a retrying ring on the node and the
 * error at the top of the inspector; one whose listener cannot start reads red ("failed"). Then an
 * analyst creates an alert on the Alerts page, sees it in the list, sends a test notice to a real
 * webhook receiver and finds it in the history.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { adminPassword, adtA01, artifact, freePort, hieSend, login } from './support/hie';

test.describe.configure({ mode: 'serial' });

const run = Math.random().toString(36).slice(2, 7);

/** Calls a tRPC procedure over HTTP with the page's session (set-up the journey is not about). */
async function call<T>(request: APIRequestContext, path: string, input: unknown): Promise<T> {
  const res = await request.post(`/api/trpc/${path}`, { data: input });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!res.ok() || !body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

async function deployed(page: Page, workspaceId: string, name: string, items: unknown[], connections: unknown[]): Promise<string> {
  const project = await call<{ id: string }>(page.request, 'projects.create', { workspaceId, name, spec: { name, items, connections } });
  await call(page.request, 'production.deploy', { projectId: project.id });
  return project.id;
}

let hook: Server;
const notices: Record<string, unknown>[] = [];
let taken: net.Server;

test.beforeAll(async () => {
  hook = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      notices.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
});
test.afterAll(async () => {
  await new Promise<void>((r) => hook.close(() => r()));
  await new Promise<void>((r) => taken.close(() => r()));
});

test('a production with a failing item is amber or red, never green; an alert is created and tested in the portal', async ({ page }) => {
  test.setTimeout(240_000);
  await login(page, 'admin', adminPassword());
  const ws = await call<{ id: string }>(page.request, 'workspaces.create', { name: `Alerts ${run}` });
  const inPort = await freePort();
  const closedPort = await freePort();
  const degradedId = await deployed(
    page,
    ws.id,
    `lab-${run}`,
    [
      { name: 'Lab In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: inPort }, position: { x: 80, y: 160 } },
      { name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: closedPort }, messaging: { retryDelayMs: 200, retryMaxDelayMs: 1000 }, position: { x: 420, y: 160 } },
    ],
    [{ from: 'Lab In', to: 'Lab Out' }],
  );

  await test.step('amber: the sender retries against a downstream that is away', async () => {
    await page.goto(`/p/${degradedId}`);
    await expect(page.getByTestId('node-Lab In').getByTestId('node-ring')).toHaveAttribute('data-ring', 'listening');
    expect(await hieSend(inPort, [adtA01(`AL${run}1`, `P${run}`)], `alerts-${run}`)).toContain('AA');
    const state = page.getByTestId('running-state');
    await expect(state).toContainText('degraded');
    await expect(state).toHaveClass(/degraded/);
    await expect(state).not.toHaveClass(/running/);
    await expect(page.getByTestId('node-Lab Out').getByTestId('node-ring')).toHaveAttribute('data-ring', 'retrying');
    await page.getByTestId('node-Lab Out').locator('.name').click();
    const banner = page.getByTestId('inspector').getByTestId('item-runtime-error');
    await expect(banner).toContainText('Retrying');
    // At the top of the inspector: above every setting.
    const bannerBox = (await banner.boundingBox())!;
    const firstField = (await page.getByTestId('inspector').locator('input, select').first().boundingBox())!;
    expect(bannerBox.y).toBeLessThan(firstField.y);
    await page.screenshot({ path: artifact('alerts-01-degraded.png') });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect(page.getByTestId('kpi-state')).toContainText('degraded');
    await expect(page.getByTestId('production-problems')).toContainText('Lab Out retrying');
  });

  await test.step('red: a listener that cannot start', async () => {
    const takenPort = (taken.address() as AddressInfo).port;
    const failedId = await deployed(page, ws.id, `busy-${run}`, [{ name: 'Busy In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: takenPort }, restart: { policy: 'never' }, position: { x: 80, y: 160 } }], []);
    await page.goto(`/p/${failedId}`);
    const state = page.getByTestId('running-state');
    await expect(state).toContainText('failed', { timeout: 60_000 });
    await expect(state).toHaveClass(/failed/);
    await expect(page.getByTestId('node-Busy In').getByTestId('node-ring')).toHaveAttribute('data-ring', 'failed');
    await page.screenshot({ path: artifact('alerts-02-failed.png') });
  });

  await test.step('create an alert on the Alerts page and see it in the list', async () => {
    await page.goto(`/p/${degradedId}`);
    await page.getByRole('link', { name: 'Alerts' }).click();
    await expect(page.getByRole('heading', { name: 'Alerts', level: 1 })).toBeVisible();
    await page.getByTestId('alert-new').click();
    const dialog = page.getByTestId('alert-dialog');
    await dialog.getByLabel('Name').fill('Lab system unreachable');
    await dialog.getByLabel('Condition').selectOption('item_down');
    await dialog.getByLabel('Item (empty: every item)').fill('Lab Out');
    await dialog.getByLabel('Webhook URL').fill(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`);
    await dialog.getByTestId('alert-save').click();
    const row = page.locator('[data-testid="alert-row"][data-alert-name="Lab system unreachable"]');
    await expect(row).toBeVisible();
    await expect(row).toContainText('Failed, restarting or retrying · Lab Out');
    await expect(row).toContainText('Webhook');
    await page.screenshot({ path: artifact('alerts-03-list.png') });
  });

  await test.step('the rule fires on the outage (the evaluator of hie start), and a test notice lands in the history', async () => {
    await expect.poll(() => notices.some((n) => n.event === 'fired' && n.subject === 'Lab Out'), { timeout: 90_000 }).toBe(true);
    const row = page.locator('[data-testid="alert-row"][data-alert-name="Lab system unreachable"]');
    await row.getByRole('button', { name: 'Send test' }).click();
    await expect.poll(() => notices.some((n) => n.event === 'test')).toBe(true);
    const history = page.getByTestId('alert-history');
    await expect(history.getByTestId('alert-history-row').filter({ hasText: 'test' })).toBeVisible();
    await expect(history.getByTestId('alert-history-row').filter({ hasText: 'fired' })).toContainText('Lab Out is retrying deliveries');
    await page.screenshot({ path: artifact('alerts-04-history.png') });
  });
});
