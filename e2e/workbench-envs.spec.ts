/**
 * Environments in the portal, as an integration analyst would use them: one version of a
 * project whose MLLP sender points at `${DOWNSTREAM_HOST}` is deployed to test, then promoted to
 * prod with the deploy picker, without editing it; each environment's values (and a secret with
 * the hosts it may be sent to) are entered on the Environments page, shown on hover in the
 * designer, and each message reaches the downstream system of the environment it was sent in
 * (two real MLLP sinks: 127.0.0.1 and 127.0.0.2).
 */
import net from 'node:net';
import { expect, test } from '@playwright/test';
import { adminPassword, adtA01, call, hieSend, login, mllpPort } from './support/hie';

test.describe.configure({ mode: 'serial' });

/** A downstream MLLP system on a real socket: records each MSH-10 and answers AA. */
class Sink {
  readonly received: string[] = [];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}
  async up(): Promise<void> {
    this.server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      let buf = Buffer.alloc(0);
      s.on('error', () => undefined);
      s.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (let end = buf.indexOf('\x1c\r'); end >= 0; end = buf.indexOf('\x1c\r')) {
          const text = buf.subarray(buf.indexOf(0x0b) + 1, end).toString('latin1');
          buf = buf.subarray(end + 2);
          const msh = text.split('\r')[0]!.split('|');
          const id = msh[9] ?? '';
          this.received.push(id);
          const ack = `MSH|^~\\&|SINK|X|${msh[2]}|${msh[3]}|20260101120000||ACK^A01^ACK|ACK-${id}|P|2.5\rMSA|AA|${id}\r`;
          s.write(`\x0b${ack}\x1c\r`);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, this.host, () => resolve());
    });
  }
  async down(): Promise<void> {
    // The sender keeps its connection open: cut it, or close() waits for it forever.
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const run = Date.now().toString(36);
const listenPort = mllpPort() + 3;
const sinkPort = mllpPort() + 4;
const sinks = { test: new Sink('127.0.0.1', sinkPort), prod: new Sink('127.0.0.2', sinkPort) };

test.beforeAll(async () => {
  await sinks.test.up();
  await sinks.prod.up();
});
test.afterAll(async () => {
  await sinks.test.down();
  await sinks.prod.down();
});

test('promote a version from test to prod with different ${DOWNSTREAM_HOST} values', async ({ page }) => {
  test.setTimeout(300_000);
  let workspaceId = '';
  let projectId = '';

  await test.step('a workspace and a project whose sender points at ${DOWNSTREAM_HOST}', async () => {
    await login(page, 'admin', adminPassword());
    workspaceId = (await call<{ id: string }>(page, 'workspaces.create', { name: `Envs ${run}` })).id;
    const spec = {
      name: 'lab-feed',
      items: [
        { name: 'Lab In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: listenPort }, position: { x: 80, y: 160 } },
        { name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: '${DOWNSTREAM_HOST}', port: sinkPort }, position: { x: 420, y: 160 } },
      ],
      connections: [{ from: 'Lab In', to: 'Lab Out' }],
    };
    projectId = (await call<{ id: string }>(page, 'projects.create', { workspaceId, name: `lab ${run}`, spec })).id;
  });

  await test.step('enter each environment’s values on the Environments page', async () => {
    await page.goto(`/w/${workspaceId}`);
    await page.getByTestId('environments-link').click();
    await expect(page.getByRole('heading', { name: 'Environments', level: 1 })).toBeVisible();
    for (const [name, sink] of Object.entries(sinks)) {
      await page.getByTestId('env-name').fill(name);
      await page.getByTestId('env-create').click();
      const card = page.getByTestId(`env-${name}`);
      await expect(card).toBeVisible();
      await card.getByLabel('Name').fill('DOWNSTREAM_HOST');
      await card.getByLabel('Value').fill(sink.host);
      await card.getByRole('button', { name: 'Set', exact: true }).click();
      await expect(card.getByTestId(`var-${name}-DOWNSTREAM_HOST`)).toContainText(sink.host);
    }
    // A secret is write-only: shown as ••• with "Set new value", never its value.
    const prod = page.getByTestId('env-prod');
    await prod.getByLabel('Name').fill('LAB_TOKEN');
    await prod.getByLabel('Value').fill('s3cret-value-e2e');
    await prod.getByLabel('secret').check();
    // Where it may be sent is set with it (a deploy sending it anywhere else is refused), and shown.
    await prod.getByLabel('Hosts it may be sent to').fill('lab.example.org, *.Partner.example.net');
    await prod.getByRole('button', { name: 'Set', exact: true }).click();
    await expect(prod.getByTestId('var-prod-secret:LAB_TOKEN')).toContainText('•••');
    await expect(prod.getByTestId('hosts-prod-LAB_TOKEN')).toHaveText('May be sent to: lab.example.org, *.partner.example.net');
    await expect(prod.getByTestId('var-prod-secret:LAB_TOKEN').getByRole('button', { name: 'Set new value' })).toBeVisible();
    await expect(page.locator('body')).not.toContainText('s3cret-value-e2e');
  });

  await test.step('the designer shows the resolved values on hover', async () => {
    await page.goto(`/p/${projectId}`);
    await page.getByTestId('node-Lab Out').locator('.name').click();
    const inspector = page.getByTestId('inspector');
    await inspector.getByTestId('variable-host').hover();
    const tip = page.getByTestId('variable-tooltip');
    await expect(tip).toContainText('test: 127.0.0.1');
    await expect(tip).toContainText('prod: 127.0.0.2');
  });

  await test.step('deploy v1 to test: the message reaches the test system', async () => {
    await page.getByTestId('deploy-environment').selectOption({ label: 'test' });
    await page.getByRole('button', { name: 'Deploy v1' }).click();
    await expect(page.getByTestId('running-state')).toContainText('v1 running', { timeout: 60_000 });
    await expect.poll(async () => (await hieSend(listenPort, [adtA01(`T-${run}`, 'P1')])).includes('AA'), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => sinks.test.received, { timeout: 30_000 }).toContain(`T-${run}`);
  });

  await test.step('promote the same v1 to prod: the next message reaches the prod system', async () => {
    await page.getByTestId('deploy-environment').selectOption({ label: 'prod' });
    await page.getByRole('button', { name: 'Deploy v1' }).click();
    await expect(page.getByTestId('deploy-environment')).toContainText('prod (running)', { timeout: 30_000 });
    // Until the engine has reloaded the sender, a message may still take the test route: send until prod answers.
    let last = '';
    await expect
      .poll(
        async () => {
          last = `P-${run}-${Date.now()}`;
          await hieSend(listenPort, [adtA01(last, 'P2')]);
          await expect.poll(() => [...sinks.test.received, ...sinks.prod.received], { timeout: 15_000 }).toContain(last);
          return sinks.prod.received.includes(last);
        },
        { timeout: 90_000, intervals: [500] },
      )
      .toBe(true);
    expect(sinks.test.received).not.toContain(last);
    expect(sinks.test.received[0]).toBe(`T-${run}`);
    // Each environment records what it runs.
    await page.goto(`/w/${workspaceId}/environments`);
    await expect(page.getByTestId('env-prod-runs')).toContainText(`lab ${run} v1 running`);
    await expect(page.getByTestId('env-test-runs')).toContainText('Nothing deployed here');
  });
});
