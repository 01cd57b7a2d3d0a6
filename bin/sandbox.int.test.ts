/**
 * Issue 14, point 1: `production.test` through the manager's API with the engine's real sandbox
 * (composed here as bin/start.ts composes it): every item runs its real code, operations show
 * what they would send and deliver nothing (a real MLLP sink sees no connection, no file is
 * written), nothing reaches the message store, and saved test cases run on every save.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '@hie/engine';
import { corpusDir, freePort, tempDir, testPolicy } from '../apps/engine/src/testing/helpers';
import { errorCode, startHarness, type ApiClient, type Harness } from '../apps/manager/src/testing/harness';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let outsider: ApiClient;
let workspaceId: string;
let out: string;
let sinkPort: number;
let sink: net.Server;
let sinkConnections = 0;

const ADT = readFileSync(path.join(corpusDir, 'hapi__ADT_A01__2.4__01.hl7'), 'latin1').replace(/\r\n|\n/g, '\r');
const ORU = readFileSync(path.join(corpusDir, 'mirth__ORU_R01__2.3__01.hl7'), 'latin1').replace(/\r\n|\n/g, '\r');
const ORM = readFileSync(path.join(corpusDir, 'hapi__ORM_O01__2.2__01.hl7'), 'latin1').replace(/\r\n|\n/g, '\r');

/** The demo's shape: MLLP in → router → files and a downstream MLLP system; ORU through a transform. */
function spec(adtTypes: string[] = ['A01', 'A04', 'A08']) {
  return {
    name: 'sandboxed',
    items: [
      { name: 'ADT In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 1 } },
      {
        name: 'Route',
        type: 'hl7.router',
        settings: {
          rules: [
            { name: 'ADT', when: { and: [{ path: 'MSH-9.1', op: '=', value: 'ADT' }, { path: 'MSH-9.2', op: 'in', values: adtTypes }] }, then: { action: 'send', to: ['ADT Files', 'Downstream'] } },
            { name: 'Results', when: { path: 'MSH-9.1', op: '=', value: 'ORU' }, then: { action: 'send', to: ['Tidy'] } },
          ],
          otherwise: 'discard',
        },
      },
      { name: 'Tidy', type: 'hl7.transform', settings: { operations: [{ op: 'lower', path: 'PID-5.1' }, { op: 'set', path: 'MSH-5', value: 'LAB-ARCHIVE' }] } },
      { name: 'ADT Files', type: 'file.out', settings: { directory: path.join(out, 'adt'), filename: '{controlId}.hl7' } },
      { name: 'ORU Files', type: 'file.out', settings: { directory: path.join(out, 'oru') } },
      { name: 'Downstream', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: sinkPort } },
    ],
    connections: [
      { from: 'ADT In', to: 'Route' },
      { from: 'Route', to: 'ADT Files' },
      { from: 'Route', to: 'Downstream' },
      { from: 'Route', to: 'Tidy' },
      { from: 'Tidy', to: 'ORU Files' },
    ],
  };
}

async function storeRows(): Promise<number> {
  const rows = await h.store.db.execute(sql`select (select count(*) from messages) + (select count(*) from message_events) + (select count(*) from message_status) as n`);
  const first = (Array.isArray(rows) ? rows[0] : (rows as { rows: unknown[] }).rows[0]) as { n: string | number };
  return Number(first.n);
}

beforeAll(async () => {
  out = await tempDir('hie-sandbox-');
  sinkPort = await freePort();
  // A real downstream system: it must never see a connection.
  sink = net.createServer((s) => {
    sinkConnections++;
    s.destroy();
  });
  await new Promise<void>((r) => sink.listen(sinkPort, '127.0.0.1', () => r()));
  const policy = testPolicy();
  h = await startHarness({ policy, sandbox: createSandbox({ policy }) });
  ({ admin, analyst, viewer, outsider, workspaceId } = await h.team('Sandbox'));
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((r) => sink.close(() => r()));
});

