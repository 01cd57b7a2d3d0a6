/**
 * Issue 14, point 1, as an analyst uses it against a real `hie start`: test an ADT message
 * through the demo project before deploying, and see on the canvas the path it took and the rule
 * that matched; then save it as a test case and watch the case turn red when a rule is changed to
 * break it (and green again when fixed).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type APIResponse, type Locator, type Page } from '@playwright/test';
import { adminPassword, adtA01, artifact, login, repoRoot, watchConsole } from './support/hie';

test.describe.configure({ mode: 'serial' });

const run = Math.random().toString(36).slice(2, 7);

/** The React Flow wrapper of an item's node (it carries the test run's classes). */
function flowNode(page: Page, name: string): Locator {
  return page.locator('.react-flow__node', { has: page.getByTestId(`node-${name}`) });
}

async function trpcData<T>(res: APIResponse): Promise<T> {
  expect(res.ok(), await res.text()).toBe(true);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

async function openDemoDesigner(page: Page): Promise<string> {
  await page.goto('/');
  await page.getByTestId('workspace-Demo').getByRole('link', { name: 'Open' }).click();
  await page.getByTestId('project-adt-feed').getByRole('link', { name: 'adt-feed' }).click();
  // The first project page of a fresh start is slow on a busy machine.
  await expect(page.getByTestId('designer')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('node-Route')).toBeVisible();
  return new URL(page.url()).pathname;
}

test('test an ADT message through the demo before deploy: the path and the matched rule on the canvas', async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, 'admin', adminPassword());
  await openDemoDesigner(page);

  await page.getByTestId('open-test').click();
  const panel = page.getByTestId('test-panel');
  await expect(panel).toBeVisible();
  await panel.getByLabel('Message', { exact: true }).fill(adtA01(`SBX${run}`, `PAT${run}`).replace(/\r/g, '\n'));
  await panel.getByTestId('test-run').click();

  const steps = panel.getByTestId('test-step');
  await expect(steps).toHaveCount(4);
  await expect(steps.nth(0)).toHaveAttribute('data-item', 'ADT In');
  await expect(panel.locator('[data-testid="test-step"][data-item="Route"]').getByTestId('test-matched-rule')).toContainText('ADT to files and downstream');
  const files = panel.locator('[data-testid="test-step"][data-item="ADT Files"]');
  await expect(files).toHaveAttribute('data-outcome', 'would_send');
  await expect(files.getByTestId('test-would-send')).toContainText(`${path.join(repoRoot, 'out/adt')}`);
  const downstream = panel.locator('[data-testid="test-step"][data-item="Downstream Out"]');
  await expect(downstream.getByTestId('test-would-send')).toContainText('mllp://127.0.0.1:2576');
  await expect(downstream.getByTestId('test-would-send')).toContainText(/\d+ bytes/);

  // On the canvas: the path is outlined, what the message did not touch is dimmed, and the
  // router's connections carry the rule that matched.
  for (const name of ['ADT In', 'Route', 'ADT Files', 'Downstream Out']) await expect(flowNode(page, name)).toHaveClass(/test-on/);
  for (const name of ['ORU Files', 'Downstream System']) await expect(flowNode(page, name)).toHaveClass(/test-off/);
  await expect(page.locator('.react-flow__edge-text', { hasText: 'rule: ADT to files and downstream' })).toHaveCount(2);
  await page.screenshot({ path: artifact('workbench-01-test-path.png') });

  // An ORU takes the other rule.
  const oru = readFileSync(path.join(repoRoot, 'examples/messages/oru-r01.hl7'), 'latin1');
  await panel.getByLabel('Message', { exact: true }).fill(oru);
  await panel.getByTestId('test-run').click();
  await expect(panel.locator('[data-testid="test-step"][data-item="ORU Files"]')).toHaveAttribute('data-outcome', 'would_send');
  await expect(flowNode(page, 'ADT Files')).toHaveClass(/test-off/);
  await expect(page.locator('.react-flow__edge-text', { hasText: 'rule: Results to files' })).toHaveCount(1);
  expect(errors, 'console errors').toEqual([]);
});

