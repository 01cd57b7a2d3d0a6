/**
 * Secret settings through the real HTTP API on PostgreSQL: write-only (get, export, items.list,
 * diff, audit never show them), kept when `••• set` is sent back, encrypted in the stored
 * version, and decrypted only in the desired state the engine nodes receive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PLACEHOLDER, type ProductionInput } from '@hie/config';
import pino from 'pino';
import { createCaller } from './router.js';
import { SecretBox } from './secrets.js';
import { badRequestProblems, startHarness, type ApiClient, type Harness } from './testing/harness.js';
import { callerContext, createServices } from './trpc.js';

const TOKEN = 'in-token-Zq81';
const HEADER = 'Bearer out-token-Kx42';
const KEY = 'api-key-Wm77';

function secretSpec(name: string, token = TOKEN): ProductionInput {
  return {
    name,
    items: [
      { name: 'Web In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, bearerToken: token } },
      { name: 'Open In', type: 'http.in', settings: { host: '127.0.0.1', port: 0 } },
      { name: 'Web Out', type: 'http.out', settings: { url: 'http://127.0.0.1:9/x', headers: { Authorization: HEADER, 'X-Api-Key': KEY } } },
    ],
    connections: [{ from: 'Web In', to: 'Web Out' }],
  };
}

/** Fails when `value` shows any of the secrets, in plaintext or encrypted. */
function expectNoSecret(value: unknown) {
  const text = JSON.stringify(value);
  for (const s of [TOKEN, 'out-token-Kx42', KEY, 'new-token']) expect(text).not.toContain(s);
  expect(text).not.toMatch(/hie:enc:v1:[A-Za-z0-9+/]/);
}

/** The problems of a call refused with BAD_REQUEST, as `path: message`; the answer shows no secret. */
async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  const problems = await badRequestProblems(p);
  expectNoSecret(problems);
  return problems.map((x) => `${x.pathText}: ${x.message}`);
}

type Settings = Record<string, unknown>;
const settingsOf = (spec: unknown, item: string): Settings =>
  ((spec as ProductionInput).items ?? []).find((i) => i.name === item)?.settings ?? {};

let h: Harness;
let analyst: ApiClient;
let admin: ApiClient;
let workspaceId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ analyst, admin, workspaceId } = await h.team('Secrets'));
});
afterAll(async () => {
  await h?.close();
});

