/**
 * The analyst's workbench, rules and transforms without JSON: build a router rule with an AND
 * group in the editor (fixing the MSH-9 trap with one click), test it on the sample, deploy it
 * and see it route real messages; then drag a field in the transform editor and watch the
 * preview change; build a fhir.router rule the same way, on FHIRPath, and find it in the saved
 * spec. Against a real `hie start`.
 */
import { expect, test, type Page } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { connect, dragOnto, node, selectNode } from './support/designer';
import { adminPassword, adtA01, e2eDir, freePort, hieSend, login } from './support/hie';

test.describe.configure({ mode: 'serial' });

const run = Math.random().toString(36).slice(2, 7);

/** A fresh workspace and project, opened in the designer. */
async function newProject(page: Page, name: string) {
  await login(page, 'admin', adminPassword());
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Workspaces' })).toBeVisible();
  await page.getByTestId('create-workspace').click();
  const w = page.getByTestId('prompt-dialog');
  await w.getByLabel('Name').fill(`Editors ${name}`);
  await w.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId(`workspace-Editors ${name}`).getByRole('link', { name: 'Open' }).click();
  await page.getByTestId('create-project').click();
  const d = page.getByTestId('prompt-dialog');
  await d.getByLabel('Name').fill(name);
  await d.getByRole('button', { name: 'Create and open' }).click();
  await page.waitForURL(/\/p\//, { timeout: 60_000 });
  await expect(page.getByTestId('canvas-empty')).toBeVisible({ timeout: 60_000 });
}

/** An ADT of another event (A08) from the same fixture. */
function adt(event: string, controlId: string, patientId: string): string {
  return adtA01(controlId, patientId).replace('ADT^A01^ADT_A01', `ADT^${event}^ADT_A01`).replace('EVN|A01', `EVN|${event}`);
}

test('a rule with an AND group, built without JSON, fixed, tested, deployed: it routes', async ({ page }) => {
  test.setTimeout(300_000);
  // A port of its own: a stack reused between runs may still listen on an earlier run's port.
  const port = await freePort();
  const a01Dir = e2eDir(`editors-a01-${run}`);
  const otherDir = e2eDir(`editors-other-${run}`);
  await newProject(page, `rules-${run}`);

  const canvas = page.getByTestId('canvas');
  await page.getByTestId('palette-hl7.mllp.in').dragTo(canvas, { targetPosition: { x: 120, y: 200 } });
  await page.getByTestId('palette-hl7.router').dragTo(canvas, { targetPosition: { x: 380, y: 200 } });
  await page.getByTestId('palette-file.out').dragTo(canvas, { targetPosition: { x: 640, y: 120 } });
  await page.getByTestId('palette-file.out').dragTo(canvas, { targetPosition: { x: 640, y: 320 } });
  await connect(page, 'MLLP In 1', 'Router 1');
  await connect(page, 'Router 1', 'File Out 1');
  await connect(page, 'Router 1', 'File Out 2');
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);

  const inspector = page.getByTestId('inspector');
  await selectNode(page, 'MLLP In 1');
  await inspector.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await inspector.getByLabel('Port', { exact: true }).fill(String(port));
  for (const [name, dir] of [
    ['File Out 1', a01Dir],
    ['File Out 2', otherDir],
  ] as const) {
    await selectNode(page, name);
    await inspector.getByRole('textbox', { name: 'Directory', exact: true }).fill(dir);
  }

  await selectNode(page, 'Router 1');
  await inspector.getByRole('button', { name: '+ Add rule' }).click();
  await inspector.getByLabel('Rule 1 name', { exact: true }).fill('A01 to file 1');
  // Rule 1 starts as "MSH-9.1 equals ADT"; AND another condition makes it a group.
  await inspector.getByRole('button', { name: 'Rule 1: and another condition' }).click();
  await expect(inspector.getByLabel('Rule 1 combine', { exact: true })).toHaveValue('and');
  await inspector.getByLabel('Rule 1 condition 2 field path', { exact: true }).fill('MSH-9');
  await inspector.getByLabel('Rule 1 condition 2 value', { exact: true }).fill('ADT^A01');
  // The trap: MSH-9 of the sample is ADT^A01^ADT_A01. One click fixes it.
  const trap = inspector.getByTestId('rule-1-trap');
  await expect(trap).toContainText('ADT^A01^ADT_A01');
  await inspector.getByRole('button', { name: 'Test this rule' }).click();
  await expect(inspector.getByTestId('rule-1-test')).toContainText('does not match');
  await trap.getByRole('button', { name: 'Compare MSH-9.1 and MSH-9.2' }).click();
  await expect(inspector.getByTestId('rule-1-trap')).toHaveCount(0);
  await expect(inspector.getByTestId('rule-1-test')).toContainText('The sample matches');
  // A third condition, an "is one of" list on a repetition's component: PID-3[1].4 in HOSP, NHS.
  await inspector.getByRole('button', { name: 'Add condition to Rule 1', exact: true }).click();
  await inspector.getByLabel('Rule 1 condition 3 field path', { exact: true }).fill('PID-3[1].4');
  await inspector.getByLabel('Rule 1 condition 3 operator', { exact: true }).selectOption('in');
  const values = inspector.getByLabel('Rule 1 condition 3 value', { exact: true });
  await values.fill('HOSP');
  await values.press('Enter');
  await values.fill('NHS');
  await values.press('Enter');
  await expect(inspector.getByRole('group', { name: 'Rule 1 condition 3 values' })).toContainText('HOSP');
  await expect(inspector.getByTestId('rule-1-test')).toContainText('The sample matches');
  await expect(inspector.getByLabel('Rule 1 send to File Out 1')).toBeChecked();

  await inspector.getByRole('button', { name: '+ Add rule' }).click();
  await inspector.getByLabel('Rule 2 name', { exact: true }).fill('the rest');
  await inspector.getByLabel('Rule 2 condition', { exact: true }).selectOption('always');
  await inspector.getByLabel('Rule 2 send to File Out 1').uncheck();
  await inspector.getByLabel('Rule 2 send to File Out 2').check();
  await expect(inspector.getByTestId('router-test')).toContainText('rule “A01 to file 1”: it would be sent to File Out 1');
  await expect(page.getByTestId('problem-count')).toHaveCount(0);

  await page.getByLabel('Save comment').fill('rules without JSON');
  await page.getByTestId('save').click();
  await expect(page.getByText('Saved as version 2')).toBeVisible();
  await page.getByRole('button', { name: 'Deploy v2' }).click();
  await expect(page.getByTestId('running-state')).toContainText('v2 running', { timeout: 45_000 });
  await expect(node(page, 'MLLP In 1')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });

  const out = await hieSend(port, [adtA01(`ED${run}1`, `P${run}1`), adt('A08', `ED${run}2`, `P${run}2`)], 'editors');
  expect(out).toContain('AA');
  const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.hl7')).length;
  await expect.poll(() => files(a01Dir), { timeout: 30_000 }).toBe(1);
  await expect.poll(() => files(otherDir), { timeout: 30_000 }).toBe(1);
});

