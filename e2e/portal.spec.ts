/**
 * The portal as a new user meets it, against a real `hie start`: log in, build a production in
 * the designer (MLLP in → router → file out), configure it, save, deploy, send messages over
 * MLLP, watch counters and the dashboard move, find a message, follow its trace, resend it, find
 * all of it in the audit trail, and check that a viewer cannot change anything.
 */
import { expect, test, type Page } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { connect, node, selectNode } from './support/designer';
import { adminPassword, adtA01, artifact, e2eDir, hieSend, login, mllpPort, watchConsole } from './support/hie';

test.describe.configure({ mode: 'serial' });

const run = Math.random().toString(36).slice(2, 7);
const workspaceName = `E2E ${run}`;
const projectName = `e2e-flow-${run}`;
const viewerName = `viewer-${run}`;
const viewerPassword = `pw-${run}-viewer-password`;
const outsiderName = `outsider-${run}`;
const outsiderPassword = `pw-${run}-outsider-password`;
const controlPrefix = `E2E${run.toUpperCase()}`;
let projectUrl = '';

async function shot(page: Page, name: string) {
  await page.screenshot({ path: artifact(`${name}.png`) });
}

test('an analyst designs, deploys and watches a production', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  const outDir = e2eDir(`out-${run}`);
  const port = mllpPort();

  await test.step('log in', async () => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByRole('heading', { name: 'Sign in to HIE' })).toBeVisible();
    await shot(page, '01-login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('login-error')).toBeVisible();
    errors.length = 0; // the refused login is a 401 in the console, on purpose
    await page.getByLabel('Password').fill(adminPassword());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Workspaces' })).toBeVisible();
    await expect(page.getByTestId('current-user')).toContainText(/admin/i);
  });

  await test.step('create a workspace and a project', async () => {
    await page.getByTestId('create-workspace').click();
    const dialog = page.getByTestId('prompt-dialog');
    await dialog.getByLabel('Name').fill(workspaceName);
    await dialog.getByRole('button', { name: 'Create' }).click();
    const card = page.getByTestId(`workspace-${workspaceName}`);
    await expect(card).toBeVisible();
    await shot(page, '02-workspaces');
    await card.getByRole('link', { name: 'Open' }).click();
    await expect(page.getByText('No projects yet — create one')).toBeVisible();
    await page.getByTestId('create-project').click();
    await dialog.getByLabel('Name').fill(projectName);
    await dialog.getByRole('button', { name: 'Create and open' }).click();
    await expect(page.getByTestId('designer')).toBeVisible();
    await expect(page.getByTestId('canvas-empty')).toBeVisible();
    projectUrl = new URL(page.url()).pathname;
  });

  await test.step('drag MLLP in → router → file out onto the canvas and wire them', async () => {
    const canvas = page.getByTestId('canvas');
    await page.getByTestId('palette-hl7.mllp.in').dragTo(canvas, { targetPosition: { x: 140, y: 220 } });
    await expect(node(page, 'MLLP In 1')).toBeVisible();
    await page.getByTestId('palette-hl7.router').dragTo(canvas, { targetPosition: { x: 400, y: 220 } });
    await expect(node(page, 'Router 1')).toBeVisible();
    await page.getByTestId('palette-file.out').dragTo(canvas, { targetPosition: { x: 660, y: 220 } });
    await expect(node(page, 'File Out 1')).toBeVisible();
    // A file writer without a directory is invalid: the node says so before anything is saved.
    await expect(node(page, 'File Out 1').getByTestId('node-problems')).toBeVisible();
    await connect(page, 'MLLP In 1', 'Router 1');
    await connect(page, 'Router 1', 'File Out 1');
    await expect(page.locator('.react-flow__edge')).toHaveCount(2);
    // Undo removes the last connection, redo brings it back.
    await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    await page.keyboard.press('Control+z');
    await expect(page.locator('.react-flow__edge')).toHaveCount(1);
    await page.keyboard.press('Control+Shift+z');
    await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  });

  await test.step('configure the listener, including common settings', async () => {
    await selectNode(page, 'MLLP In 1');
    const inspector = page.getByTestId('inspector');
    await inspector.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await inspector.getByLabel('Port', { exact: true }).fill(String(port));
    await inspector.getByLabel('Workers', { exact: true }).fill('2');
    await inspector.getByLabel('Queue size', { exact: true }).fill('500');
    await inspector.getByLabel('Overflow strategy', { exact: true }).selectOption('reject_new');
    await inspector.getByLabel('Restart policy', { exact: true }).selectOption('always');
    await inspector.getByLabel('Max restarts', { exact: true }).fill('3');
    await inspector.getByLabel('Message timeout (ms)', { exact: true }).fill('10000');
    await inspector.getByLabel('Circuit breaker enabled', { exact: true }).check();
    await inspector.getByLabel('Failure threshold', { exact: true }).fill('4');
    await inspector.getByLabel('Rate limit enabled', { exact: true }).check();
    await inspector.getByLabel('Rate (msg/s)', { exact: true }).fill('500');
    // A client-side check: a queue of 0 is refused inline, then fixed.
    await inspector.getByLabel('Queue size', { exact: true }).fill('0');
    await expect(inspector.getByTestId('item-problems')).toContainText('queue.size');
    await inspector.getByLabel('Queue size', { exact: true }).fill('500');
    await expect(inspector.getByTestId('item-problems')).toHaveCount(0);
  });

  await test.step('configure a routing rule and the file writer', async () => {
    await selectNode(page, 'Router 1');
    const inspector = page.getByTestId('inspector');
    await inspector.getByRole('button', { name: '+ Add rule' }).click();
    await inspector.getByLabel('Rule 1 name').fill('ADT to files');
    await inspector.getByLabel('Rule 1 field path').fill('MSH-9.1');
    await inspector.getByLabel('Rule 1 operator').selectOption('=');
    await inspector.getByLabel('Rule 1 value').fill('ADT');
    await expect(inspector.getByLabel('Rule 1 send to File Out 1')).toBeChecked();
    await shot(page, '03-designer-router');
    await selectNode(page, 'File Out 1');
    await page.getByTestId('inspector').getByRole('textbox', { name: 'Directory', exact: true }).fill(outDir);
    await page.getByTestId('inspector').getByLabel('Filename', { exact: true }).fill('{controlId}.hl7');
    await expect(page.getByTestId('problem-count')).toHaveCount(0);
    await shot(page, '03-designer-file-out');
  });

  await test.step('save a version and deploy it', async () => {
    await page.getByLabel('Save comment').fill('MLLP to files, ADT only');
    await page.getByTestId('save').click();
    await expect(page.getByText('Saved as version 2')).toBeVisible();
    await expect(page.getByTestId('version-state')).toContainText('v2');
    await page.getByRole('button', { name: 'Deploy v2' }).click();
    await expect(page.getByTestId('running-state')).toContainText('v2 running', { timeout: 45_000 });
    await expect(node(page, 'MLLP In 1')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  });

  await test.step('send messages; the node counters move', async () => {
    const out = await hieSend(port, [1, 2, 3].map((n) => adtA01(`${controlPrefix}-${n}`, `PAT${run}${n}`)), 'adt');
    expect(out).toContain('AA');
    await expect(node(page, 'MLLP In 1').getByTestId('node-processed')).toContainText(/^[1-9]\d* processed/, { timeout: 30_000 });
    await expect(node(page, 'File Out 1').getByTestId('node-processed')).toContainText(/^[1-9]\d* processed/, { timeout: 30_000 });
    await expect.poll(() => readdirSync(outDir).filter((f) => f.endsWith('.hl7')).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await shot(page, '04-designer-live');
  });

  await test.step('the dashboard moves', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const processed = page.getByTestId('kpi-processed').locator('.v');
    await expect(processed).toContainText(/[1-9]/);
    const before = Number((await processed.innerText()).replace(/\D/g, ''));
    await hieSend(port, [4, 5].map((n) => adtA01(`${controlPrefix}-${n}`, `PAT${run}${n}`)), 'adt');
    await expect.poll(async () => Number((await processed.innerText()).replace(/\D/g, '')), { timeout: 20_000 }).toBeGreaterThan(before);
    await expect(page.getByTestId('chart-throughput').locator('.recharts-line-curve').first()).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId('item-row-MLLP In 1').getByTestId('row-processed')).toContainText(/[1-9]/);
    await page.waitForTimeout(2500);
    await shot(page, '05-dashboard');
  });

  await test.step('find a message, read it, follow its trace and resend it', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    await expect(page.getByTestId('message-row').first()).toBeVisible();
    await page.getByLabel('Control ID').fill(`${controlPrefix}-2`);
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.getByTestId('message-row')).toHaveCount(1);
    await page.getByTestId('message-row').click();
    const detail = page.getByTestId('message-detail');
    await expect(detail.getByTestId('hl7-raw')).toContainText(`${controlPrefix}-2`);
    await detail.getByTestId('hl7-raw').locator('[data-path="PID-5.1"]').hover();
    await expect(detail.getByTestId('hl7-hover')).toContainText('PID-5.1 Patient Name › Family Name');
    await shot(page, '06-messages');
    await detail.getByRole('tab', { name: 'Parsed' }).click();
    await expect(detail.getByTestId('hl7-tree')).toContainText('Patient Name');
    await detail.getByRole('tab', { name: /Trace/ }).click();
    await expect(detail.getByTestId('trace-event').first()).toBeVisible();
    await expect(detail.getByTestId('trace-timeline')).toContainText('MLLP In 1');
    await expect(detail.getByTestId('trace-timeline')).toContainText('File Out 1');
    await shot(page, '07-message-trace');
    await detail.getByRole('tab', { name: 'Resend' }).click();
    await detail.getByLabel('Send to item').selectOption('Router 1');
    await detail.getByTestId('resend-submit').click();
    await expect(detail.getByTestId('resend-result')).toBeVisible();
    await expect.poll(() => readdirSync(outDir).filter((f) => f.startsWith(`${controlPrefix}-2`)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  });

  await test.step('every action is in the audit trail', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    for (const action of ['config.save', 'deployment.deploy', 'message.resend', 'message.view']) {
      await page.getByLabel('Action').fill(action);
      await page.getByRole('button', { name: 'Search' }).click();
      await expect(page.locator(`[data-testid="audit-row"][data-action="${action}"]`).first()).toBeVisible();
    }
    await page.getByLabel('Action').fill('config.save');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('audit-row').first().getByRole('button', { name: 'Changes' }).click();
    await expect(page.getByTestId('json-diff')).toBeVisible();
    await shot(page, '08-audit');
  });

  await test.step('an admin adds a viewer to the workspace', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('create-user').click();
    const dialog = page.getByTestId('user-dialog');
    await dialog.getByLabel('Username').fill(viewerName);
    await dialog.getByLabel('Display name').fill('Vera Viewer');
    await dialog.getByLabel('Password').fill(viewerPassword);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByTestId(`user-${viewerName}`)).toBeVisible();
    await page.getByLabel('Workspace', { exact: true }).selectOption({ label: workspaceName });
    const members = page.getByTestId('members-panel');
    await members.getByLabel('Username').fill(viewerName);
    await members.getByLabel('Role', { exact: true }).selectOption('viewer');
    await members.getByRole('button', { name: 'Set role' }).click();
    await expect(members.getByTestId(`member-${viewerName}`)).toBeVisible();
    await shot(page, '09-users');
    // Someone with an account but no role in this workspace (finding 1 of issue 9's outsider).
    await page.getByTestId('create-user').click();
    await dialog.getByLabel('Username').fill(outsiderName);
    await dialog.getByLabel('Display name').fill('Otto Outsider');
    await dialog.getByLabel('Password').fill(outsiderPassword);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByTestId(`user-${outsiderName}`)).toBeVisible();
  });

  expect(errors, 'console errors').toEqual([]);
});

