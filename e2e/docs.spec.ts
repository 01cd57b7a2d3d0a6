/**
 * The manual at /docs, as people use it: readable before signing in, searchable offline, and one
 * click away from every item type's inspector.
 */
import { expect, test } from '@playwright/test';
import { adminPassword, login } from './support/hie';

test('the manual renders at /docs and its search finds "retention"', async ({ page }) => {
  const external: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') external.push(r.url());
  });
  await page.goto('/docs');
  await expect(page.getByRole('heading', { level: 1, name: 'HIE manual' })).toBeVisible();
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Operations guide' })).toBeVisible();

  await page.getByLabel('Search the manual').fill('retention');
  const results = page.getByRole('list', { name: 'Search results' });
  await expect(results.getByRole('link').first()).toBeVisible();
  const first = results.getByRole('link').first();
  await first.click();
  await expect(page.locator('article')).toContainText(/retention/i);

  // Links between pages work, and the generated reference is there.
  await page.goto('/docs');
  await page.locator('article').getByRole('link', { name: 'Metrics', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Metrics reference (Prometheus)');
  expect(external, 'the manual loads nothing from outside').toEqual([]);
});

test('every item type in the palette links to its reference page from the inspector', async ({ page, context }) => {
  test.setTimeout(300_000);
  await login(page, 'admin', adminPassword());
  // A project of our own to drop every type into.
  const ws = `Docs ${Date.now().toString(36)}`;
  await page.getByTestId('create-workspace').click();
  const dialog = page.getByTestId('prompt-dialog');
  await dialog.getByLabel('Name').fill(ws);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId(`workspace-${ws}`).getByRole('link', { name: 'Open' }).click();
  await page.getByTestId('create-project').click();
  await dialog.getByLabel('Name').fill('docs-links');
  await dialog.getByRole('button', { name: 'Create and open' }).click();
  await expect(page.getByTestId('designer')).toBeVisible({ timeout: 60_000 });

  const palette = page.locator('[data-testid^="palette-"]');
  const types = (await palette.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('palette-'.length)))).filter((t) => /^[a-z0-9]+(\.[a-z0-9]+)+$/.test(t));
  expect(types.length).toBeGreaterThanOrEqual(8);
  const canvas = page.getByTestId('canvas');
  for (const type of types) {
    // One node at a time (then deleted), where the inspector does not cover it.
    await page.getByTestId(`palette-${type}`).dragTo(canvas, { targetPosition: { x: 160, y: 200 } });
    const nodes = page.locator('.react-flow__node');
    await expect(nodes).toHaveCount(1);
    await nodes.first().locator('.name').click();
    const inspector = page.getByTestId('inspector');
    const help = inspector.getByTestId('item-type-help');
    await expect(help).toBeVisible();
    const href = await help.getAttribute('href');
    expect(href).toBe(`/docs/reference/item-types/${type.replace(/[^a-z0-9]+/g, '-')}`);
    const res = await page.request.get(href!);
    expect(res.status(), href!).toBe(200);
    expect(await res.text()).toContain(`<code>${type}</code>`);
    if (type !== types[types.length - 1]) {
      await inspector.getByRole('button', { name: /^Delete / }).click();
      await expect(nodes).toHaveCount(0);
    }
  }
  // And as a person clicks it: a new tab with the page.
  const [tab] = await Promise.all([context.waitForEvent('page'), page.getByTestId('inspector').getByTestId('item-type-help').click()]);
  await expect(tab.getByRole('heading', { level: 2, name: 'Settings' })).toBeVisible();
});