test('a fhir.router rule with an AND group on FHIRPath, built and tested without JSON, saved into the spec', async ({ page }) => {
  test.setTimeout(300_000);
  await newProject(page, `fhir-rules-${run}`);
  const canvas = page.getByTestId('canvas');
  await page.getByTestId('palette-fhir.router').dragTo(canvas, { targetPosition: { x: 200, y: 200 } });
  await page.getByTestId('palette-file.out').dragTo(canvas, { targetPosition: { x: 520, y: 120 } });
  await page.getByTestId('palette-file.out').dragTo(canvas, { targetPosition: { x: 520, y: 320 } });
  await connect(page, 'FHIR Router 1', 'File Out 1');
  await connect(page, 'FHIR Router 1', 'File Out 2');
  const inspector = page.getByTestId('inspector');
  for (const name of ['File Out 1', 'File Out 2']) {
    await selectNode(page, name);
    await inspector.getByRole('textbox', { name: 'Directory', exact: true }).fill(e2eDir(`fhir-rules-${name.replace(/ /g, '')}-${run}`));
  }

  await selectNode(page, 'FHIR Router 1');
  await inspector.getByRole('button', { name: '+ Add rule' }).click();
  await inspector.getByLabel('Rule 1 name', { exact: true }).fill('Active women');
  // The FHIR dialect: FHIRPath fields, "is true", no HL7 transform action.
  await expect(inspector.getByLabel('Rule 1 FHIRPath', { exact: true })).toHaveValue('Patient.gender');
  await expect(inspector.getByLabel('Rule 1 action', { exact: true }).locator('option')).toHaveText(['Send to…', 'Discard']);
  await inspector.getByRole('button', { name: 'Rule 1: and another condition' }).click();
  await expect(inspector.getByLabel('Rule 1 combine', { exact: true })).toHaveValue('and');
  await inspector.getByLabel('Rule 1 condition 2 FHIRPath', { exact: true }).fill('Patient.active');
  await inspector.getByLabel('Rule 1 condition 2 operator', { exact: true }).selectOption({ label: 'is true' });
  await expect(inspector.getByLabel('Rule 1 condition 2 value', { exact: true })).toHaveCount(0);
  await inspector.getByRole('button', { name: 'Add condition to Rule 1', exact: true }).click();
  await inspector.getByLabel('Rule 1 condition 3 FHIRPath', { exact: true }).fill('Patient.name.given');
  await inspector.getByLabel('Rule 1 condition 3 operator', { exact: true }).selectOption('in');
  const values = inspector.getByLabel('Rule 1 condition 3 value', { exact: true });
  await values.fill('Jane');
  await values.press('Enter');
  await values.fill('Joan');
  await values.press('Enter');
  await expect(inspector.getByTestId('rule-1-trap')).toHaveCount(0);

  // Tested on the FHIR sample (a female, active Patient named Jane) by the engine's code, through the manager.
  await inspector.getByRole('button', { name: 'Test this rule' }).click();
  await expect(inspector.getByTestId('rule-1-test')).toContainText('The sample matches');
  await expect(inspector.getByTestId('rule-1').getByTestId('cond-actual').first()).toContainText('female');
  await inspector.getByLabel('Rule 1 condition 1 value', { exact: true }).fill('male');
  await expect(inspector.getByTestId('rule-1-test')).toContainText('does not match');
  await inspector.getByLabel('Rule 1 condition 1 value', { exact: true }).fill('female');
  await expect(inspector.getByTestId('rule-1-test')).toContainText('The sample matches');
  await inspector.getByTestId('rule-1').getByLabel(/Stop here when this rule matches/).check();
  await expect(inspector.getByLabel('Rule 1 send to File Out 1')).toBeChecked();
  await expect(inspector.getByTestId('router-test')).toContainText('rule “Active women”: it would be sent to File Out 1');
  await expect(page.getByTestId('problem-count')).toHaveCount(0);

  await page.getByLabel('Save comment').fill('fhir rules without JSON');
  await page.getByTestId('save').click();
  await expect(page.getByText('Saved as version 2')).toBeVisible();
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const res = await page.request.get(`/api/trpc/projects.get?input=${encodeURIComponent(JSON.stringify({ id }))}`);
  expect(res.ok()).toBe(true);
  const { version } = ((await res.json()) as { result: { data: { version: { spec: { items: { name: string; settings?: { rules?: unknown[] } }[] } } } } }).result.data;
  expect(version.spec.items.find((i) => i.name === 'FHIR Router 1')?.settings?.rules).toEqual([
    {
      name: 'Active women',
      when: {
        and: [
          { path: 'Patient.gender', op: '=', value: 'female' },
          { path: 'Patient.active', op: 'true' },
          { path: 'Patient.name.given', op: 'in', values: ['Jane', 'Joan'] },
        ],
      },
      then: { action: 'send', to: ['File Out 1'] },
      stop: true,
    },
  ]);
});