describe('secret settings', () => {
  it('are never returned: get, export and items.list show "••• set"; the stored version holds them encrypted', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'hidden', spec: secretSpec('hidden') });
    const got = await analyst.api.projects.get.query({ id: p.id });
    expectNoSecret(got);
    expect(settingsOf(got.version.spec, 'Web In').bearerToken).toBe(SECRET_PLACEHOLDER);
    expect(settingsOf(got.version.spec, 'Web Out').headers).toEqual({ Authorization: SECRET_PLACEHOLDER, 'X-Api-Key': SECRET_PLACEHOLDER });
    // Not set stays not set: the form must not claim a token where there is none.
    expect(settingsOf(got.version.spec, 'Open In').bearerToken).toBeUndefined();
    expect(settingsOf(got.version.spec, 'Web Out').url).toBe('http://127.0.0.1:9/x');

    const exported = await analyst.api.projects.export.query({ id: p.id });
    expectNoSecret(exported);
    expect(settingsOf(exported, 'Web In').bearerToken).toBe(SECRET_PLACEHOLDER);
    expectNoSecret(await analyst.api.items.list.query({ projectId: p.id }));

    const row = await h.store.configVersions.get(p.id, 1);
    const raw = JSON.stringify(row?.spec);
    for (const s of [TOKEN, 'out-token-Kx42', KEY]) expect(raw).not.toContain(s);
    expect(settingsOf(row?.spec, 'Web In').bearerToken).toMatch(/^hie:enc:v1:/);
  });

  it('sent back as "••• set" they are kept; a new value replaces them; the diff says changed, never the value; the engine gets the real values', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'kept', spec: secretSpec('kept') });
    const v1 = await analyst.api.projects.get.query({ id: p.id });
    // The designer's round trip: the redacted spec, one unrelated change.
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: { ...v1.version.spec, description: 'v2' } });
    const [row1, row2] = await Promise.all([h.store.configVersions.get(p.id, 1), h.store.configVersions.get(p.id, 2)]);
    expect(settingsOf(row2?.spec, 'Web In').bearerToken).toBe(settingsOf(row1?.spec, 'Web In').bearerToken);
    expect(settingsOf(row2?.spec, 'Web Out').headers).toEqual(settingsOf(row1?.spec, 'Web Out').headers);
    const same = await analyst.api.versions.diff.query({ projectId: p.id, from: 1, to: 2 });
    expect(same.changed).toEqual([]);

    await analyst.api.production.deploy.mutate({ projectId: p.id });
    let desired = await h.coordinator.getDesired(p.id);
    expect(settingsOf(desired?.spec, 'Web In').bearerToken).toBe(TOKEN);
    expect(settingsOf(desired?.spec, 'Web Out').headers).toEqual({ Authorization: HEADER, 'X-Api-Key': KEY });

    // One item through items.upsert, as the item form sends it: a new token, the rest kept.
    const listed = await analyst.api.items.list.query({ projectId: p.id });
    const webIn = listed.items.find((i) => i.name === 'Web In')!;
    await analyst.api.items.upsert.mutate({ projectId: p.id, baseVersion: 2, item: { ...webIn, settings: { ...webIn.settings, bearerToken: 'new-token' } } });
    const diff = await analyst.api.versions.diff.query({ projectId: p.id, from: 2, to: 3 });
    expectNoSecret(diff);
    expect(diff.changed).toEqual([{ item: 'Web In', fields: [{ path: 'settings.bearerToken', before: SECRET_PLACEHOLDER, after: '••• changed' }] }]);

    await analyst.api.production.reload.mutate({ projectId: p.id });
    desired = await h.coordinator.getDesired(p.id);
    expect(settingsOf(desired?.spec, 'Web In').bearerToken).toBe('new-token');
    expect(settingsOf(desired?.spec, 'Web Out').headers).toEqual({ Authorization: HEADER, 'X-Api-Key': KEY });

    // A rollback brings the old encrypted values back; they still decrypt.
    await analyst.api.versions.rollback.mutate({ projectId: p.id, version: 1 });
    await analyst.api.production.deploy.mutate({ projectId: p.id, version: 4 });
    expect(settingsOf((await h.coordinator.getDesired(p.id))?.spec, 'Web In').bearerToken).toBe(TOKEN);

    // Emptying a secret removes it.
    const v4 = await analyst.api.projects.get.query({ id: p.id });
    const cleared = { ...v4.version.spec, items: v4.version.spec.items?.map((i) => (i.name === 'Web In' ? { ...i, settings: { ...i.settings, bearerToken: '' } } : i)) };
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 4, spec: cleared });
    expect(settingsOf((await analyst.api.projects.get.query({ id: p.id })).version.spec, 'Web In').bearerToken).toBe('');

    const entries = await admin.api.audit.list.query({ workspaceId, entityId: p.id, limit: 500 });
    expectNoSecret(entries);
    // The change summary names a secret's path when its value changed, and only then.
    const upsert = entries.items.find((e) => e.action === 'config.item.upsert');
    expect(upsert?.after).toMatchObject({ changes: { itemsChanged: [{ item: 'Web In', paths: ['settings.bearerToken'] }] } });
    const roundTrip = entries.items.find((e) => e.action === 'config.save' && (e.after as { version?: number }).version === 2);
    expect(roundTrip?.after).toMatchObject({ changes: { production: ['description'] } });
    expect((roundTrip?.after as { changes: object }).changes).not.toHaveProperty('itemsChanged');
  });

  it('"••• set" where nothing is stored is refused with the field: an import of an export, a renamed item', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'source', spec: secretSpec('source') });
    const exported = await analyst.api.projects.export.query({ id: p.id });
    const problems = await problemsOf(analyst.api.projects.import.mutate({ workspaceId, name: 'copy', spec: exported }));
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^items\[0\]\.settings\.bearerToken: "••• set" keeps a stored secret/),
        expect.stringMatching(/^items\[2\]\.settings\.headers\.Authorization: /),
        expect.stringMatching(/^items\[2\]\.settings\.headers\["X-Api-Key"\]: /),
      ]),
    );
    // Nothing half-created.
    expect((await analyst.api.projects.list.query({ workspaceId })).map((x) => x.name)).not.toContain('copy');

    const got = await analyst.api.projects.get.query({ id: p.id });
    const renamed = { ...got.version.spec, items: got.version.spec.items?.map((i) => (i.name === 'Web In' ? { ...i, name: 'Renamed In' } : i)), connections: [] };
    expect(await problemsOf(analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: renamed }))).toEqual([
      expect.stringMatching(/^items\[0\]\.settings\.bearerToken: .*item "Renamed In"/),
    ]);
    // items.upsert reports it on its own input's path.
    const item = { name: 'Other In', type: 'http.in', settings: { port: 0, bearerToken: SECRET_PLACEHOLDER } };
    expect(await problemsOf(analyst.api.items.upsert.mutate({ projectId: p.id, baseVersion: 1, item }))).toEqual([expect.stringMatching(/^item\.settings\.bearerToken: /)]);
  });

  it('stored header values are not kept when the URL they go to changes (no redirecting credentials)', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'redirect', spec: secretSpec('redirect') });
    const got = (await analyst.api.projects.get.query({ id: p.id })).version.spec;
    const withOut = (settings: Settings) => ({ ...got, items: got.items?.map((i) => (i.name === 'Web Out' ? { ...i, settings: { ...i.settings, ...settings } } : i)) });
    const elsewhere = withOut({ url: 'http://attacker.test/collect' });
    const problems = await problemsOf(analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: elsewhere }));
    expect(problems).toHaveLength(2);
    for (const x of problems) expect(x).toMatch(/^items\[2\]\.settings\.headers.*: "••• set" cannot keep the stored secret: url changed, so enter the secret again$/);
    // The same through items.upsert.
    const item = elsewhere.items!.find((i) => i.name === 'Web Out')!;
    expect(await problemsOf(analyst.api.items.upsert.mutate({ projectId: p.id, baseVersion: 1, item }))).toHaveLength(2);
    // New values for the new URL are fine; other settings of the item may change keeping them.
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec: withOut({ timeoutMs: 5000 }) });
    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 2, spec: withOut({ url: 'http://other.test/', headers: { Authorization: 'Bearer other' } }) });
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    expect(settingsOf((await h.coordinator.getDesired(p.id))?.spec, 'Web Out')).toMatchObject({ url: 'http://other.test/', headers: { Authorization: 'Bearer other' } });
  });

  it('an encrypted value only decrypts where it was saved: copied to another project, item or field it is refused', async () => {
    const a = await analyst.api.projects.create.mutate({ workspaceId, name: 'a', spec: secretSpec('a') });
    const sealed = settingsOf((await h.store.configVersions.get(a.id, 1))?.spec, 'Web In').bearerToken as string;
    const b = await analyst.api.projects.create.mutate({ workspaceId, name: 'b', spec: secretSpec('b', 'b-token') });
    const steal = secretSpec('b', sealed);
    expect(await problemsOf(analyst.api.projects.save.mutate({ id: b.id, baseVersion: 1, spec: steal }))).toEqual([
      expect.stringMatching(/^items\[0\]\.settings\.bearerToken: an encrypted value that does not belong here/),
    ]);
    // Same project, to a header sent to another host.
    const moved = secretSpec('a');
    (moved.items![2]!.settings as { headers: Record<string, string> }).headers['X-Leak'] = sealed;
    expect(await problemsOf(analyst.api.projects.save.mutate({ id: a.id, baseVersion: 1, spec: moved }))).toEqual([
      expect.stringMatching(/^items\[2\]\.settings\.headers\["X-Leak"\]: an encrypted value/),
    ]);
    // Into a field that is not secret.
    const plain = secretSpec('a');
    plain.items![2]!.settings = { ...plain.items![2]!.settings, url: 'http://127.0.0.1:9/x' };
    plain.description = 'fine';
    plain.items!.push({ name: 'Files', type: 'file.out', settings: { directory: sealed } });
    expect(await problemsOf(analyst.api.projects.save.mutate({ id: a.id, baseVersion: 1, spec: plain }))).toEqual([
      expect.stringMatching(/^items\[3\]\.settings\.directory: must not start with "hie:enc:v1:"/),
    ]);
    expect(await problemsOf(analyst.api.projects.create.mutate({ workspaceId, name: 'c', spec: secretSpec('c', sealed) }))).toHaveLength(1);
  });

  it('clone re-encrypts for the copy, which deploys with the real values', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'orig', spec: secretSpec('orig') });
    const copy = await analyst.api.projects.clone.mutate({ id: p.id, name: 'twin' });
    expectNoSecret(await analyst.api.projects.get.query({ id: copy.id }));
    expect(settingsOf((await h.store.configVersions.get(copy.id, 1))?.spec, 'Web In').bearerToken).toMatch(/^hie:enc:v1:/);
    await analyst.api.production.deploy.mutate({ projectId: copy.id });
    expect(settingsOf((await h.coordinator.getDesired(copy.id))?.spec, 'Web In').bearerToken).toBe(TOKEN);
  });

  it('a version saved before encryption (plaintext) is redacted, deploys as it is, and is encrypted when saved again', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'legacy', spec: secretSpec('legacy', 'unused') });
    await h.store.configVersions.create(p.id, secretSpec('legacy'), null, 'written before secrets were encrypted');
    const got = await analyst.api.projects.get.query({ id: p.id });
    expect(got.version.version).toBe(2);
    expectNoSecret(got);
    expectNoSecret(await analyst.api.versions.diff.query({ projectId: p.id, from: 1, to: 2 }));
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    expect(settingsOf((await h.coordinator.getDesired(p.id))?.spec, 'Web In').bearerToken).toBe(TOKEN);

    await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 2, spec: got.version.spec });
    const row = await h.store.configVersions.get(p.id, 3);
    expect(JSON.stringify(row?.spec)).not.toContain(TOKEN);
    await analyst.api.production.deploy.mutate({ projectId: p.id });
    expect(settingsOf((await h.coordinator.getDesired(p.id))?.spec, 'Web In').bearerToken).toBe(TOKEN);
  });

  it('under another key, deploy fails naming the setting (never sending ciphertext to the engine)', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'rekeyed', spec: secretSpec('rekeyed') });
    const services = createServices({ store: h.store, coordinator: h.coordinator, log: pino({ level: 'silent' }), secrets: SecretBox.random() });
    const alice = (await h.store.users.getByUsername('alice'))!;
    const other = createCaller(callerContext(services, { id: alice.id, username: 'alice', displayName: 'alice', isAdmin: false }));
    await expect(other.production.deploy({ projectId: p.id })).rejects.toMatchObject({
      message: expect.stringMatching(/^cannot decrypt the secret setting items\[0\]\.settings\.bearerToken: HIE_SECRET_KEY is not the key/),
    });
    expect(await h.coordinator.getDesired(p.id)).toBeUndefined();
    // Reading still works (redaction needs no key).
    expectNoSecret(await other.projects.get({ id: p.id }));
  });
});
