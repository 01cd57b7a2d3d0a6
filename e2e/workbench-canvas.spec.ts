/**
 * Groups and notes on the designer canvas, as an analyst draws them: select two items, group
 * them, label the group in place, add a note, save, reload (both are still there, in the saved
 * version), then drag the group: the items inside it move with it, the one outside stays, and
 * the version history shows that change; a viewer sees them and cannot edit them.
 */
import { expect, test } from '@playwright/test';
import { adminPassword, call, login, query } from './support/hie';
import { node } from './support/designer';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface SavedSpec {
  items: { name: string; position?: { x: number; y: number } }[];
  canvas?: { groups?: (Box & { id: string; label: string })[]; notes?: { id: string; text: string; x: number; y: number }[] };
}

const run = Date.now().toString(36);

test('group two items, label the group, add a note, save, reload; moving the group moves its items', async ({ page, browser }) => {
  let projectId = '';
  let workspaceId = '';
  const saved = async () => (await query<{ version: { version: number; spec: SavedSpec } }>(page, 'projects.get', { id: projectId })).version;
  const group = page.locator('.react-flow__node-canvasGroup');
  const note = page.locator('.react-flow__node-canvasNote');

  await test.step('a project with two connected items and one far away', async () => {
    await login(page, 'admin', adminPassword());
    workspaceId = (await call<{ id: string }>(page, 'workspaces.create', { name: `Canvas ${run}` })).id;
    const spec = {
      name: 'lab-feed',
      items: [
        { name: 'Lab In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 }, position: { x: 80, y: 160 } },
        { name: 'Lab Out', type: 'file.out', settings: { directory: './out/canvas' }, position: { x: 420, y: 160 } },
        { name: 'Archive', type: 'file.out', settings: { directory: './out/archive' }, position: { x: 420, y: 520 } },
      ],
      connections: [
        { from: 'Lab In', to: 'Lab Out' },
        { from: 'Lab In', to: 'Archive' },
      ],
    };
    projectId = (await call<{ id: string }>(page, 'projects.create', { workspaceId, name: `canvas ${run}`, spec })).id;
    await page.goto(`/p/${projectId}`);
    await expect(node(page, 'Lab Out')).toBeVisible();
  });

  await test.step('select two items and group them; the group lists them', async () => {
    await node(page, 'Lab In').locator('.name').click();
    await node(page, 'Lab Out').locator('.name').click({ modifiers: ['Control'] });
    await expect(page.getByTestId('inspector').getByRole('heading', { level: 2 })).toHaveText('2 items selected');
    await page.getByTestId('add-group').click();
    await expect(group).toHaveCount(1);
    const inspector = page.getByTestId('inspector');
    await expect(inspector.getByRole('heading', { level: 2 })).toHaveText('Group');
    await expect(inspector.getByTestId('group-members')).toHaveText(/Lab In\s*Lab Out/);
  });

  await test.step('label the group in place (double-click)', async () => {
    await group.getByTestId('canvas-text').dblclick();
    const input = group.getByLabel('Group label');
    await input.fill('Lab feed');
    await input.press('Enter');
    await expect(page.getByTestId('group-Lab feed')).toBeVisible();
    await expect(page.getByTestId('inspector').getByLabel('Label')).toHaveValue('Lab feed');
  });

  await test.step('add a note and write in it', async () => {
    await page.getByTestId('add-note').click();
    await expect(note).toHaveCount(1);
    await note.getByTestId('canvas-text').dblclick();
    const text = note.getByLabel('Note text');
    await text.fill('Owned by the lab team.\nCall ext 4021.');
    await text.press('Control+Enter');
    await expect(note).toContainText('Owned by the lab team.');
  });

  await test.step('save, reload: the group and the note are there, in the saved version', async () => {
    await page.getByTestId('save').click();
    await expect(page.getByTestId('version-state')).toContainText('v2');
    await expect(page.getByTestId('version-state')).toContainText('saved');
    await page.reload();
    await expect(page.getByTestId('group-Lab feed')).toBeVisible();
    await expect(note).toContainText('Call ext 4021.');
    const v = await saved();
    expect(v.spec.canvas?.groups).toEqual([expect.objectContaining({ label: 'Lab feed' })]);
    expect(v.spec.canvas?.notes).toEqual([expect.objectContaining({ text: 'Owned by the lab team.\nCall ext 4021.' })]);
  });

  await test.step('drag the group: the items inside move as far as it, the one outside stays', async () => {
    const before = (await saved()).spec;
    const label = (await page.getByTestId('group-Lab feed').locator('.hie-group-label').boundingBox())!;
    const inBefore = (await node(page, 'Lab In').boundingBox())!;
    await page.mouse.move(label.x + label.width / 2, label.y + label.height / 2);
    await page.mouse.down();
    await page.mouse.move(label.x + label.width / 2 + 60, label.y + label.height / 2 + 40, { steps: 6 });
    await page.mouse.move(label.x + label.width / 2 + 120, label.y + label.height / 2 + 80, { steps: 6 });
    await page.mouse.up();
    const inAfter = (await node(page, 'Lab In').boundingBox())!;
    expect(inAfter.x).toBeGreaterThan(inBefore.x + 60);
    expect(inAfter.y).toBeGreaterThan(inBefore.y + 40);

    await page.getByTestId('save').click();
    await expect(page.getByTestId('version-state')).toContainText('v3');
    const after = (await saved()).spec;
    const pos = (s: SavedSpec, name: string) => s.items.find((i) => i.name === name)!.position!;
    const g0 = before.canvas!.groups![0]!;
    const g1 = after.canvas!.groups![0]!;
    const d = { x: g1.x - g0.x, y: g1.y - g0.y };
    expect(d.x).toBeGreaterThan(0);
    expect(d.y).toBeGreaterThan(0);
    for (const name of ['Lab In', 'Lab Out']) expect(pos(after, name)).toEqual({ x: pos(before, name).x + d.x, y: pos(before, name).y + d.y });
    expect(pos(after, 'Archive')).toEqual(pos(before, 'Archive'));
    expect({ w: g1.width, h: g1.height }).toEqual({ w: g0.width, h: g0.height });
  });

  await test.step('the version history shows the move: the group on the canvas, the items inside it', async () => {
    await page.getByRole('button', { name: 'History' }).click();
    await page.getByTestId('version-3').getByRole('button', { name: 'Changes' }).click();
    const diff = page.getByTestId('version-diff');
    await expect(diff.getByRole('row', { name: /Canvas groups\[0\]\.x/ })).toBeVisible();
    await expect(diff.getByRole('row', { name: /Lab In position\.x/ })).toBeVisible();
    await expect(diff).not.toContainText('Archive');
  });

  await test.step('a viewer sees the group and the note but cannot change them', async () => {
    const viewer = { username: `canvas-viewer-${run}`, password: `pw-${run}-canvas-viewer` };
    await call(page, 'users.create', viewer);
    await call(page, 'workspaces.setMember', { workspaceId, username: viewer.username, role: 'viewer' });
    const context = await browser.newContext();
    const other = await context.newPage();
    await login(other, viewer.username, viewer.password);
    await other.goto(`/p/${projectId}`);
    await expect(other.getByTestId('read-only-banner')).toBeVisible();
    await expect(other.getByTestId('group-Lab feed')).toBeVisible();
    await expect(other.locator('.react-flow__node-canvasNote')).toContainText('Call ext 4021.');
    await expect(other.getByTestId('add-group')).toBeDisabled();
    await expect(other.getByTestId('add-note')).toBeDisabled();
    await other.getByTestId('group-Lab feed').getByTestId('canvas-text').dblclick();
    await expect(other.getByLabel('Group label')).toHaveCount(0);
    await expect(other.getByTestId('inspector').getByLabel('Label')).toBeDisabled();
    await context.close();
  });
});
