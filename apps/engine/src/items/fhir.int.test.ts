/**
 * FHIR in and out on real sockets (issue 12, points 2–4): fhir.http.out against a real FHIR server
 * (Medplum's FhirRouter over its MemoryRepository, in a node:http server), fhir.http.in answering
 * real HTTP clients, and MLLP → hl7v2.to.fhir → fhir.http.out → a second production's
 * fhir.http.in, with both productions' traces in PostgreSQL.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { CONTENT_TYPES, MessageEnvelope } from '@hie/envelope';
import { validateFhir } from '@hie/fhir';
import { openTestStore, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { storedEnvelope } from '../runtime/envelopes';
import { StoreTracker } from '../runtime/store-tracker';
import { startFhirServer, type TestFhirServer } from '../testing/fhir-server';
import { testPolicy, until } from '../testing/helpers';
import { connectMllp } from '../testing/mllp-client';
import { makePki } from '../testing/pki';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const log = pino({ level: 'silent' });
let db: TestStore;
const running: { engine: ProductionEngine; tracker: StoreTracker }[] = [];
let server: TestFhirServer | undefined;

beforeAll(async () => {
  db = await openTestStore('postgres', { prefix: 'hie_test_fhir' });
  validateFhir({ resourceType: 'Patient' }); // the R4 definitions load once (seconds)
});
afterAll(async () => db.cleanup());
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.engine.stop();
    await r.tracker.close();
  }
  await server?.close();
  server = undefined;
  sinks.clear();
  manualServices.clear();
});

let projects = 0;
/** A production with its own project id and a store-backed tracker (so traces can be read). */
async function production(name: string, items: object[], connections: [string, string][]) {
  const owner = { projectId: `p-fhir-${++projects}-${Date.now()}`, workspaceId: 'w-fhir', production: name };
  const tracker = StoreTracker.forProduction(db.store.messages, owner, 'full', log);
  const { engine } = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), tracker });
  running.push({ engine, tracker });
  await engine.apply({ name, items, connections: connections.map(([from, to]) => ({ from, to })) });
  const port = (item: string) => Number(engine.status().items.find((i) => i.name === item)!.details!.port);
  const trace = async (id: string) => {
    await tracker.flush();
    return db.store.messages.trace(owner.projectId, id);
  };
  return { engine, tracker, projectId: owner.projectId, port, trace };
}

const fhirEnvelope = (resource: unknown) => MessageEnvelope.create({ raw: JSON.stringify(resource), contentType: CONTENT_TYPES.fhirJson, source: 'In' });

/** In (submitted by hand) → FHIR Out with these settings. */
async function clientProduction(settings: object, messaging: object = { retries: 3, retryDelayMs: 1, retryMaxDelayMs: 5 }) {
  const p = await production('fhir-client', [{ name: 'In', type: 'test.manual_in' }, { name: 'FHIR Out', type: 'fhir.http.out', settings, messaging }], [['In', 'FHIR Out']]);
  const send = async (resource: unknown) => {
    const { messageId } = await manualServices.get('In')!.submit(fhirEnvelope(resource));
    await p.engine.idle();
    return messageId;
  };
  /** The FHIR Out events of a message, once it has finished there. */
  const outEvents = async (id: string) => {
    let events: Awaited<ReturnType<typeof p.trace>> = [];
    await until(async () => {
      events = (await p.trace(id)).filter((e) => e.item === 'FHIR Out');
      return events.some((e) => e.event === 'delivered' || e.event === 'failed');
    });
    return events;
  };
  return { ...p, send, outEvents };
}

const patient = (mrn: string, extra: Json = {}) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: mrn }], name: [{ family: 'DOE', given: ['JANE'] }], ...extra });
const patientsWith = async (s: TestFhirServer, mrn: string) => (await s.repo.search({ resourceType: 'Patient', filters: [{ code: 'identifier', operator: 'eq' as never, value: `urn:mrn|${mrn}` }] })).entry ?? [];

