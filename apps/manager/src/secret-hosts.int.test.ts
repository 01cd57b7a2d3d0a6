/**
 * Environment secrets are bound to the hosts an admin allows them (real HTTP API, real
 * PostgreSQL): `${secret:LAB_TOKEN}` deploys into an item sending to an allowed host and is
 * refused — typed `secrets.host_not_allowed`, naming the secret, the item and the host, never the
 * value — in one an editor pointed at a server of their own; nothing is deployed then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProductionInput } from '@hie/config';
import { apiFailure, errorCode, startHarness, type ApiClient, type Harness } from './testing/harness.js';

const SECRET = 'lab-token-Hx71-never-shown';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let workspaceId: string;
let envId: string;

const spec = (url: string): ProductionInput => ({
  name: 'lab-out',
  items: [
    { name: 'In', type: 'http.in', settings: { host: '127.0.0.1', port: 0 } },
    { name: 'Lab Post', type: 'http.out', settings: { url, headers: { Authorization: 'Bearer ${secret:LAB_TOKEN}' } } },
  ],
  connections: [{ from: 'In', to: 'Lab Post' }],
});

/** The typed refusal of a call, and all of it as text (which must not hold the secret). */
async function refusal(p: Promise<unknown>) {
  const failure = await apiFailure(p);
  return { ...failure, text: JSON.stringify({ message: failure.message, data: failure.data }) };
}

async function project(name: string, url: string): Promise<string> {
  return (await analyst.api.projects.create.mutate({ workspaceId, name, spec: spec(url) })).id;
}

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, workspaceId } = await h.team('SecretHosts'));
  envId = (await admin.api.environments.create.mutate({ workspaceId, name: 'prod' })).id;
  await admin.api.environments.setVariable.mutate({ environmentId: envId, name: 'LAB_TOKEN', value: SECRET, secret: true, hosts: ['lab.example.org', '*.partner.example.net'] });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('environment secrets bound to hosts', () => {
  it('deploys a secret into an item that sends to an allowed host, and to one under an allowed wildcard', async () => {
    const lab = await project('lab', 'https://lab.example.org/results');
    await analyst.api.production.deploy.mutate({ projectId: lab, environment: 'prod' });
    const desired = (await h.coordinator.getDesired(lab))!.spec as ProductionInput;
    expect(desired.items![1]!.settings).toMatchObject({ url: 'https://lab.example.org/results', headers: { Authorization: `Bearer ${SECRET}` } });

    const partner = await project('partner', 'https://api.partner.example.net:8443/in');
    await analyst.api.production.deploy.mutate({ projectId: partner, environment: 'prod' });
    expect(await h.coordinator.getDesired(partner)).toBeDefined();
  });

  it('refuses the same reference in an item pointed elsewhere, naming secret, item and host, and deploys nothing', async () => {
    const evil = await project('evil', 'https://evil.example.com/collect');
    const r = await refusal(analyst.api.production.deploy.mutate({ projectId: evil, environment: 'prod' }));
    expect(r).toMatchObject({ code: 'BAD_REQUEST', hieCode: 'secrets.host_not_allowed' });
    expect(r.message).toContain('secret LAB_TOKEN may not be sent to evil.example.com:443 (item "Lab Post" (http.out), setting url)');
    expect(r.problems.map((p) => p.pathText)).toEqual(['items[1].settings.headers.Authorization']);
    expect(r.text).not.toContain(SECRET);
    expect(await h.coordinator.getDesired(evil)).toBeUndefined();
    expect(await h.store.deployments.get(evil)).toBeUndefined();
  });

  it('refuses the wildcard domain itself, and a host that merely ends like it', async () => {
    for (const [name, url] of [
      ['apex', 'https://partner.example.net/in'],
      ['lookalike', 'https://evilpartner.example.net/in'],
    ] as const) {
      const id = await project(name, url);
      expect((await refusal(analyst.api.production.deploy.mutate({ projectId: id, environment: 'prod' }))).hieCode).toBe('secrets.host_not_allowed');
      expect(await h.coordinator.getDesired(id)).toBeUndefined();
    }
  });

  it('a secret with no hosts can be used nowhere, and the refusal says how to allow it', async () => {
    const staging = (await admin.api.environments.create.mutate({ workspaceId, name: 'staging' })).id;
    await admin.api.environments.setVariable.mutate({ environmentId: staging, name: 'LAB_TOKEN', value: SECRET, secret: true });
    const lab = await project('lab-staging', 'https://lab.example.org/results');
    const r = await refusal(analyst.api.production.deploy.mutate({ projectId: lab, environment: 'staging' }));
    expect(r.hieCode).toBe('secrets.host_not_allowed');
    expect(r.message).toMatch(/secret LAB_TOKEN of environment "staging" may be sent to no host yet .*an admin allows hosts with the secret on the Environments page/);
    expect(await h.coordinator.getDesired(lab)).toBeUndefined();
  });

  it('hosts are validated, shown (they are not secret), admin-only, and audited without the value', async () => {
    for (const bad of ['https://lab.example.org', 'lab.example.org/fhir', '*', 'user@lab.example.org', 'x'.repeat(300)]) {
      expect(await errorCode(admin.api.environments.setVariable.mutate({ environmentId: envId, name: 'LAB_TOKEN', value: SECRET, secret: true, hosts: [bad] })), bad).toBe('BAD_REQUEST');
    }
    expect(await errorCode(admin.api.environments.setVariable.mutate({ environmentId: envId, name: 'PLAIN', value: 'v', hosts: ['lab.example.org'] }))).toBe('BAD_REQUEST');
    expect(await errorCode(analyst.api.environments.setVariable.mutate({ environmentId: envId, name: 'LAB_TOKEN', value: 'x', secret: true, hosts: ['evil.example.com'] }))).toBe('FORBIDDEN');

    const shown = (await analyst.api.environments.list.query({ workspaceId })).find((e) => e.name === 'prod')!;
    expect(shown.variables.find((v) => v.name === 'LAB_TOKEN')).toMatchObject({ value: '•••', hosts: ['lab.example.org', '*.partner.example.net'] });

    // A new value without hosts keeps them; hosts are written in lower case.
    await admin.api.environments.setVariable.mutate({ environmentId: envId, name: 'LAB_TOKEN', value: SECRET, secret: true });
    await admin.api.environments.setVariable.mutate({ environmentId: envId, name: 'LAB_TOKEN', value: SECRET, secret: true, hosts: ['LAB.example.org:443'] });
    const log = await admin.api.audit.list.query({ workspaceId, limit: 50 });
    const last = log.items.find((e) => e.action === 'environment.set_variable');
    expect(last).toMatchObject({ before: { name: 'LAB_TOKEN', secret: true, hosts: ['lab.example.org', '*.partner.example.net'] }, after: { name: 'LAB_TOKEN', secret: true, hosts: ['lab.example.org:443'] } });
    expect(JSON.stringify(log)).not.toContain(SECRET);
  });

  it('a URL holding a password is refused at save, naming the setting and never echoing the password', async () => {
    const failure = await refusal(project('userinfo', 'https://lab-user:pw-Qy27-never-shown@lab.example.org/results'));
    expect(failure.code).toBe('BAD_REQUEST');
    expect(failure.problems).toEqual([expect.objectContaining({ pathText: 'items[1].settings.url', message: expect.stringMatching(/^must not hold a password/) })]);
    expect(failure.text).not.toContain('pw-Qy27-never-shown');
    expect((await analyst.api.projects.list.query({ workspaceId })).map((p) => p.name)).not.toContain('userinfo');
  });
});
