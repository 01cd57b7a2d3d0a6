/**
 * The engine's sandbox on its own: operations render what they would send (http.out to a real
 * HTTP server that must see no request), an operation type without a dry-run path is not run,
 * the egress policy's verdict is shown, and the caps stop a production that loops.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRegistry } from './engine-node';
import { defineItemType } from './item-type';
import { createSandbox } from './sandbox';
import { testPolicy } from './testing/helpers';
import { sink, testItemTypes } from './testing/test-items';

const ADT = ['MSH|^~\\&|PAS|HOSP|HIE|HOSP|20260101120000||ADT^A01^ADT_A01|CTRL1|P|2.5', 'EVN|A01|20260101120000', 'PID|1||P1^^^HOSP^MR||doe^jane'].join('\r');

let server: http.Server;
let requests = 0;
let url = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/adt`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const sandbox = () => createSandbox({ registry: createRegistry(testItemTypes), policy: testPolicy() });

describe('engine sandbox', () => {
  it('http.out shows the request it would make and makes none; a plugin operation without a dry-run path is not run', async () => {
    const result = await sandbox().run(
      {
        name: 'p',
        items: [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Post', type: 'http.out', settings: { url } },
          { name: 'Collect', type: 'test.collect' },
        ],
        connections: [
          { from: 'In', to: 'Post' },
          { from: 'In', to: 'Collect' },
        ],
      },
      { raw: ADT },
    );
    expect(result.steps.map((s) => [s.item, s.outcome])).toEqual([
      ['In', 'received'],
      ['Post', 'would_send'],
      ['Collect', 'skipped'],
    ]);
    expect(result.steps[1].wouldSend).toEqual({ to: `POST ${url}`, bytes: ADT, size: ADT.length });
    expect(result.steps[2].problems).toEqual(['type test.collect has no dry-run path: it was not run (it would deliver)']);
    expect(requests).toBe(0);
    expect(sink('Collect')).toHaveLength(0);
  });

  it('refuses a URL holding a password (http.out, fhir.http.out) without showing it: credentials go in secret settings', async () => {
    const withUser = url.replace('http://', 'http://lab-user:pw-Zq81-secret@');
    const base = withUser.replace(/\/adt$/, '/fhir');
    // One operation behind a manual entry, run in the sandbox.
    const through = (type: string, settings: Record<string, unknown>, input: { raw: string; contentType?: string }) =>
      sandbox()
        .run({ name: 'p', items: [{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type, settings }], connections: [{ from: 'In', to: 'Out' }] }, input)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    const refused = [
      await through('http.out', { url: withUser }, { raw: ADT }),
      await through('fhir.http.out', { baseUrl: base }, { raw: JSON.stringify({ resourceType: 'Patient', id: 'p1' }), contentType: 'application/fhir+json' }),
      await through('fhir.http.out', { baseUrl: url, auth: 'smart-backend', tokenUrl: withUser }, { raw: JSON.stringify({ resourceType: 'Patient', id: 'p1' }), contentType: 'application/fhir+json' }),
    ];
    expect(refused.map((e) => (e as { code?: string } | undefined)?.code)).toEqual(['config.invalid', 'config.invalid', 'config.invalid']);
    expect(refused.map((e) => String((e as Error).message).split('\n')[1])).toEqual([
      expect.stringMatching(/^items\[1\]\.settings\.url: must not hold a password/),
      expect.stringMatching(/^items\[1\]\.settings\.baseUrl: must not hold a password/),
      expect.stringMatching(/^items\[1\]\.settings\.tokenUrl: must not hold a password/),
    ]);
    expect(JSON.stringify(refused.map((e) => [String(e), (e as { details?: unknown }).details]))).not.toContain('pw-Zq81-secret');
    expect(requests).toBe(0);
  });

  it('shows when the egress policy would refuse the target, without connecting', async () => {
    const result = await sandbox().run(
      {
        name: 'p',
        items: [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Out', type: 'hl7.mllp.out', settings: { host: '169.254.169.254', port: 2575 } },
        ],
        connections: [{ from: 'In', to: 'Out' }],
      },
      { raw: ADT },
    );
    expect(result.steps[1]).toMatchObject({ outcome: 'would_send', wouldSend: { to: 'mllp://169.254.169.254:2575', size: ADT.length } });
    expect(result.steps[1].problems?.[0]).toMatch(/^would not be sent: /);
  });

  it('a production that loops is stopped by the step cap, and says so', async () => {
    const result = await createSandbox({ policy: testPolicy(), limits: { maxSteps: 10 } }).run(
      {
        name: 'loop',
        items: [
          { name: 'In', type: 'hl7.mllp.in', settings: { port: 1 } },
          { name: 'A', type: 'hl7.transform', settings: { operations: [] } },
          { name: 'B', type: 'hl7.transform', settings: { operations: [] } },
        ],
        connections: [
          { from: 'In', to: 'A' },
          { from: 'A', to: 'B' },
          { from: 'B', to: 'A' },
        ],
      },
      { raw: ADT },
    );
    expect(result.steps).toHaveLength(10);
    expect(result.truncated).toBe('stopped after 10 steps');
  });

  it('a service with validate on refuses an invalid message as it would on the wire', async () => {
    const result = await sandbox().run(
      { name: 'p', items: [{ name: 'In', type: 'hl7.mllp.in', settings: { port: 1, validate: true } }, { name: 'Out', type: 'test.collect' }], connections: [{ from: 'In', to: 'Out' }] },
      { raw: 'MSH|^~\\&|PAS|HOSP|HIE|HOSP|20260101120000||ADT^A01|CTRL1|P|2.5\rPID|1' },
    );
    expect(result.steps.map((s) => s.outcome)).toEqual(['refused']);
    expect(result.steps[0].problems?.length).toBeGreaterThan(0);
  });

  it('a batch is split as the listener splits it: each message is routed by itself', async () => {
    const oru = ADT.replace('ADT^A01^ADT_A01|CTRL1', 'ORU^R01|CTRL2');
    const result = await sandbox().run(
      {
        name: 'p',
        items: [
          { name: 'In', type: 'hl7.mllp.in', settings: { port: 1 } },
          { name: 'Route', type: 'hl7.router', settings: { rules: [{ name: 'ADT', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['Post'] } }], otherwise: 'discard' } },
          { name: 'Post', type: 'http.out', settings: { url } },
        ],
        connections: [
          { from: 'In', to: 'Route' },
          { from: 'Route', to: 'Post' },
        ],
      },
      { raw: `${ADT}\r${oru}` },
    );
    expect(result.steps.map((s) => [s.item, s.outcome, s.matchedRule ?? ''])).toEqual([
      ['In', 'received', ''],
      ['Route', 'sent', 'ADT'],
      ['Route', 'discarded', ''],
      ['Post', 'would_send', ''],
    ]);
    expect(result.steps[3].wouldSend?.bytes).toBe(`${ADT}\r`);
    expect(requests).toBe(0);
  });

  it('fhir.router steps name the rules that matched, up to a rule marked stop', async () => {
    const route = (to: string, when?: object, stop?: boolean) => ({ name: to, ...(when ? { when } : {}), then: { action: 'send', to: [to] }, ...(stop ? { stop } : {}) });
    const result = await sandbox().run(
      {
        name: 'p',
        items: [
          { name: 'In', type: 'http.in', settings: { port: 1 } },
          {
            name: 'Route',
            type: 'fhir.router',
            settings: { mode: 'all_match', rules: [route('A', { path: 'Patient.gender', op: '=', value: 'female' }), route('B', undefined, true), route('C')] },
          },
          { name: 'A', type: 'test.collect' },
          { name: 'B', type: 'test.collect' },
          { name: 'C', type: 'test.collect' },
        ],
        connections: [{ from: 'In', to: 'Route' }, ...['A', 'B', 'C'].map((to) => ({ from: 'Route', to }))],
      },
      { raw: JSON.stringify({ resourceType: 'Patient', gender: 'female' }), contentType: 'application/fhir+json' },
    );
    const routeStep = result.steps.find((s) => s.item === 'Route');
    expect(routeStep).toMatchObject({ matchedRule: 'A', matchedRules: ['A', 'B'] });
    expect(result.steps.map((s) => s.item)).not.toContain('C');
  });

  it('the time cap stops a run whose items take longer than it allows, and says so', async () => {
    const result = await createSandbox({ registry: createRegistry(testItemTypes), policy: testPolicy(), limits: { timeoutMs: 20 } }).run(
      {
        name: 'slow',
        items: [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Slow', type: 'test.thread_stamp', settings: { busyMs: 100 } },
          { name: 'Post', type: 'http.out', settings: { url } },
        ],
        connections: [
          { from: 'In', to: 'Slow' },
          { from: 'Slow', to: 'Post' },
        ],
      },
      { raw: ADT },
    );
    expect(result.truncated).toBe('stopped after 20 ms');
    expect(result.steps.map((s) => s.item)).not.toContain('Post');
  });

  it('a process runs its onStart before the message and its onStop after, as when it runs (state it sets up is there)', async () => {
    const calls: string[] = [];
    // A plugin process that loads a lookup table when it starts (as one reading a code map would).
    const lookup = defineItemType({
      type: 'test.lookup',
      version: 1,
      kind: 'process',
      description: 'Sets MSH-5 from a table loaded at start',
      settings: z.object({}).strict(),
      module: import.meta.url,
      create() {
        let table: Map<string, string> | undefined;
        return {
          onStart() {
            calls.push('start');
            table = new Map([['PAS', 'LAB']]);
          },
          onMessage(envelope, ctx) {
            calls.push('message');
            const to = table!.get(envelope.text().split('|')[2] ?? '') ?? 'UNKNOWN';
            ctx.send(envelope.withBody(envelope.text().replace('|HIE|', `|${to}|`)));
          },
          onStop() {
            calls.push('stop');
          },
        };
      },
    });
    const box = createSandbox({ registry: createRegistry([...testItemTypes, lookup]), policy: testPolicy() });
    const result = await box.run(
      {
        name: 'p',
        items: [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Lookup', type: 'test.lookup' },
          { name: 'Out', type: 'test.collect' },
        ],
        connections: [
          { from: 'In', to: 'Lookup' },
          { from: 'Lookup', to: 'Out' },
        ],
      },
      { raw: ADT },
    );
    expect(result.steps[1]).toMatchObject({ item: 'Lookup', outcome: 'sent' });
    expect(result.steps[1]!.output).toContain('|PAS|HOSP|LAB|HOSP|');
    expect(calls).toEqual(['start', 'message', 'stop']);
  });
});