describe('production.test', () => {
  it('runs an ADT message through every item: the matched rule, what each operation would send and where; nothing delivered or stored', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'adt', spec: spec() });
    const before = await storeRows();
    const result = await analyst.api.production.test.mutate({ projectId, raw: ADT.replace(/\r/g, '\n') });
    expect(result.version).toBe(1);
    expect(result.steps.map((s) => [s.item, s.outcome])).toEqual([
      ['ADT In', 'received'],
      ['Route', 'sent'],
      ['ADT Files', 'would_send'],
      ['Downstream', 'would_send'],
    ]);
    const route = result.steps[1];
    expect(route).toMatchObject({ matchedRule: 'ADT', targets: ['ADT Files', 'Downstream'], from: 'ADT In' });
    const files = result.steps[2];
    expect(files.wouldSend).toEqual({ to: path.join(out, 'adt', '22139243.hl7'), bytes: ADT, size: Buffer.byteLength(ADT, 'latin1') });
    expect(result.steps[3].wouldSend).toMatchObject({ to: `mllp://127.0.0.1:${sinkPort}`, bytes: ADT });
    expect(result.steps[3].problems).toBeUndefined();
    // Nothing left the sandbox: no file, not even the folder; no connection; no stored row.
    expect(existsSync(path.join(out, 'adt'))).toBe(false);
    expect(sinkConnections).toBe(0);
    expect(await storeRows()).toBe(before);
  });

  it('a transform shows its output (changed as its operations say) and the message goes on from it', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'oru', spec: spec() });
    const result = await analyst.api.production.test.mutate({ projectId, raw: ORU });
    expect(result.steps.map((s) => [s.item, s.outcome])).toEqual([
      ['ADT In', 'received'],
      ['Route', 'sent'],
      ['Tidy', 'sent'],
      ['ORU Files', 'would_send'],
    ]);
    expect(result.steps[1].matchedRule).toBe('Results');
    const tidy = result.steps[2];
    expect(tidy.input).toBe(ORU);
    const family = (text: string) => text.split('\r').find((l) => l.startsWith('PID'))!.split('|')[5].split('^')[0];
    const receiving = (text: string) => text.split('\r')[0].split('|')[4];
    expect(family(tidy.output!)).toBe(family(ORU).toLowerCase());
    expect(family(tidy.output!)).not.toBe(family(ORU));
    expect(receiving(tidy.output!)).toBe('LAB-ARCHIVE');
    // The operation would write the transformed bytes, not the input.
    expect(result.steps[3].wouldSend?.bytes).toBe(tidy.output);
    expect(existsSync(path.join(out, 'oru'))).toBe(false);
  });

  it('a message no rule matches is discarded by the router, with its reason', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'orm', spec: spec() });
    const result = await analyst.api.production.test.mutate({ projectId, raw: ORM });
    expect(result.steps.map((s) => [s.item, s.outcome])).toEqual([
      ['ADT In', 'received'],
      ['Route', 'discarded'],
    ]);
    expect(result.steps[1]).toMatchObject({ otherwise: 'discard', problems: ['no rule matched'] });
  });

  it('runs the latest saved version, not the deployed one (or the version asked for); starts at a given item', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'versions', spec: spec() });
    await analyst.api.production.deploy.mutate({ projectId });
    await analyst.api.projects.save.mutate({ id: projectId, baseVersion: 1, spec: spec(['A04']) });
    const latest = await analyst.api.production.test.mutate({ projectId, raw: ADT });
    expect(latest.version).toBe(2);
    expect(latest.steps.map((s) => s.outcome)).toEqual(['received', 'discarded']);
    const v1 = await analyst.api.production.test.mutate({ projectId, raw: ADT, version: 1 });
    expect(v1.steps.map((s) => s.item)).toEqual(['ADT In', 'Route', 'ADT Files', 'Downstream']);
    const atTidy = await analyst.api.production.test.mutate({ projectId, raw: ADT, item: 'Tidy' });
    expect(atTidy.steps.map((s) => [s.item, s.outcome])).toEqual([
      ['Tidy', 'sent'],
      ['ORU Files', 'would_send'],
    ]);
    expect(await errorCode(analyst.api.production.test.mutate({ projectId, raw: ADT, item: 'Nowhere' }))).toBe('BAD_REQUEST');
    expect(sinkConnections).toBe(0);
  });

  it('refuses what the service would refuse; bad input is a typed error', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'refuse', spec: spec() });
    const result = await analyst.api.production.test.mutate({ projectId, raw: 'this is not HL7' });
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ item: 'ADT In', outcome: 'refused' });
    expect(result.steps[0].problems?.[0]).toMatch(/^not HL7/);
    expect(await errorCode(analyst.api.production.test.mutate({ projectId }))).toBe('BAD_REQUEST');
  });

  it('editors only, in their own workspace; a stored message as the sample is audited as a view of it', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'authz', spec: spec() });
    expect(await errorCode(viewer.api.production.test.mutate({ projectId, raw: ADT }))).toBe('FORBIDDEN');
    expect(await errorCode(outsider.api.production.test.mutate({ projectId, raw: ADT }))).toBe('NOT_FOUND');
    expect(await errorCode(h.anonymous().api.production.test.mutate({ projectId, raw: ADT }))).toBe('UNAUTHORIZED');

    const id = randomUUID();
    const writer = h.store.messages.writer();
    await writer.received({ id, production: 'sandboxed', projectId, workspaceId, item: 'ADT In', receivedAt: Date.now(), contentType: 'application/hl7-v2+er7', header: {}, raw: new TextEncoder().encode(ADT) });
    await writer.close();
    const rows = await storeRows();
    const result = await analyst.api.production.test.mutate({ projectId, messageId: id });
    expect(result.steps.map((s) => s.item)).toEqual(['ADT In', 'Route', 'ADT Files', 'Downstream']);
    expect(await storeRows()).toBe(rows);
    const trail = await admin.api.audit.list.query({ workspaceId, action: 'message.view' });
    expect(trail.items[0]).toMatchObject({ entityId: id, actorName: 'alice', after: { purpose: 'sandbox' } });
    // Another project's message is not found through this one.
    const { id: other } = await analyst.api.projects.create.mutate({ workspaceId, name: 'authz-2', spec: spec() });
    expect(await errorCode(analyst.api.production.test.mutate({ projectId: other, messageId: id }))).toBe('NOT_FOUND');
  });

  it('offers corpus samples', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'samples', spec: spec() });
    const samples = await viewer.api.production.samples.query({ projectId });
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(samples[0]).toMatchObject({ id: 'hapi__ADT_A01__2.4__01', raw: ADT });
  });
});