describe('fhir.http.out against a real FHIR server (Medplum FhirRouter + MemoryRepository)', () => {
  it('creates, updates, and posts a transaction; the trace keeps what the server answered', async () => {
    server = await startFhirServer();
    const p = await clientProduction({ baseUrl: server.baseUrl });
    const created = await p.send(patient('C1'));
    expect(await patientsWith(server, 'C1')).toHaveLength(1);
    const seen = server.requests[0];
    expect(seen).toMatchObject({ method: 'POST', path: '/fhir/Patient' });
    expect(seen.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(seen.headers['x-correlation-id']).toBeTruthy();
    const delivered = (await p.outEvents(created)).find((e) => e.event === 'delivered');
    expect(delivered?.detail).toMatchObject({ interaction: 'create', status: 201, location: expect.stringMatching(/\/fhir\/Patient\/[^/]+\/_history\//) });

    await p.send({ ...patient('U1'), id: 'u1' });
    expect(server.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/fhir/Patient/u1' });
    expect(await server.repo.readResource('Patient', 'u1')).toMatchObject({ identifier: [{ value: 'U1' }] });

    const tx = await p.send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:0f0b7a4e-63a5-4d8e-9d4f-6d2a9f0e8d11', resource: patient('T1'), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:mrn|T1' } },
        { resource: { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:0f0b7a4e-63a5-4d8e-9d4f-6d2a9f0e8d11' } }, request: { method: 'POST', url: 'Encounter' } },
      ],
    });
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/fhir' });
    expect(await patientsWith(server, 'T1')).toHaveLength(1);
    expect((await server.repo.search({ resourceType: 'Encounter' })).entry).toHaveLength(1);
    const txEvent = (await p.outEvents(tx)).find((e) => e.event === 'delivered');
    expect(txEvent?.detail).toMatchObject({ interaction: 'transaction', status: 200, entries: ['201', '201'] });
  });

  it('a conditional create does not duplicate the resource (If-None-Exist by identifier)', async () => {
    server = await startFhirServer();
    const p = await clientProduction({ baseUrl: server.baseUrl, interaction: 'conditional-create', ifNoneExist: { identifierSystem: 'urn:mrn' } });
    await p.send(patient('K1'));
    const again = await p.send(patient('K1', { gender: 'female' }));
    expect(server.requests.map((r) => r.headers['if-none-exist'])).toEqual(['identifier=urn%3Amrn|K1', 'identifier=urn%3Amrn|K1']);
    expect(await patientsWith(server, 'K1')).toHaveLength(1);
    expect((await p.outEvents(again)).find((e) => e.event === 'delivered')?.detail).toMatchObject({ interaction: 'conditional-create', status: 200 });
  });

  it('a 4xx fails at once, visibly, with the server’s OperationOutcome in the trace', async () => {
    server = await startFhirServer();
    const p = await clientProduction({ baseUrl: server.baseUrl });
    const id = await p.send(patient('B1', { birthDate: 'yesterday' }));
    const events = await p.outEvents(id);
    expect(events.filter((e) => e.detail?.['retry'])).toEqual([]);
    const failed = events.find((e) => e.event === 'failed');
    expect(failed?.detail).toMatchObject({ code: 'fhir.status_400', kind: 'user' });
    expect((failed?.detail as Json).outcome.join('\n')).toMatch(/Patient\.birthDate/);
    expect(server.requests).toHaveLength(1);
    expect(await patientsWith(server, 'B1')).toHaveLength(0);
  });

  it('a 5xx is retried until the server takes it, each retry with the server’s answer', async () => {
    server = await startFhirServer();
    server.failNext(2, 503);
    const p = await clientProduction({ baseUrl: server.baseUrl });
    const id = await p.send(patient('R1'));
    const events = await p.outEvents(id);
    const retries = events.filter((e) => e.event === 'processing' && e.detail?.['retry']);
    expect(retries).toHaveLength(2);
    expect(retries[0].detail).toMatchObject({ code: 'fhir.status_503', outcome: ['error transient: server busy'] });
    expect(events.filter((e) => e.event !== 'completed').at(-1)?.event).toBe('delivered');
    expect(server.requests).toHaveLength(3);
    expect(await patientsWith(server, 'R1')).toHaveLength(1);
  });

  it('a connection refused is retried (operational), not failed at once', async () => {
    server = await startFhirServer();
    const baseUrl = server.baseUrl;
    await server.close();
    server = undefined;
    const p = await clientProduction({ baseUrl }, { retries: 1, retryDelayMs: 1, retryMaxDelayMs: 2 });
    const events = await p.outEvents(await p.send(patient('X1')));
    expect(events.filter((e) => e.detail?.['retry'])[0]?.detail).toMatchObject({ code: 'http.connection' });
    expect(events.filter((e) => e.event !== 'completed').at(-1)?.event).toBe('failed');
  });

  it('the egress policy applies: a host outside HIE_EGRESS_ALLOW is refused (user error), nothing is sent', async () => {
    server = await startFhirServer();
    const owner = { projectId: `p-fhir-egress-${Date.now()}`, workspaceId: 'w-fhir', production: 'egress' };
    const tracker = StoreTracker.forProduction(db.store.messages, owner, 'full', log);
    const { engine } = createEngine({ log, plugins: testItemTypes, policy: testPolicy({ egressAllow: ['fhir.example.org'] }), tracker });
    running.push({ engine, tracker });
    await engine.apply({ name: 'egress', items: [{ name: 'In', type: 'test.manual_in' }, { name: 'FHIR Out', type: 'fhir.http.out', settings: { baseUrl: server.baseUrl } }], connections: [{ from: 'In', to: 'FHIR Out' }] });
    const { messageId } = await manualServices.get('In')!.submit(fhirEnvelope(patient('E1')));
    await engine.idle();
    await tracker.flush();
    const failed = (await db.store.messages.trace(owner.projectId, messageId)).find((e) => e.event === 'failed');
    expect(failed?.detail).toMatchObject({ code: 'policy.egress_refused', kind: 'user' });
    expect(server.requests).toHaveLength(0);
  });

  it.each(['RS384', 'ES384'] as const)('SMART Backend Services (%s): a signed assertion buys a token, cached for the next messages', async (alg) => {
    const keys = alg === 'RS384' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = (k: typeof keys.privateKey, type: 'pkcs8' | 'spki') => k.export({ format: 'pem', type }).toString();
    server = await startFhirServer({ smart: { publicKeyPem: pem(keys.publicKey, 'spki'), clientId: 'hie-client', alg } });
    const p = await clientProduction({
      baseUrl: server.baseUrl,
      auth: 'smart-backend',
      tokenUrl: server.tokenUrl,
      clientId: 'hie-client',
      privateKey: pem(keys.privateKey, 'pkcs8'),
      algorithm: alg,
      scope: 'system/Patient.write',
    });
    await p.send(patient('S1'));
    await p.send(patient('S2'));
    expect(server.tokensIssued()).toBe(1);
    const fhirCalls = server.requests.filter((r) => r.path.startsWith('/fhir'));
    expect(fhirCalls.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
    expect(await patientsWith(server, 'S2')).toHaveLength(1);
  });

  it('SMART with a key the server does not know fails visibly (invalid_client), nothing reaches the FHIR API', async () => {
    const known = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    server = await startFhirServer({ smart: { publicKeyPem: known.publicKey.export({ format: 'pem', type: 'spki' }).toString(), clientId: 'hie-client', alg: 'RS384' } });
    const p = await clientProduction({ baseUrl: server.baseUrl, auth: 'smart-backend', tokenUrl: server.tokenUrl, clientId: 'hie-client', privateKey: other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    const events = await p.outEvents(await p.send(patient('S9')));
    expect(events.find((e) => e.event === 'failed')?.detail).toMatchObject({ code: 'fhir.auth', kind: 'user', error: expect.stringContaining('invalid_client') });
    expect(server.requests.filter((r) => r.path.startsWith('/fhir'))).toHaveLength(0);
  });
});

describe('fhir.http.in', () => {
  async function endpoint(settings: object = {}) {
    const p = await production('fhir-server', [{ name: 'FHIR In', type: 'fhir.http.in', settings: { host: '127.0.0.1', port: 0, basePath: '/fhir', ...settings } }, { name: 'Out', type: 'test.collect' }], [['FHIR In', 'Out']]);
    const base = `http://127.0.0.1:${p.port('FHIR In')}/fhir`;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { ...p, base, post };
  }

  it('GET [base]/metadata answers a valid CapabilityStatement made from the settings', async () => {
    const e = await endpoint({ resourceTypes: ['Patient', 'Observation'], interactions: { create: true, update: false, transaction: true, batch: false } });
    const res = await fetch(`${e.base}/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const cs = (await res.json()) as Json;
    expect(validateFhir(cs).filter((i) => i.severity === 'error')).toEqual([]);
    expect(cs.rest[0].resource).toEqual([
      { type: 'Patient', interaction: [{ code: 'create' }] },
      { type: 'Observation', interaction: [{ code: 'create' }] },
    ]);
    expect(cs.rest[0].interaction).toEqual([{ code: 'transaction' }]);
  });

  it('POST [base]/[type] stores the resource raw-first and answers 201 with Location; PUT answers 200', async () => {
    const e = await endpoint();
    const body = JSON.stringify(patient('IN1'));
    const res = await e.post('/Patient', body);
    expect(res.status).toBe(201);
    const created = (await res.json()) as Json;
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('location')).toBe(`${e.base}/Patient/${created.id}/_history/1`);
    const messageId = res.headers.get('x-message-id')!;
    const stored = await db.store.messages.get(e.projectId, messageId, { includeBody: true });
    expect(Buffer.from(stored!.raw!).toString()).toBe(body);
    expect(stored).toMatchObject({ contentType: 'application/fhir+json', messageType: 'Patient' });
    await e.engine.idle();
    expect(sink('Out')).toHaveLength(1);

    const put = await fetch(`${e.base}/Patient/abc`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...patient('IN2'), id: 'abc' }) });
    expect(put.status).toBe(200);
    expect(put.headers.get('location')).toBe(`${e.base}/Patient/abc/_history/1`);
  });

  it('an invalid resource gets 422 with an OperationOutcome naming the element, is stored refused, and the endpoint stays up', async () => {
    const e = await endpoint();
    const res = await e.post('/Patient', patient('BAD', { birthDate: 'yesterday' }));
    expect(res.status).toBe(422);
    const oo = (await res.json()) as Json;
    expect(oo.resourceType).toBe('OperationOutcome');
    expect(oo.issue.some((i: Json) => i.severity === 'error' && i.expression?.[0] === 'Patient.birthDate')).toBe(true);
    const notJson = await e.post('/Patient', '{"resourceType": "Patient",');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as Json).issue[0].details.text).toMatch(/invalid FHIR JSON/);
    let refused: Awaited<ReturnType<typeof db.store.messages.search>>['items'] = [];
    await until(async () => {
      await e.tracker.flush();
      refused = (await db.store.messages.search(e.projectId, { status: 'refused' })).items;
      return refused.length === 2;
    });
    expect(sink('Out')).toHaveLength(0);
    // Still serving.
    expect((await e.post('/Patient', patient('OK1'))).status).toBe(201);
    await e.engine.idle();
    expect(sink('Out')).toHaveLength(1);
  });

  it('negotiates application/fhir+json (415, 406), checks the type, the id and the bearer token', async () => {
    const e = await endpoint({ bearerToken: 's3cret', resourceTypes: ['Patient'] });
    const auth = { authorization: 'Bearer s3cret' };
    expect((await e.post('/Patient', patient('A'), {})).status).toBe(401);
    expect((await e.post('/Patient', patient('A'), { ...auth, 'content-type': 'application/xml' })).status).toBe(415);
    const notAcceptable = await e.post('/Patient', patient('A'), { ...auth, accept: 'application/fhir+xml' });
    expect(notAcceptable.status).toBe(406);
    expect(((await notAcceptable.json()) as Json).resourceType).toBe('OperationOutcome');
    expect((await e.post('/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, auth)).status).toBe(400);
    expect((await e.post('/Encounter', patient('A'), auth)).status).toBe(400);
    const put = await fetch(`${e.base}/Patient/one`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', ...auth }, body: JSON.stringify({ ...patient('A'), id: 'two' }) });
    expect(put.status).toBe(400);
    expect((await e.post('/Patient', patient('A'), { ...auth, accept: 'application/json' })).status).toBe(201);
  });

  it('serves HTTPS with mutual TLS: a client with a CA-signed certificate gets in, one without is turned away', async () => {
    const pki = await makePki();
    try {
      const e = await endpoint({ tls: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, requireClientCert: true } });
      const [ca, cert, key] = await Promise.all([readFile(pki.ca), readFile(pki.clientCert), readFile(pki.clientKey)]);
      const post = (opts: https.RequestOptions) =>
        new Promise<number>((resolve, reject) => {
          const req = https.request(`https://127.0.0.1:${e.port('FHIR In')}/fhir/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, ca, ...opts }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end(JSON.stringify(patient('TLS1')));
        });
      expect(await post({ cert, key })).toBe(201);
      await expect(post({})).rejects.toThrow();
      await e.engine.idle();
      expect(sink('Out')).toHaveLength(1);
    } finally {
      await rm(pki.dir, { recursive: true, force: true });
    }
  });

  it('POST [base] with a transaction Bundle answers a transaction-response', async () => {
    const e = await endpoint();
    const res = await e.post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:4d1f0f0c-8a4b-4e53-9a6e-2b1f4cbf3c21', resource: patient('TX1'), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:mrn|TX1' } },
        { resource: { ...patient('TX2'), id: 'p2' }, request: { method: 'PUT', url: 'Patient/p2' } },
      ],
    });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Json;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
    expect(bundle.entry.map((x: Json) => x.response.status)).toEqual(['201 Created', '200 OK']);
    expect(bundle.entry[1].response.location).toBe('Patient/p2/_history/1');
    expect(validateFhir(bundle).filter((i) => i.severity === 'error')).toEqual([]);
    const bad = await e.post('', { resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(bad.status).toBe(400);
  });
});

