/**
 * Alerts (issue 13 point 3) against the real store, a real HTTP webhook receiver and a real SMTP
 * server: the API (roles, workspace scope, audit, write-only SMTP password), and the evaluator's
 * fire-once / repeat / resolve cycle, the silence window and "for M minutes", driven by an
 * injected clock (no sleeping) over node reports on the real in-process coordinator.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostPolicy } from '@hie/policy';
import { AlertEvaluator } from './alerts/evaluator.js';
import { mailReceiver, webhookReceiver, type MailReceiver, type WebhookReceiver } from './testing/alert-receivers.js';
import { errorCode, itemStatus, nodeStatus, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let outsider: ApiClient;
let workspaceId: string;
let hook: WebhookReceiver;
let mail: MailReceiver;
const SMTP = { user: 'hie-alerts', password: 's3cret-smtp-pass' };

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, outsider, workspaceId } = await h.team('Alerts'));
  hook = await webhookReceiver();
  mail = await mailReceiver(SMTP);
});
afterAll(async () => {
  await hook?.close();
  await mail?.close();
  await h?.close();
});

const log = pino({ level: 'silent' });
const run = promisify(execFile);
function evaluator(clock: { now: number }, policy = createHostPolicy()) {
  return new AlertEvaluator({ store: h.store, coordinator: h.coordinator, secrets: h.manager.services.secrets, policy, log, now: () => clock.now, notify: { webhookBackoffMs: 10, timeoutMs: 5000 } });
}
const emailChannel = () => ({ kind: 'email' as const, host: '127.0.0.1', port: mail.port, secure: false, from: 'hie@example.org', to: ['oncall@example.org'], user: SMTP.user, password: SMTP.password });
const channels = () => [{ kind: 'webhook' as const, url: hook.url }, emailChannel()];
async function project(name: string): Promise<string> {
  const p = await analyst.api.projects.create.mutate({ workspaceId, name, spec: sampleSpec(name) });
  await analyst.api.production.deploy.mutate({ projectId: p.id });
  return p.id;
}
const MIN = 60_000;

describe('alerts API', () => {
  it('analysts manage rules, viewers read them, outsiders see nothing; every change audited; the SMTP password is write-only', async () => {
    const projectId = await project('api-feed');
    const input = { projectId, name: 'Sender down', condition: { kind: 'item_down' as const, item: 'Files' }, channels: channels(), repeatMinutes: 30 };
    expect(await errorCode(viewer.api.alerts.create.mutate(input))).toBe('FORBIDDEN');
    expect(await errorCode(outsider.api.alerts.create.mutate(input))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.alerts.list.query({ projectId }))).toBe('NOT_FOUND');
    expect(await errorCode(analyst.api.alerts.create.mutate({ ...input, condition: { kind: 'silence', item: 'ADT In', minutes: 5, window: { from: '19:00', to: '07:00', days: [1], timeZone: 'Europe/London' } } }))).toBe('BAD_REQUEST');
    expect(await errorCode(analyst.api.alerts.create.mutate({ ...input, condition: { kind: 'silence', item: 'ADT In', minutes: 5, window: { from: '07:00', to: '19:00', days: [1], timeZone: 'Mars/Olympus' } } }))).toBe('BAD_REQUEST');

    const rule = await analyst.api.alerts.create.mutate(input);
    expect(rule.channels[1]).toEqual({ kind: 'email', host: '127.0.0.1', port: mail.port, secure: false, from: 'hie@example.org', to: ['oncall@example.org'], user: SMTP.user, hasPassword: true });
    const listed = await viewer.api.alerts.list.query({ projectId });
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(SMTP.password);
    // Stored sealed, not in clear.
    const stored = await h.store.alerts.get(projectId, rule.id);
    expect(JSON.stringify(stored)).not.toContain(SMTP.password);
    expect(JSON.stringify(stored)).toContain('hie:enc:v1:');

    // An update without the password keeps it: the test notice authenticates with it.
    const { password: _p, ...emailWithout } = emailChannel();
    const updated = await analyst.api.alerts.update.mutate({ ...input, id: rule.id, name: 'Files down', channels: [channels()[0], emailWithout] });
    expect(updated).toMatchObject({ name: 'Files down', channels: [{ kind: 'webhook' }, { kind: 'email', hasPassword: true }] });
    expect(await errorCode(viewer.api.alerts.test.mutate({ projectId, id: rule.id }))).toBe('FORBIDDEN');
    const hooksBefore = hook.received.length;
    const mailsBefore = mail.received.length;
    const tested = await analyst.api.alerts.test.mutate({ projectId, id: rule.id });
    expect(tested.outcomes).toEqual([expect.objectContaining({ channel: 'webhook', ok: true }), expect.objectContaining({ channel: 'email', ok: true })]);
    expect(hook.received.slice(hooksBefore)).toEqual([expect.objectContaining({ event: 'test', rule: expect.objectContaining({ name: 'Files down' }) })]);
    expect(mail.received.slice(mailsBefore)).toEqual([expect.objectContaining({ user: SMTP.user, to: ['oncall@example.org'], subject: expect.stringContaining('[HIE TEST] api-feed: Files down') })]);
    expect((await viewer.api.alerts.history.query({ projectId }))[0]).toMatchObject({ event: 'test', ruleName: 'Files down' });

    // `null` removes the password: the SMTP server then refuses to send.
    await analyst.api.alerts.update.mutate({ ...input, id: rule.id, channels: [{ ...emailWithout, password: null }] });
    expect((await analyst.api.alerts.test.mutate({ projectId, id: rule.id })).outcomes).toEqual([expect.objectContaining({ channel: 'email', ok: false })]);

    await expect(viewer.api.alerts.delete.mutate({ projectId, id: rule.id })).rejects.toThrow();
    expect(await analyst.api.alerts.delete.mutate({ projectId, id: rule.id })).toEqual({ ok: true });
    expect(await errorCode(analyst.api.alerts.delete.mutate({ projectId, id: rule.id }))).toBe('NOT_FOUND');

    const trail = await admin.api.audit.list.query({ workspaceId, entityType: 'alert', limit: 50 });
    expect(trail.items.map((a) => a.action).sort()).toEqual(['alert.create', 'alert.delete', 'alert.test', 'alert.test', 'alert.update', 'alert.update']);
    expect(JSON.stringify(trail.items)).not.toContain(SMTP.password);
    expect(JSON.stringify(trail.items)).not.toContain('hie:enc:v1:');
  });
});

describe('alert evaluator', () => {
  it('fires exactly once per channel, repeats at the interval, and resolves with a notice', async () => {
    const projectId = await project('cycle-feed');
    await analyst.api.alerts.create.mutate({ projectId, name: 'Sender down', condition: { kind: 'item_down' }, channels: channels(), repeatMinutes: 10 });
    const clock = { now: Date.now() };
    const ev = evaluator(clock);
    const [hooks0, mails0] = [hook.received.length, mail.received.length];
    const report = (files: Parameters<typeof itemStatus>[1]) =>
      h.coordinator.reportStatus(nodeStatus('n-cycle', projectId, 'cycle-feed', [itemStatus('ADT In', { kind: 'service' }), itemStatus('Files', files)]));

    await report({});
    await ev.tick();
    expect(hook.received.length - hooks0).toBe(0);

    await report({ retrying: true, lastError: { code: 'mllp.connection', message: 'connect ECONNREFUSED 127.0.0.1:1', at: Date.now() } });
    for (let i = 0; i < 3; i++) {
      await ev.tick();
      clock.now += MIN;
    }
    const fired = hook.received.slice(hooks0);
    expect(fired).toEqual([expect.objectContaining({ event: 'fired', subject: 'Files', project: { id: projectId, name: 'cycle-feed' } })]);
    expect(String(fired[0].summary)).toContain('retrying deliveries');
    expect(mail.received.slice(mails0).map((m) => m.subject)).toEqual([expect.stringContaining('[HIE FIRING] cycle-feed: Sender down (Files)')]);

    clock.now += 10 * MIN;
    await ev.tick();
    await ev.tick();
    expect(hook.received.slice(hooks0).map((n) => n.event)).toEqual(['fired', 'repeated']);

    await report({});
    await ev.tick();
    await ev.tick();
    expect(hook.received.slice(hooks0).map((n) => n.event)).toEqual(['fired', 'repeated', 'resolved']);
    expect(mail.received.slice(mails0).map((m) => m.subject.split(']')[0])).toEqual(['[HIE FIRING', '[HIE STILL FIRING', '[HIE RESOLVED']);
    const history = await viewer.api.alerts.history.query({ projectId });
    expect(history.map((e) => e.event)).toEqual(['resolved', 'repeated', 'fired']);
    expect(history[2].details).toMatchObject({ outcomes: [{ channel: 'webhook', ok: true }, { channel: 'email', ok: true }] });
  });

  it('two control planes evaluating at once send one notice (one evaluates at a time, through the store)', async () => {
    const projectId = await project('twin-feed');
    await analyst.api.alerts.create.mutate({ projectId, name: 'Down', condition: { kind: 'item_down' }, channels: [{ kind: 'webhook', url: hook.url }], repeatMinutes: 0 });
    await h.coordinator.reportStatus(nodeStatus('n-twin', projectId, 'twin-feed', [itemStatus('Files', { state: 'failed' })]));
    const n = hook.received.length;
    const clock = { now: Date.now() };
    await Promise.all([evaluator(clock).tick(), evaluator(clock).tick(), evaluator(clock).tick()]);
    await evaluator(clock).tick();
    expect(hook.received.slice(n).filter((b) => (b.project as { id: string }).id === projectId).map((b) => b.event)).toEqual(['fired']);
  });

  it('silence on an inbound item fires within its window (weekdays 07:00–19:00, Europe/London) and not outside it', async () => {
    const projectId = await project('silent-feed');
    await analyst.api.alerts.create.mutate({
      projectId,
      name: 'No ADT',
      condition: { kind: 'silence', item: 'ADT In', minutes: 30, window: { from: '07:00', to: '19:00', days: [1, 2, 3, 4, 5], timeZone: 'Europe/London' } },
      channels: [{ kind: 'webhook', url: hook.url }],
      repeatMinutes: 0,
    });
    await h.coordinator.reportStatus(nodeStatus('n-silent', projectId, 'silent-feed', [itemStatus('ADT In', { kind: 'service' })]));
    const hooks0 = hook.received.length;
    const at = (iso: string) => ({ now: Date.parse(iso) });
    // Summer time: 10:00 in London is 09:00 UTC.
    for (const outside of ['2027-07-03T09:00:00Z' /* Saturday */, '2027-07-05T18:30:00Z' /* Monday 19:30 */, '2027-07-05T06:20:00Z' /* Monday 07:20: 20 min into the window */]) {
      await evaluator(at(outside)).tick();
    }
    expect(hook.received.length - hooks0).toBe(0);
    await evaluator(at('2027-07-05T09:00:00Z')).tick();
    expect(hook.received.slice(hooks0)).toEqual([expect.objectContaining({ event: 'fired', subject: 'ADT In' })]);
    expect(String(hook.received[hooks0].summary)).toMatch(/ADT In: no message received for \d+ minutes/);

    // A message arrives: resolved.
    const writer = h.store.messages.writer();
    await writer.received({ id: crypto.randomUUID(), production: 'silent-feed', projectId, workspaceId, item: 'ADT In', receivedAt: Date.parse('2027-07-05T09:05:00Z'), messageType: 'ADT^A01', controlId: 'S1', patientId: null, contentType: 'application/hl7-v2+er7', header: {}, raw: new TextEncoder().encode('MSH|^~\\&|') });
    await writer.close();
    await evaluator(at('2027-07-05T09:10:00Z')).tick();
    expect(hook.received.slice(hooks0).map((n) => n.event)).toEqual(['fired', 'resolved']);
  });

  it('queue depth over N counts only once it held for M minutes; errors per minute and store backlog fire on their figures', async () => {
    const projectId = await project('figures-feed');
    const rules = [
      { name: 'Backlog', condition: { kind: 'queue_depth' as const, item: 'Files', over: 100, forMinutes: 5 } },
      { name: 'Errors', condition: { kind: 'error_rate' as const, perMinute: 10 } },
      { name: 'Store', condition: { kind: 'store_backlog' as const, over: 1000 } },
    ];
    for (const r of rules) await analyst.api.alerts.create.mutate({ projectId, ...r, channels: [{ kind: 'webhook', url: hook.url }], repeatMinutes: 0 });
    const clock = { now: Date.now() };
    const ev = evaluator(clock);
    const hooks0 = hook.received.length;
    const mine = () => hook.received.slice(hooks0).map((n) => `${(n.rule as { name: string }).name}:${n.event as string}`);
    const report = async (files: Parameters<typeof itemStatus>[1], storeBacklog = 0) => {
      const s = nodeStatus('n-fig', projectId, 'figures-feed', [itemStatus('Files', files)]);
      s.productions[0].storeBacklog = storeBacklog;
      await h.coordinator.reportStatus(s);
    };
    await report({ queueDepth: 500, errors: 0 });
    await ev.tick();
    clock.now += 4 * MIN;
    await report({ queueDepth: 500, errors: 20 }); // 5 per minute: under 10
    await ev.tick();
    expect(mine()).toEqual([]);
    clock.now += 1 * MIN;
    await report({ queueDepth: 500, errors: 40 }, 5000); // 20 in a minute
    await ev.tick();
    expect(mine().sort()).toEqual(['Backlog:fired', 'Errors:fired', 'Store:fired']);
  });

  it('suspended messages over N fire on the item where they failed', async () => {
    const projectId = await project('suspended-feed');
    await analyst.api.alerts.create.mutate({ projectId, name: 'Suspended', condition: { kind: 'suspended', over: 1 }, channels: [{ kind: 'webhook', url: hook.url }], repeatMinutes: 0 });
    await h.coordinator.reportStatus(nodeStatus('n-susp', projectId, 'suspended-feed', [itemStatus('Files')]));
    const writer = h.store.messages.writer();
    const scope = { production: 'suspended-feed', projectId, workspaceId };
    const fail = async (i: number) => {
      const id = crypto.randomUUID();
      const t0 = Date.now() - 1000;
      await writer.received({ id, ...scope, item: 'ADT In', receivedAt: t0, messageType: 'ADT^A01', controlId: `SU${i}`, patientId: null, contentType: 'application/hl7-v2+er7', header: {}, raw: new TextEncoder().encode('MSH|^~\\&|') });
      await writer.event({ messageId: id, ...scope, item: 'Files', event: 'failed', at: t0 + 2, detail: { code: 'net.refused' } });
      await writer.event({ messageId: id, ...scope, item: 'Files', event: 'completed', at: t0 + 3 });
    };
    const n = hook.received.length;
    const mine = () => hook.received.slice(n).filter((b) => (b.project as { id: string }).id === projectId);
    await fail(1);
    await writer.flush();
    await evaluator({ now: Date.now() }).tick();
    expect(mine()).toEqual([]);
    await fail(2);
    await writer.close();
    await evaluator({ now: Date.now() }).tick();
    expect(mine()).toEqual([expect.objectContaining({ event: 'fired', subject: 'Files', summary: 'Files: 2 suspended messages (over 1)' })]);
  });

  it('a TLS certificate of an item expiring within D days fires; one further out does not', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hie-alert-cert-'));
    const cert = async (name: string, days: number) => {
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.pem`), '-days', String(days), '-subj', `/CN=${name}`]);
      return path.join(dir, `${name}.pem`);
    };
    const soon = await cert('soon', 5);
    const later = await cert('later', 400);
    const projectId = await project('tls-feed');
    await analyst.api.alerts.create.mutate({ projectId, name: 'Certificates', condition: { kind: 'cert_expiry', days: 30 }, channels: [{ kind: 'webhook', url: hook.url }], repeatMinutes: 0 });
    // The deployed spec as the engine gets it (the files lie outside this harness's save roots, so set it directly).
    const desired = (await h.coordinator.getDesired(projectId))!;
    const tls = (certFile: string) => ({ enabled: true, certFile, keyFile: certFile.replace('.pem', '.key'), caFile: '', requireClientCert: false, rejectUnauthorized: true });
    await h.coordinator.setDesired({
      ...desired,
      spec: { name: 'tls-feed', items: [{ name: 'Secure Out', type: 'hl7.mllp.out', settings: { tls: tls(soon) } }, { name: 'Fine Out', type: 'hl7.mllp.out', settings: { tls: tls(later) } }], connections: [] },
    });
    const n = hook.received.length;
    await evaluator({ now: Date.now() }, createHostPolicy({ roots: [dir] })).tick();
    const mine = hook.received.slice(n).filter((b) => (b.project as { id: string }).id === projectId);
    expect(mine).toEqual([expect.objectContaining({ event: 'fired', subject: 'Secure Out', summary: expect.stringMatching(/^Secure Out: TLS certificate expires in [45] days/) })]);
  });

  it('webhooks are retried with backoff; the egress policy refuses a host it does not allow', async () => {
    const projectId = await project('retry-feed');
    await analyst.api.alerts.create.mutate({ projectId, name: 'Down', condition: { kind: 'item_down' }, channels: [{ kind: 'webhook', url: hook.url }], repeatMinutes: 0 });
    await h.coordinator.reportStatus(nodeStatus('n-retry', projectId, 'retry-feed', [itemStatus('Files', { state: 'failed' })]));
    const before = hook.requests.length;
    const ofProject = (from: number, id: string) => hook.requests.slice(from).filter((b) => (b.project as { id: string }).id === id);
    // Other projects' rules are evaluated too: only this one's notice runs into the failures.
    for (const r of await h.store.alerts.listEnabled()) if (r.projectId !== projectId) await h.store.alerts.update(r.projectId, r.id, { enabled: false });
    hook.failNext(2);
    await evaluator({ now: Date.now() }).tick();
    expect(ofProject(before, projectId)).toHaveLength(3);
    const [fired] = await viewer.api.alerts.history.query({ projectId });
    expect(fired.details).toMatchObject({ outcomes: [{ channel: 'webhook', ok: true, attempts: 3 }] });

    const refused = await project('refused-feed');
    await analyst.api.alerts.create.mutate({ projectId: refused, name: 'Down', condition: { kind: 'item_down' }, channels: [{ kind: 'webhook', url: hook.url }], repeatMinutes: 0 });
    await h.coordinator.reportStatus(nodeStatus('n-refused', refused, 'refused-feed', [itemStatus('Files', { state: 'failed' })]));
    const n = hook.requests.length;
    await evaluator({ now: Date.now() }, createHostPolicy({ egressAllow: ['alerts.example.org'] })).tick();
    expect(ofProject(n, refused)).toHaveLength(0);
    const [entry] = await viewer.api.alerts.history.query({ projectId: refused });
    expect(entry.details).toMatchObject({ outcomes: [{ channel: 'webhook', ok: false, attempts: 1, error: expect.stringContaining('HIE_EGRESS_ALLOW') }] });
  });
});
