/**
 * Issue 9: a spec whose items reach outside HIE_FILE_ROOTS or the egress policy is refused at
 * save with BAD_REQUEST and the field path (what the designer shows), before any deploy.
 */
import { mkdir, mkdtemp, realpath, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProductionInput } from '@hie/config';
import { createHostPolicy, type HostPolicy } from '@hie/policy';
import { badRequestProblems, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let analyst: ApiClient;
let workspaceId: string;
let policy: HostPolicy;
let root: string;
let outside: string;

beforeAll(async () => {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hie-mgr-policy-')));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await symlink(outside, path.join(root, 'link'));
  policy = createHostPolicy({ roots: [root] });
  h = await startHarness({ policy });
  // As bin/start.ts does once it listens: the manager's own address is never an egress target.
  policy.ownAddresses.push({ host: '127.0.0.1', port: Number(new URL(h.baseUrl).port) });
  ({ analyst, workspaceId } = await h.team('Host policy'));
});
afterAll(async () => {
  await h?.close();
});

const spec = (items: NonNullable<ProductionInput['items']>): ProductionInput => ({ name: 'feed', items, connections: [] });

async function refusedPaths(p: Promise<unknown>): Promise<string[]> {
  return (await badRequestProblems(p)).map((x) => x.pathText);
}

describe('save-time host policy', () => {
  it('refuses folders and TLS files outside the roots — absolute, by "..", by a symlink — with their field paths', async () => {
    const paths = await refusedPaths(
      analyst.api.projects.create.mutate({
        workspaceId,
        name: 'escape',
        spec: spec([
          { name: 'Etc', type: 'file.in', settings: { directory: '/etc' } },
          { name: 'Dots', type: 'file.in', settings: { directory: '../outside' } },
          { name: 'Link', type: 'file.out', settings: { directory: 'link/out' } },
          { name: 'TLS', type: 'hl7.mllp.in', settings: { port: 0, tls: { enabled: true, certFile: 'link/cert.pem', keyFile: 'key.pem' } } },
        ]),
      }),
    );
    expect(paths).toEqual(['items[0].settings.directory', 'items[1].settings.directory', 'items[2].settings.directory', 'items[3].settings.tls.certFile']);
  });

  it("refuses metadata, link-local and the manager's own address (localhost resolves to it), and RE2-invalid patterns", async () => {
    const port = new URL(h.baseUrl).port;
    const paths = await refusedPaths(
      analyst.api.projects.create.mutate({
        workspaceId,
        name: 'ssrf',
        spec: spec([
          { name: 'Metrics', type: 'http.out', settings: { url: `http://localhost:${port}/metrics` } },
          { name: 'Metadata', type: 'http.out', settings: { url: 'http://169.254.169.254/latest/meta-data/iam/' } },
          { name: 'MLLP', type: 'hl7.mllp.out', settings: { host: 'fe80::1', port: 2575 } },
          { name: 'Route', type: 'hl7.router', settings: { rules: [{ name: 'r', when: { path: 'PID-5', op: 'matches', value: '(a)\\1' }, then: { action: 'discard' } }] } },
        ]),
      }),
    );
    expect(paths.sort()).toEqual(['items[0].settings.url', 'items[1].settings.url', 'items[2].settings.host', 'items[3].settings.rules[0].when.value']);
  });

  it('accepts folders under the roots (relative ones resolve against the first root); an item edit is checked too', async () => {
    const p = await analyst.api.projects.create.mutate({
      workspaceId,
      name: 'fine',
      spec: spec([
        { name: 'Drop', type: 'file.in', settings: { directory: './in', archiveDirectory: path.join(root, 'archive') } },
        { name: 'Route', type: 'hl7.router', settings: { rules: [{ name: 'r', when: { path: 'PID-5', op: 'matches', value: '((a+))+$' }, then: { action: 'discard' } }] } },
      ]),
    });
    const paths = await refusedPaths(
      analyst.api.items.upsert.mutate({ projectId: p.id, baseVersion: 1, item: { name: 'Drop', type: 'file.in', settings: { directory: './in', errorDirectory: 'link' } } }),
    );
    expect(paths).toEqual(['item.settings.errorDirectory']);
  });
});