test('a saved test case turns red when a rule is changed to break it', async ({ page }) => {
  const errors = watchConsole(page);
  await login(page, 'admin', adminPassword());
  await openDemoDesigner(page);
  // A copy of the demo, so the demo itself stays as it is.
  const demoId = new URL(page.url()).pathname.split('/').pop()!;
  const demo = await trpcData<{ project: { workspaceId: string }; version: { spec: Record<string, unknown> } }>(
    await page.request.get(`/api/trpc/projects.get?input=${encodeURIComponent(JSON.stringify({ id: demoId }))}`),
  );
  const spec = JSON.parse(readFileSync(path.join(repoRoot, 'examples/adt-feed.json'), 'utf8')) as { rules?: unknown; items: { name: string; settings: Record<string, unknown> }[] };
  const created = await trpcData<{ id: string }>(
    await page.request.post('/api/trpc/projects.create', { data: { workspaceId: demo.project.workspaceId, name: `golden-${run}`, spec: { ...spec, name: `golden-${run}` } } }),
  );
  await page.goto(`/p/${created.id}`);
  await expect(page.getByTestId('node-Route')).toBeVisible();

  await page.getByTestId('open-test').click();
  const panel = page.getByTestId('test-panel');
  await panel.getByRole('radio', { name: 'Corpus sample' }).check();
  await panel.getByLabel('Sample message').selectOption({ label: 'ADT^A01 admit (v2.4, HAPI)' });
  await panel.getByTestId('test-run').click();
  await expect(panel.locator('[data-testid="test-step"][data-item="Route"]').getByTestId('test-matched-rule')).toContainText('ADT to files and downstream');
  await panel.getByLabel('Test case name').fill('ADT admit goes to files and downstream');
  await panel.getByTestId('test-save-case').click();
  const testCase = panel.locator('[data-testid="test-case"][data-name="ADT admit goes to files and downstream"]');
  await expect(testCase).toHaveAttribute('data-status', 'passed');
  await expect(testCase.locator('.badge')).toHaveText('pass');

  // Someone narrows the ADT rule to A04/A08 (through the API, as a CI job or a colleague would).
  const current = await trpcData<{ project: { currentVersion: number }; version: { spec: { items: { name: string; settings: { rules: { when: { and: { values?: string[] }[] } }[] } }[] } } }>(
    await page.request.get(`/api/trpc/projects.get?input=${encodeURIComponent(JSON.stringify({ id: created.id }))}`),
  );
  const broken = structuredClone(current.version.spec);
  broken.items.find((i) => i.name === 'Route')!.settings.rules[0].when.and[1].values = ['A04', 'A08'];
  const saved = await trpcData<{ version: number; tests?: { passed: number; failed: number } }>(
    await page.request.post('/api/trpc/projects.save', { data: { id: created.id, baseVersion: current.project.currentVersion, spec: broken } }),
  );
  expect(saved.tests).toEqual({ passed: 0, failed: 1 });

  // The designer shows red before anyone deploys it.
  await page.reload();
  await page.getByTestId('open-test').click();
  await expect(testCase).toHaveAttribute('data-status', 'failed');
  await expect(testCase.locator('.badge')).toHaveText('fail');
  await expect(testCase).toContainText('ADT Files: expected 1 message sent, got 0');
  await page.screenshot({ path: artifact('workbench-02-test-case-red.png') });

  // Run it: the canvas shows where the message stops now.
  await testCase.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(flowNode(page, 'Route')).toHaveClass(/test-discarded/);
  await expect(flowNode(page, 'ADT Files')).toHaveClass(/test-off/);
  expect(errors, 'console errors').toEqual([]);
});
