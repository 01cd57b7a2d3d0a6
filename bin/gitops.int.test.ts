/**
 * GitOps and environments against a real `hie start` (own port, temp data, HIE_DEMO=0): an API
 * token made in a session drives `hie apply` and `hie export`; one version is promoted from test
 * to prod, whose `${DOWNSTREAM_HOST}`/`${DOWNSTREAM_PORT}` differ, and each message reaches the
 * MLLP sink of the environment it was deployed to; export → apply → export is byte-identical.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@hie/manager';
import { openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, hieExec, tempDir, until, waitForPort } from '../apps/engine/src/testing/helpers';
import { MllpDownstream } from '../apps/engine/src/testing/mllp-downstream';
import { CookieJar } from '../apps/manager/src/testing/cookie-jar';

async function filesOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of ['project.yaml', 'layout.yaml', 'canvas.yaml']) {
    const text = await readFile(path.join(dir, f), 'utf8').catch(() => undefined);
    if (text !== undefined) out[f] = text;
  }
  for (const f of (await readdir(path.join(dir, 'items'))).sort()) out[`items/${f}`] = await readFile(path.join(dir, 'items', f), 'utf8');
  return out;
}

describe('hie export / hie apply with an API token; promote test → prod', () => {
  let db: TestStore;
  let child: ReturnType<typeof hie>;
  let url: string;
  let mllpPort: number;
  let work: string;
  let token: string;
  const sinks: { test?: MllpDownstream; prod?: MllpDownstream } = {};
  const cli = (args: string[], t = token) => hieExec(args, { cwd: work, env: { HIE_TOKEN: t, HIE_URL: url } });

  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_gitops' });
    const port = await freePort();
    mllpPort = await freePort();
    work = await tempDir('hie-gitops-');
    sinks.test = new MllpDownstream(await freePort(), () => 'AA', '127.0.0.1');
    sinks.prod = new MllpDownstream(await freePort(), () => 'AA', '127.0.0.2');
    await sinks.test.up();
    await sinks.prod.up();
    child = hie(['start'], {
      cwd: work,
      env: { DATABASE_URL: db.databaseUrl!, HIE_PORT: String(port), HIE_HOST: '127.0.0.1', HIE_ADMIN_PASSWORD: 'test-admin-pw', HIE_PORTAL: 'off', HIE_DEMO: '0' },
    });
    await waitForPort(port, 90_000);
    url = `http://127.0.0.1:${port}`;
    const api = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${url}/api/trpc`, fetch: new CookieJar().fetch })] });
    await api.auth.login.mutate({ username: 'admin', password: 'test-admin-pw' });
    const ws = await api.workspaces.create.mutate({ name: 'Lab trust' });
    for (const [name, sink] of Object.entries(sinks)) {
      const env = await api.environments.create.mutate({ workspaceId: ws.id, name });
      await api.environments.setVariable.mutate({ environmentId: env.id, name: 'DOWNSTREAM_HOST', value: sink!.host });
      await api.environments.setVariable.mutate({ environmentId: env.id, name: 'DOWNSTREAM_PORT', value: String(sink!.port) });
    }
    token = (await api.tokens.create.mutate({ name: 'ci', workspaceId: ws.id, role: 'analyst' })).token;
  }, 120_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    if (child) await new Promise((r) => child.on('exit', r));
    await sinks.test?.down();
    await sinks.prod?.down();
    await db?.cleanup();
  });

  it('applies a production, deploys it to test, then promotes the same version to prod', async () => {
    const file = path.join(work, 'lab.yaml');
    await writeFile(
      file,
      [
        'name: lab-feed',
        'items:',
        '  - name: Lab In',
        '    type: hl7.mllp.in',
        `    settings: { host: 127.0.0.1, port: ${mllpPort} }`,
        '    position: { x: 40, y: 80 }',
        '  - name: Lab Out',
        '    type: hl7.mllp.out',
        '    settings: { host: "${DOWNSTREAM_HOST}", port: "${DOWNSTREAM_PORT}" }',
        '    position: { x: 320, y: 80 }',
        'connections:',
        '  - { from: Lab In, to: Lab Out }',
        '',
      ].join('\n'),
    );
    const toTest = await cli(['apply', '-f', file, '--project', 'lab', '--deploy', '--environment', 'test']);
    expect(toTest.output).toContain('created lab v1');
    expect(toTest.output).toContain('deployed lab v1 to test');
    expect(toTest.code, toTest.output).toBe(0);
    await waitForPort(mllpPort, 30_000);
    const first = await hieExec(['send', '--port', String(mllpPort), 'examples/messages/adt-a01.hl7']);
    expect(first.code, first.output).toBe(0);
    await until(() => sinks.test!.received.length === 1, 30_000);

    // The same file again: nothing to save; the same version goes to prod.
    const toProd = await cli(['apply', '-f', file, '--project', 'lab', '--deploy', '--environment', 'prod']);
    expect(toProd.output).toContain('lab v1 is unchanged');
    expect(toProd.output).toContain('deployed lab v1 to prod');
    await until(async () => (await hieExec(['send', '--port', String(mllpPort), 'examples/messages/oru-r01.hl7'])).code === 0, 30_000);
    await until(() => sinks.prod!.received.length >= 1, 30_000);
    expect(sinks.prod!.received[0]).toBe('CNTRL-3456');
    expect(sinks.test!.received).toEqual(['22139243']);
  }, 180_000);

  it('exports readable YAML; export → apply → export is byte-identical, edits included', async () => {
    const d1 = path.join(work, 'export-1');
    const e1 = await cli(['export', 'lab', '--dir', d1]);
    expect(e1.code, e1.output).toBe(0);
    const files = await filesOf(d1);
    expect(Object.keys(files)).toEqual(['project.yaml', 'layout.yaml', 'items/Lab-In.yaml', 'items/Lab-Out.yaml']);
    expect(files['items/Lab-Out.yaml']).toBe('name: Lab Out\ntype: hl7.mllp.out\nsettings:\n  host: ${DOWNSTREAM_HOST}\n  port: ${DOWNSTREAM_PORT}\n');
    expect(files['layout.yaml']).toBe('Lab In:\n  x: 40\n  y: 80\nLab Out:\n  x: 320\n  y: 80\n');
    expect(files['project.yaml']).toBe('name: lab-feed\nitems:\n  - Lab In\n  - Lab Out\nconnections:\n  - from: Lab In\n    to: Lab Out\n');

    // Unchanged: applying the export saves nothing, and exports the same bytes.
    const same = await cli(['apply', '-f', d1, '--project', 'lab']);
    expect(same.output).toContain('lab v1 is unchanged');
    const d2 = path.join(work, 'export-2');
    await cli(['export', 'lab', '--dir', d2]);
    expect(await filesOf(d2)).toEqual(files);

    // An edit in git: one setting, one position, and a group with a note drawn around the feed.
    // Applied as v2, exported back byte for byte.
    await writeFile(path.join(d1, 'items/Lab-Out.yaml'), files['items/Lab-Out.yaml']!.replace('type: hl7.mllp.out\n', 'type: hl7.mllp.out\ndescription: to the lab system\n'));
    await writeFile(path.join(d1, 'layout.yaml'), files['layout.yaml']!.replace('x: 320', 'x: 360'));
    const canvas = 'groups:\n  - id: g-lab\n    label: Lab feed\n    colour: green\n    x: 20\n    y: 40\n    width: 600\n    height: 200\nnotes:\n  - id: n-1\n    x: 20\n    y: 260\n    text: Owned by the lab team\n';
    await writeFile(path.join(d1, 'canvas.yaml'), canvas);
    const edited = await cli(['apply', '-f', d1, '--project', 'lab']);
    expect(edited.output).toContain('saved lab v2');
    const d3 = path.join(work, 'export-3');
    await cli(['export', 'lab', '--dir', d3]);
    const after = await filesOf(d3);
    expect(after).toEqual(await filesOf(d1));
    expect(after['canvas.yaml']).toBe(canvas);
    expect(after['items/Lab-Out.yaml']).toBe('name: Lab Out\ntype: hl7.mllp.out\ndescription: to the lab system\nsettings:\n  host: ${DOWNSTREAM_HOST}\n  port: ${DOWNSTREAM_PORT}\n');
  }, 120_000);

  it('refuses a bad token and a deploy missing a variable, with a clear message', async () => {
    const bad = await cli(['export', 'lab', '--dir', path.join(work, 'x')], `hie_${'x'.repeat(43)}`);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('UNAUTHORIZED');
    const none = await cli(['apply', '-f', path.join(work, 'export-1'), '--project', 'lab', '--deploy', '--environment', 'nowhere']);
    expect(none.code).toBe(1);
    expect(none.output).toContain('no environment "nowhere"');
    const help = await hieExec(['apply', '--help']);
    expect(help.output).toContain('Usage: hie apply -f <dir|file>');
  }, 60_000);
});