describe('saved test cases', () => {
  it('a golden case passes, runs on every save, turns failing when a rule is changed to break it, and passes once fixed', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'golden', spec: spec() });
    const { id } = await analyst.api.testCases.create.mutate({ projectId, name: 'ADT admit', raw: ADT });
    let list = await viewer.api.testCases.list.query({ projectId });
    expect(list.cases).toHaveLength(1);
    expect(list.cases[0]).toMatchObject({ id, name: 'ADT admit', result: { passed: true, failures: [] } });
    // A viewer sees the outcome, not the message.
    expect(list.cases[0]).not.toHaveProperty('raw');
    expect((await analyst.api.testCases.list.query({ projectId })).cases[0].expected?.outputs).toEqual({ 'ADT Files': [ADT], Downstream: [ADT] });

    // Break the rule: A01 no longer routed.
    const broken = await analyst.api.projects.save.mutate({ id: projectId, baseVersion: 1, spec: spec(['A04', 'A08']) });
    expect(broken).toMatchObject({ version: 2, tests: { passed: 0, failed: 1 } });
    list = await viewer.api.testCases.list.query({ projectId });
    expect(list.version).toBe(2);
    expect(list.cases[0].result?.passed).toBe(false);
    expect(list.cases[0].result?.failures).toEqual([
      'path: expected ADT In → Route → ADT Files → Downstream, got ADT In → Route',
      'ADT Files: expected 1 message sent, got 0',
      'Downstream: expected 1 message sent, got 0',
    ]);
    // Version 1 keeps its outcome.
    expect((await viewer.api.testCases.list.query({ projectId, version: 1 })).cases[0].result?.passed).toBe(true);

    const fixed = await analyst.api.projects.save.mutate({ id: projectId, baseVersion: 2, spec: spec() });
    expect(fixed).toMatchObject({ version: 3, tests: { passed: 1, failed: 0 } });
    const run = await analyst.api.testCases.run.mutate({ projectId, version: 2 });
    expect(run).toMatchObject({ version: 2, passed: 0, failed: 1 });
    expect(sinkConnections).toBe(0);
  });

  it('an output that changes fails the case at its segment; "save current result as expected" rebaselines it', async () => {
    const { id: projectId } = await analyst.api.projects.create.mutate({ workspaceId, name: 'golden-transform', spec: spec() });
    const { id } = await analyst.api.testCases.create.mutate({ projectId, name: 'ORU tidy', raw: ORU });
    const changed = spec();
    changed.items[2].settings = { operations: [{ op: 'lower', path: 'PID-5.1' }, { op: 'set', path: 'MSH-5', value: 'ELSEWHERE' }] };
    expect(await analyst.api.projects.save.mutate({ id: projectId, baseVersion: 1, spec: changed })).toMatchObject({ tests: { passed: 0, failed: 1 } });
    expect((await viewer.api.testCases.list.query({ projectId })).cases[0].result?.failures).toEqual(['ORU Files: message 1 differs at line 1 (MSH)']);
    await analyst.api.testCases.update.mutate({ projectId, id, rebaseline: true });
    expect((await viewer.api.testCases.list.query({ projectId })).cases[0].result?.passed).toBe(true);
    expect(await errorCode(viewer.api.testCases.update.mutate({ projectId, id, rebaseline: true }))).toBe('FORBIDDEN');
    expect(await errorCode(outsider.api.testCases.list.query({ projectId }))).toBe('NOT_FOUND');
    await analyst.api.testCases.delete.mutate({ projectId, id });
    expect((await viewer.api.testCases.list.query({ projectId })).cases).toEqual([]);
  });
});