describe('end to end: MLLP → hl7v2.to.fhir → fhir.http.out → another production’s fhir.http.in', () => {
  const A01 = [
    'MSH|^~\\&|ADT|HOSP|HIE|HOSP|202401151230||ADT^A01^ADT_A01|E2E1|P|2.5',
    'EVN|A01|202401151230',
    'PID|1||MRN777^^^HOSP^MR||ROE^ANNA||19750310|F',
    'PV1|1|I|WARD2^7^B',
  ].join('\r');

  it('the Patient arrives, the traces link both messages, and a resend goes through again', async () => {
    const receiver = await production('fhir-receiver', [{ name: 'FHIR In', type: 'fhir.http.in', settings: { host: '127.0.0.1', port: 0 } }, { name: 'Inbox', type: 'test.collect' }], [['FHIR In', 'Inbox']]);
    const base = `http://127.0.0.1:${receiver.port('FHIR In')}/fhir`;
    const sender = await production(
      'v2-feed',
      [
        { name: 'MLLP In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } },
        { name: 'To FHIR', type: 'hl7v2.to.fhir', settings: { map: 'auto' } },
        { name: 'FHIR Out', type: 'fhir.http.out', settings: { baseUrl: base } },
      ],
      [
        ['MLLP In', 'To FHIR'],
        ['To FHIR', 'FHIR Out'],
      ],
    );
    const mllp = await connectMllp(sender.port('MLLP In'));
    try {
      expect(await mllp.send(A01)).toMatch(/MSA\|AA\|E2E1/);
    } finally {
      mllp.close();
    }
    await until(() => sink('Inbox').length === 1);
    const arrived = sink('Inbox')[0];
    const bundle = JSON.parse(arrived.text()) as Json;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
    expect(bundle.entry[0].resource).toMatchObject({ resourceType: 'Patient', identifier: [{ value: 'MRN777' }], birthDate: '1975-03-10', gender: 'female' });

    // The sender's stored message (the ADT) and the receiver's (the Bundle) link both ways.
    await sender.tracker.flush();
    const [adt] = (await db.store.messages.search(sender.projectId, {})).items;
    expect(adt).toMatchObject({ controlId: 'E2E1' });
    let sent: Json | undefined;
    await until(async () => {
      sent = (await sender.trace(adt.id)).find((e) => e.item === 'FHIR Out' && e.event === 'delivered');
      return sent !== undefined;
    });
    expect(sent!.detail).toMatchObject({ interaction: 'transaction', status: 200, entries: ['201 Created', '201 Created'] });
    expect((await sender.trace(adt.id)).find((e) => e.item === 'To FHIR' && e.event === 'delivered')?.detail).toMatchObject({ map: 'adt', entries: 2 });
    await receiver.tracker.flush();
    const got = await db.store.messages.get(receiver.projectId, arrived.header.messageId);
    expect(got).toMatchObject({ correlationId: 'E2E1', messageType: 'Bundle/transaction' });
    expect((got!.header['customProperties'] as Json).upstreamMessageId).toBe(adt.id);

    // Resend the ADT from the store to the mapping step: a second Bundle arrives.
    const copy = await db.store.messages.resend(sender.projectId, adt.id, { toItem: 'To FHIR', actor: 'test' });
    const env = storedEnvelope(copy.newId, copy.raw, copy.contentType, 'resend');
    env.header.parentId = copy.parentId;
    await sender.engine.inject('To FHIR', env);
    await until(() => sink('Inbox').length === 2);
    const second = sink('Inbox')[1];
    expect(JSON.parse(second.text()).entry[0].resource.identifier[0].value).toBe('MRN777');
    await receiver.tracker.flush();
    expect(((await db.store.messages.get(receiver.projectId, second.header.messageId))!.header['customProperties'] as Json).upstreamMessageId).toBe(copy.newId);
  });

  it('a map whose output is invalid fails the message visibly, with the issues in the trace', async () => {
    const p = await production(
      'bad-map',
      [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'To FHIR',
          type: 'hl7v2.to.fhir',
          settings: { map: 'custom', custom: { name: 'broken', resources: [{ id: 'p', resourceType: 'Patient', rules: [{ target: 'gender', fn: 'constant', value: 'bogus' }] }] } },
        },
        { name: 'Out', type: 'test.collect' },
      ],
      [
        ['In', 'To FHIR'],
        ['To FHIR', 'Out'],
      ],
    );
    const { messageId } = await manualServices.get('In')!.submit(MessageEnvelope.createHl7(A01, { source: 'In' }));
    await p.engine.idle();
    expect(sink('Out')).toHaveLength(0);
    let failed: Json | undefined;
    await until(async () => {
      failed = (await p.trace(messageId)).find((e) => e.item === 'To FHIR' && e.event === 'failed');
      return failed !== undefined;
    });
    expect(failed!.detail).toMatchObject({ code: 'fhir.map_invalid_output', kind: 'user' });
    expect((failed!.detail.issues as string[]).join('\n')).toMatch(/Bundle\.entry\[0\]\.resource\.gender/);
  });
});
