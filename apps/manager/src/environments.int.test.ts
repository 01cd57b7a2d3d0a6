/**
 * Environments through the real HTTP API on PostgreSQL: variables admin-written and audited,
 * secret values never answered by any call (nor in the audit log), references in settings saved
 * unresolved and resolved at deploy in the target environment (typed, validated after
 * resolution, a missing variable named with its item and setting), the same version promoted
 * from one environment to another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProductionInput } from '@hie/config';
import { badRequestProblems, errorCode, startHarness, type ApiClient, type Harness } from './testing/harness.js';

const SECRET = 'lab-token-Qz93-never-shown';

const spec: ProductionInput = {
  name: 'lab-feed',
  items: [
    { name: 'Lab In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } },
    { name: 'Lab Out', type: 'hl7.mllp.out', settings: { host: '${DOWNSTREAM_HOST}', port: '${DOWNSTREAM_PORT}' as unknown as number } },
    { name: 'Web Out', type: 'http.out', settings: { url: 'http://${DOWNSTREAM_HOST}:8080/lab', headers: { Authorization: '${secret:LAB_TOKEN}' } } },
  ],
  connections: [
    { from: 'Lab In', to: 'Lab Out' },
    { from: 'Lab In', to: 'Web Out' },
  ],
};

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let workspaceId: string;
let projectId: string;
let testId: string;
let prodId: string;
/** Every answer the tests got: none may show the secret. */
const answers: unknown[] = [];
const seen = <T>(v: T): T => (answers.push(v), v);

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, workspaceId } = await h.team('Envs'));
  testId = seen(await admin.api.environments.create.mutate({ workspaceId, name: 'test' })).id;
  prodId = seen(await admin.api.environments.create.mutate({ workspaceId, name: 'prod' })).id;
  seen(await admin.api.environments.setVariable.mutate({ environmentId: testId, name: 'DOWNSTREAM_HOST', value: '127.0.0.1' }));
  seen(await admin.api.environments.setVariable.mutate({ environmentId: testId, name: 'DOWNSTREAM_PORT', value: '7001' }));
  seen(await admin.api.environments.setVariable.mutate({ environmentId: prodId, name: 'DOWNSTREAM_HOST', value: '127.0.0.2' }));
  seen(await admin.api.environments.setVariable.mutate({ environmentId: prodId, name: 'DOWNSTREAM_PORT', value: '7002' }));
  // Each environment's secret may go only to its own downstream (see secret-hosts.int.test.ts).
  seen(await admin.api.environments.setVariable.mutate({ environmentId: testId, name: 'LAB_TOKEN', value: SECRET, secret: true, hosts: ['127.0.0.1'] }));
  seen(await admin.api.environments.setVariable.mutate({ environmentId: prodId, name: 'LAB_TOKEN', value: SECRET, secret: true, hosts: ['127.0.0.2:8080'] }));
  projectId = seen(await analyst.api.projects.create.mutate({ workspaceId, name: 'lab-feed', spec })).id;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('environments', () => {
  it('saves references unresolved and shows them as written (a secret reference too)', async () => {
    const got = seen(await viewer.api.projects.get.query({ id: projectId }));
    const items = got.version.spec.items ?? [];
    expect(items[1]!.settings).toEqual({ host: '${DOWNSTREAM_HOST}', port: '${DOWNSTREAM_PORT}' });
    expect(items[2]!.settings).toMatchObject({ headers: { Authorization: '${secret:LAB_TOKEN}' } });
  });

  it('lists the variables, secrets as •••; only admins write them', async () => {
    const list = seen(await viewer.api.environments.list.query({ workspaceId }));
    const test = list.find((e) => e.name === 'test')!;
    expect(test.variables.map((v) => `${v.name}=${v.value}${v.secret ? ' (secret)' : ''}`)).toEqual(['DOWNSTREAM_HOST=127.0.0.1', 'DOWNSTREAM_PORT=7001', 'LAB_TOKEN=••• (secret)']);
    expect(await errorCode(analyst.api.environments.setVariable.mutate({ environmentId: testId, name: 'X', value: 'y' }))).toBe('FORBIDDEN');
    expect(await errorCode(analyst.api.environments.create.mutate({ workspaceId, name: 'dev' }))).toBe('FORBIDDEN');
    expect(await errorCode(viewer.api.environments.delete.mutate({ id: testId }))).toBe('FORBIDDEN');
    expect(await errorCode(admin.api.environments.setVariable.mutate({ environmentId: testId, name: '1BAD', value: 'y' }))).toBe('BAD_REQUEST');
  });

  it('refuses ${secret:…} in a setting that is not secret', async () => {
    const bad = { ...spec, items: [...spec.items!, { name: 'Leak', type: 'file.out', settings: { directory: './out/${secret:LAB_TOKEN}' } }] };
    const problems = await badRequestProblems(analyst.api.projects.save.mutate({ id: projectId, spec: bad, baseVersion: 1 }));
    expect(problems.map((p) => p.pathText)).toEqual(['items[3].settings.directory']);
  });

  it('refuses a deploy with no environment, naming each reference', async () => {
    const problems = await badRequestProblems(analyst.api.production.deploy.mutate({ projectId }));
    expect(problems.map((p) => p.message)).toContain('item "Lab Out", setting host: variable DOWNSTREAM_HOST is not set in environment "(none: deploy to an environment)"');
  });

  it('names the item, the setting and the missing variable at deploy', async () => {
    const dev = seen(await admin.api.environments.create.mutate({ workspaceId, name: 'dev' }));
    seen(await admin.api.environments.setVariable.mutate({ environmentId: dev.id, name: 'DOWNSTREAM_HOST', value: '127.0.0.1' }));
    seen(await admin.api.environments.setVariable.mutate({ environmentId: dev.id, name: 'DOWNSTREAM_PORT', value: 'not-a-port' }));
    const problems = await badRequestProblems(analyst.api.production.deploy.mutate({ projectId, environment: 'dev' }));
    expect(problems.map((p) => `${p.pathText}: ${p.message}`)).toEqual([
      'items[1].settings.port: item "Lab Out", setting port: variable DOWNSTREAM_PORT must be a number here (it is not)',
      'items[2].settings.headers.Authorization: item "Web Out", setting headers.Authorization: variable secret:LAB_TOKEN is not set in environment "dev"',
    ]);
    // Validation runs on the resolved values: a port out of range is the schema's problem, told where it came from.
    seen(await admin.api.environments.setVariable.mutate({ environmentId: dev.id, name: 'DOWNSTREAM_PORT', value: '70000' }));
    seen(await admin.api.environments.setVariable.mutate({ environmentId: dev.id, name: 'LAB_TOKEN', value: 'x', secret: true, hosts: ['127.0.0.1'] }));
    const range = await badRequestProblems(analyst.api.production.deploy.mutate({ projectId, environment: 'dev' }));
    expect(range.map((p) => p.pathText)).toEqual(['items[1].settings.port']);
    expect(range[0]!.message).toContain('(from ${DOWNSTREAM_PORT} in environment "dev")');
    expect(await h.coordinator.getDesired(projectId)).toBeUndefined();
  });

  it('promotes one version from test to prod: each deploy resolves in its environment', async () => {
    const toTest = seen(await analyst.api.production.deploy.mutate({ projectId, version: 1, environment: 'test' }));
    expect(toTest).toMatchObject({ version: 1, environment: 'test' });
    let desired = (await h.coordinator.getDesired(projectId))!.spec as ProductionInput;
    expect(desired.items![1]!.settings).toEqual({ host: '127.0.0.1', port: 7001 });
    // The engine gets the secret (decrypted here, as secret settings are); no API answer does.
    expect(desired.items![2]!.settings).toEqual({ url: 'http://127.0.0.1:8080/lab', headers: { Authorization: SECRET } });

    seen(await analyst.api.production.deploy.mutate({ projectId, version: 1, environment: 'prod' }));
    desired = (await h.coordinator.getDesired(projectId))!.spec as ProductionInput;
    expect(desired.items![1]!.settings).toEqual({ host: '127.0.0.2', port: 7002 });
    expect(await h.store.configVersions.list(projectId)).toHaveLength(1);

    // Each environment records what it runs; a reload keeps the environment.
    seen(await analyst.api.production.reload.mutate({ projectId }));
    expect(((await h.coordinator.getDesired(projectId))!.spec as ProductionInput).items![1]!.settings).toMatchObject({ host: '127.0.0.2' });
    const list = seen(await viewer.api.environments.list.query({ workspaceId }));
    expect(list.find((e) => e.name === 'prod')!.runs).toMatchObject([{ projectId, projectName: 'lab-feed', version: 1, state: 'running' }]);
    expect(list.find((e) => e.name === 'test')!.runs).toEqual([]);
    // An environment something runs in cannot be deleted.
    expect(await errorCode(admin.api.environments.delete.mutate({ id: prodId }))).toBe('CONFLICT');
  });

  it('resolves for the designer: values shown, secrets as •••, missing ones named', async () => {
    const r = seen(await viewer.api.environments.resolve.query({ projectId, environment: 'prod' }));
    expect(r.settings.map((s) => `${s.item} ${s.path.join('.')} → ${s.resolved}`)).toEqual([
      'Lab Out host → 127.0.0.2',
      'Lab Out port → 7002',
      'Web Out url → http://127.0.0.2:8080/lab',
      'Web Out headers.Authorization → •••',
    ]);
    const staging = seen(await admin.api.environments.create.mutate({ workspaceId, name: 'staging' }));
    const s = seen(await viewer.api.environments.resolve.query({ projectId, environment: staging.name }));
    expect(s.settings[0]!.missing).toEqual(['DOWNSTREAM_HOST']);
  });

  it('never answers a secret value, and audits every change without it', async () => {
    const log = seen(await admin.api.audit.list.query({ workspaceId, limit: 200 }));
    const actions = log.items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['environment.create', 'environment.set_variable', 'deployment.deploy']));
    const secretSet = log.items.find((e) => e.action === 'environment.set_variable' && JSON.stringify(e.after).includes('LAB_TOKEN'));
    expect(secretSet?.after).toEqual({ name: 'LAB_TOKEN', secret: true, hosts: ['127.0.0.1'] });
    seen(await viewer.api.projects.export.query({ id: projectId }));
    const text = JSON.stringify(answers);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/hie:enc:v1:/);
    // Stored sealed.
    const rows = await h.store.environments.variables(testId);
    expect(rows.find((v) => v.secret)!.value).toMatch(/^hie:enc:v1:/);
  });

  it('lets a workspace go with its environments once its projects are stopped', async () => {
    seen(await analyst.api.production.stop.mutate({ projectId }));
    seen(await admin.api.workspaces.delete.mutate({ id: workspaceId }));
    expect(await h.store.environments.list(workspaceId)).toEqual([]);
  });
});
