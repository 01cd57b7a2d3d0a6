import { expect, type Locator, type Page } from '@playwright/test';

/** An item node on the designer canvas. */
export function node(page: Page, name: string): Locator {
  return page.getByTestId(`node-${name}`);
}

/** Drags from one node's output handle to another's input handle (the way a user wires). */
export async function connect(page: Page, from: string, to: string) {
  const source = node(page, from).locator('.react-flow__handle.source');
  const target = node(page, to).locator('.react-flow__handle.target');
  const a = (await source.boundingBox())!;
  const b = (await target.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Selects a node and waits for the inspector to show it. */
export async function selectNode(page: Page, name: string) {
  await node(page, name).locator('.name').click();
  await expect(page.getByTestId('inspector').getByRole('heading', { level: 2 })).toHaveText(name);
}