test('a viewer can look but not change', async ({ browser }) => {
  test.skip(!projectUrl, 'needs the project of the first test');
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchConsole(page);
  await login(page, viewerName, viewerPassword);
  await page.goto(projectUrl);
  await expect(page.getByTestId('read-only-banner')).toBeVisible();
  await expect(page.getByTestId('save')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Deploy/ })).toHaveCount(0);
  await expect(page.getByTestId('palette-hl7.mllp.in')).toBeDisabled();
  await selectNode(page, 'MLLP In 1');
  await expect(page.getByTestId('inspector').getByLabel('Port', { exact: true })).toBeDisabled();
  await expect(page.getByTestId('inspector').getByLabel('Queue size', { exact: true })).toBeDisabled();
  // Delete does nothing for a viewer.
  await page.keyboard.press('Delete');
  await expect(node(page, 'MLLP In 1')).toBeVisible();
  await shot(page, '10-viewer-designer');
  // And the API refuses a change even when asked directly.
  const projectId = projectUrl.split('/').pop()!;
  const res = await page.request.post('/api/trpc/projects.update', { data: { id: projectId, description: 'hacked' } });
  expect(res.status()).toBe(403);
  expect(errors, 'console errors').toEqual([]);
  await context.close();
});

test('an outsider sees nothing of the workspace, its project or its messages', async ({ browser }) => {
  test.skip(!projectUrl, 'needs the project of the first test');
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, outsiderName, outsiderPassword);
  // No workspace of his, and none he can make himself (self-service is off by default).
  await expect(page.getByRole('heading', { name: 'Workspaces' })).toBeVisible();
  await expect(page.getByTestId(`workspace-${workspaceName}`)).toHaveCount(0);
  await expect(page.getByTestId('workspace-Demo')).toHaveCount(0);
  await shot(page, '11-outsider-workspaces');
  // The project's pages by URL show nothing of it.
  await page.goto(`${projectUrl}/messages`);
  await expect(page.getByTestId('message-row')).toHaveCount(0);
  await expect(page.getByText(controlPrefix)).toHaveCount(0);
  await shot(page, '12-outsider-messages');
  // And the API answers as if the project did not exist, for its messages by patient id and text too.
  const projectId = projectUrl.split('/').pop()!;
  for (const input of [{ projectId }, { projectId, patientId: `PAT${run}1` }, { projectId, text: controlPrefix }]) {
    const res = await page.request.get(`/api/trpc/messages.search?input=${encodeURIComponent(JSON.stringify(input))}`);
    expect(res.status()).toBe(404);
    expect(await res.text()).not.toContain(controlPrefix);
  }
  const created = await page.request.post('/api/trpc/workspaces.create', { data: { name: `Outsider ${run}` } });
  expect(created.status()).toBe(403);
  await context.close();
});
