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

/** Whether the middle of the element is the element itself (or inside it): not hidden under a sticky header or clipped away. */
function underPointer(loc: Locator): Promise<boolean> {
  return loc.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return hit !== null && el.contains(hit);
  });
}

/**
 * Drags `source` onto `target` with the mouse (HTML5 drag and drop), as a person would: with both
 * in sight first. The target is brought into view, then the source to the middle of its own scroll
 * box (the sample tree), and both must be what is under the pointer at their middles: Chromium
 * starts a drag from whatever is under the pointer where the button went down, so a source behind
 * the inspector's sticky header, or a panel scrolled between the press and the first move, would
 * drag something else.
 */
export async function dragOnto(source: Locator, target: Locator) {
  if (!(await underPointer(target))) await target.evaluate((el) => el.scrollIntoView({ block: 'end' }));
  await source.evaluate((el) => {
    let box = el.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
    if (box) box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 2;
  });
  if (!(await underPointer(target))) await target.evaluate((el) => el.scrollIntoView({ block: 'nearest' }));
  await expect.poll(() => underPointer(source), { message: 'the dragged element is in sight, under the pointer' }).toBe(true);
  await expect.poll(() => underPointer(target), { message: 'the drop target is in sight, under the pointer' }).toBe(true);
  await source.dragTo(target);
}