test('drag a field in the transform editor and see the preview change', async ({ page }) => {
  test.setTimeout(180_000);
  await newProject(page, `transform-${run}`);
  // Type-to-add: a letter on the canvas opens the box, the name narrows it, Enter adds.
  await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
  await page.keyboard.press('t');
  const quick = page.getByTestId('quick-add');
  await expect(quick).toBeVisible();
  await quick.getByLabel('Item type to add').pressSequentially('ransform');
  await expect(quick.getByRole('option').first()).toContainText('Transform');
  await quick.getByLabel('Item type to add').press('Enter');
  await expect(node(page, 'Transform 1')).toBeVisible();
  await selectNode(page, 'Transform 1');
  // The type's help is shown in the inspector.
  await expect(page.getByTestId('inspector')).toContainText('Change HL7 v2 fields, segments and version');
  const inspector = page.getByTestId('inspector');
  const preview = inspector.getByTestId('transform-preview');
  await expect(preview).toContainText('PID|1||123456^^^HOSP^MR');
  await expect(preview.locator('.diff-added')).toHaveCount(0);

  // Drag the NHS number (PID-3, second repetition, first component) onto the empty PID-2.
  await dragOnto(inspector.getByTestId('tree-PID-3[2].1'), inspector.getByTestId('tree-PID-2'));
  await expect(inspector.getByTestId('step-1')).toBeVisible();
  await expect(inspector.getByLabel('Transform step 1 from', { exact: true })).toHaveValue('PID-3[2].1');
  await expect(inspector.getByLabel('Transform step 1 to', { exact: true })).toHaveValue('PID-2');
  await expect(preview.locator('.diff-added')).toContainText('PID|1|9434765919|');

  // Drag the family name onto "Set a value", change it, then move that step first.
  await dragOnto(inspector.getByTestId('tree-PID-5.1'), inspector.getByTestId('drop-set'));
  await inspector.getByLabel('Transform step 2 value', { exact: true }).fill('SMITH');
  await expect(preview.locator('.diff-added')).toContainText('SMITH^JANE');
  await inspector.getByRole('button', { name: 'Move Transform step 2 up' }).click();
  await expect(inspector.getByLabel('Transform step 1 field', { exact: true })).toHaveValue('PID-5.1');
  await expect(preview.locator('.diff-added')).toContainText('PID|1|9434765919|123456^^^HOSP^MR~9434765919^^^NHS^NH||SMITH^JANE');
  await expect(page.getByTestId('problem-count')).toHaveCount(0);
});

test('an hl7v2.to.fhir map in the same editor: drag PID fields onto FHIR elements, see the Bundle change, save', async ({ page }) => {
  test.setTimeout(180_000);
  await newProject(page, `fhirmap-${run}`);
  await page.getByTestId('palette-hl7v2.to.fhir').dragTo(page.getByTestId('canvas'), { targetPosition: { x: 300, y: 200 } });
  await selectNode(page, 'HL7 v2 to FHIR 1');
  const inspector = page.getByTestId('inspector');
  await inspector.getByLabel('Map', { exact: true }).selectOption('custom');
  await inspector.getByRole('button', { name: 'Start empty' }).click();

  const preview = inspector.getByTestId('fhir-map-preview');
  const json = inspector.getByTestId('fhir-map-json');
  await expect(preview).toContainText('1 entry: Patient');
  await expect(json).not.toContainText('"family"');
  // The inspector never scrolls sideways: a select's long option once widened it past its panel,
  // and a drag then scrolled it under the pointer.
  expect(await inspector.locator('.inspector-body').evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);

  // The family name (PID-5.1) onto the Patient's name[0].family: a copy rule, and the Bundle has it.
  await dragOnto(inspector.getByTestId('tree-PID-5.1'), inspector.getByTestId('drop-fhir:patient:name[0].family'));
  await expect(inspector.getByTestId('step-1')).toBeVisible();
  await expect(inspector.getByLabel('FHIR map step 1 target', { exact: true })).toHaveValue('name[0].family');
  await expect(inspector.getByLabel('FHIR map step 1 source', { exact: true })).toHaveValue('PID-5.1');
  await expect(json).toContainText('"family": "DOE"');

  // The birth date onto birthDate: the rule converts the HL7 date.
  await dragOnto(inspector.getByTestId('tree-PID-7'), inspector.getByTestId('drop-fhir:patient:birthDate'));
  await expect(inspector.getByLabel('FHIR map step 2 function', { exact: true })).toHaveValue('date');
  await expect(json).toContainText('"birthDate": "1980-01-01"');

  // Reorder, then edit a rule by keyboard: the family from the given name's place.
  await inspector.getByRole('button', { name: 'Move FHIR map step 2 up' }).click();
  await expect(inspector.getByLabel('FHIR map step 1 target', { exact: true })).toHaveValue('birthDate');
  await inspector.getByLabel('FHIR map step 2 source', { exact: true }).fill('PID-5.2');
  await expect(json).toContainText('"family": "JANE"');
  // A broken rule is named, not a crash; fixed again.
  await inspector.getByLabel('FHIR map step 2 target', { exact: true }).fill('');
  await expect(inspector.getByRole('alert').filter({ hasText: 'patient rule 2 target' })).toBeVisible();
  await inspector.getByLabel('FHIR map step 2 target', { exact: true }).fill('name[0].family');
  await expect(json).toContainText('"family": "JANE"');
  await expect(page.getByTestId('problem-count')).toHaveCount(0);

  await page.getByLabel('Save comment').fill('a map without JSON');
  await page.getByTestId('save').click();
  await expect(page.getByText('Saved as version 2')).toBeVisible();
  await page.reload();
  await selectNode(page, 'HL7 v2 to FHIR 1');
  await expect(inspector.getByLabel('FHIR map step 1 target', { exact: true })).toHaveValue('birthDate');
  await expect(inspector.getByTestId('fhir-map-json')).toContainText('"family": "JANE"');
});
