import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { StoreTracker } from '../runtime/store-tracker';
import { itemEvent } from '../testing/trace';
import { repoRoot, testPolicy, until } from '../testing/helpers';
import { sink, sinks, testItemTypes } from '../testing/test-items';

const log = pino({ level: 'silent' });
const examples = `${repoRoot}libs/fhir/testdata/r4-examples/`;
const example = async (name: string): Promise<string> => readFile(examples + name, 'utf8');

/** A collection Bundle with a glucose Observation (LOINC 2345-7) and a Patient with two given names. */
const glucoseBundle = JSON.stringify({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { resource: { resourceType: 'Patient', name: [{ family: 'Chalmers', given: ['Peter', 'James'] }], gender: 'male' } },
    {
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' }] },
        valueQuantity: { value: 6.3, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      },
    },
  ],
});

const routerSettings = {
  mode: 'first_match',
  otherwise: 'discard',
  rules: [
    // Several given names: not a single boolean, so this rule fails on the glucose Bundle and is skipped.
    { name: 'given names', when: { path: 'Bundle.entry.resource.ofType(Patient).name.given', op: 'true' }, then: { action: 'send', to: ['Patients'] } },
    { name: 'glucose', when: { path: "Bundle.entry.resource.ofType(Observation).code.coding.code = '2345-7'", op: 'true' }, then: { action: 'send', to: ['Glucose'] } },
    {
      name: 'patients',
      when: { and: [{ path: 'Patient.gender', op: 'in', values: ['male', 'female'] }, { not: { path: 'Patient.deceased', op: 'exists' } }] },
      then: { action: 'send', to: ['Patients'] },
    },
    { name: 'drop radiology', when: { path: 'DiagnosticReport.category.coding.code', op: 'matches', value: '^RAD$' }, then: { action: 'discard', reason: 'not for this feed' } },
  ],
};

describe('fhir.router on a production fed by http.in', () => {
  let db: TestStore;
  let engine: ProductionEngine | undefined;
  let tracker: StoreTracker | undefined;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_fhir_router' });
  });
  afterAll(async () => db.cleanup());
  afterEach(async () => {
    await engine?.stop();
    await tracker?.close();
    engine = undefined;
    tracker = undefined;
    sinks.clear();
  });

  it.each(['async', 'multiprocess'] as const)('routes on FHIRPath, notes the rule and the failed expression in the trace (%s)', async (mode) => {
    const owner = { projectId: `p-fhir-router-${mode}`, workspaceId: 'w-fhir-router', production: 'fhir-router' };
    tracker = StoreTracker.forProduction(db.store.messages, owner, 'full', log);
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), tracker }).engine;
    await engine.apply({
      name: owner.production,
      items: [
        { name: 'FHIR In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, path: '/fhir' } },
        { name: 'Route', type: 'fhir.router', execution: { mode, workers: 1 }, settings: routerSettings },
        { name: 'Glucose', type: 'test.collect' },
        { name: 'Patients', type: 'test.collect' },
      ],
      connections: [
        { from: 'FHIR In', to: 'Route' },
        { from: 'Route', to: 'Glucose' },
        { from: 'Route', to: 'Patients' },
      ],
    });
    const port = Number(engine.status().items.find((i) => i.name === 'FHIR In')!.details!.port);
    const post = async (body: string): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${port}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
      expect(res.status).toBe(202);
      return ((await res.json()) as { messageId: string }).messageId;
    };
    const ids = {
      glucose: await post(glucoseBundle),
      patient: await post(await example('Patient-glossy.json')),
      radiology: await post(await example('DiagnosticReport-ultrasound.json')),
      other: await post(await example('Encounter-example.json')),
    };
    await until(() => sink('Glucose').length + sink('Patients').length >= 2);
    await engine.idle();
    expect(sink('Glucose').map((e) => e.parse<{ resourceType: string }>().resourceType)).toEqual(['Bundle']);
    expect(sink('Patients').map((e) => e.parse<{ id?: string }>().id)).toEqual(['glossy']);

    await tracker.flush();
    const routerEvent = (id: string) => itemEvent(db.store.messages, owner.projectId, id, 'Route');
    const glucose = await routerEvent(ids.glucose);
    expect(glucose).toMatchObject({ event: 'delivered', detail: { rule: 'glucose' } });
    expect(glucose.detail!.problems).toEqual([expect.stringMatching(/^Bundle\.entry\.resource\.ofType\(Patient\)\.name\.given: .*2 items/)]);
    expect(await routerEvent(ids.patient)).toMatchObject({ event: 'delivered', detail: { rule: 'patients' } });
    expect(await routerEvent(ids.radiology)).toMatchObject({ event: 'discarded', detail: { rule: 'drop radiology', reason: 'drop radiology: not for this feed' } });
    expect(await routerEvent(ids.other)).toMatchObject({ event: 'discarded', detail: { otherwise: 'discard' } });
    expect((await routerEvent(ids.other)).detail).not.toHaveProperty('problems');
  });

  it('all_match applies every matching rule until one marked stop, and notes them all', async () => {
    const owner = { projectId: 'p-fhir-router-stop', workspaceId: 'w-fhir-router', production: 'fhir-router-stop' };
    tracker = StoreTracker.forProduction(db.store.messages, owner, 'full', log);
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), tracker }).engine;
    const rule = (name: string, to: string, when?: object, stop?: boolean) => ({ name, ...(when ? { when } : {}), then: { action: 'send', to: [to] }, ...(stop ? { stop } : {}) });
    await engine.apply({
      name: owner.production,
      items: [
        { name: 'FHIR In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, path: '/fhir' } },
        {
          name: 'Route',
          type: 'fhir.router',
          settings: {
            mode: 'all_match',
            rules: [
              rule('bundles', 'Glucose', { path: 'Bundle.type', op: 'in', values: ['collection', 'batch'] }),
              rule('patients', 'Patients', { path: 'Patient.gender', op: 'exists' }, true),
              rule('audit', 'Audit'),
            ],
          },
        },
        { name: 'Glucose', type: 'test.collect' },
        { name: 'Patients', type: 'test.collect' },
        { name: 'Audit', type: 'test.collect' },
      ],
      connections: ['Glucose', 'Patients', 'Audit'].map((to) => ({ from: 'Route', to })).concat([{ from: 'FHIR In', to: 'Route' }]),
    });
    const port = Number(engine.status().items.find((i) => i.name === 'FHIR In')!.details!.port);
    const post = async (body: string): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${port}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
      expect(res.status).toBe(202);
      return ((await res.json()) as { messageId: string }).messageId;
    };
    const bundle = await post(glucoseBundle);
    const patient = await post(await example('Patient-glossy.json'));
    await until(() => sink('Audit').length >= 1 && sink('Patients').length >= 1);
    await engine.idle();
    // The Bundle goes on to the catch-all rule; the Patient stops at `patients`.
    const types = (name: string) => sink(name).map((e) => e.parse<{ resourceType: string }>().resourceType);
    expect(types('Glucose')).toEqual(['Bundle']);
    expect(types('Patients')).toEqual(['Patient']);
    expect(types('Audit')).toEqual(['Bundle']);
    await tracker.flush();
    expect(await itemEvent(db.store.messages, owner.projectId, bundle, 'Route')).toMatchObject({ detail: { rule: 'bundles', rules: ['bundles', 'audit'] } });
    expect(await itemEvent(db.store.messages, owner.projectId, patient, 'Route')).toMatchObject({ detail: { rule: 'patients' } });
  });

  it('refuses an expression that does not compile, and an overlong one, at deploy time', async () => {
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    const deploy = (path: string) =>
      engine!.apply({
        name: 'x',
        items: [{ name: 'R', type: 'fhir.router', settings: { rules: [{ name: 'bad', when: { path, op: 'true' }, then: { action: 'discard' } }] } }],
        connections: [],
      });
    const refused = deploy('Patient.name.((');
    await expect(refused).rejects.toMatchObject({ code: 'config.invalid', message: expect.stringContaining('invalid FHIRPath "Patient.name.(("') as string });
    await expect(deploy(`Patient.id = '${'x'.repeat(1000)}'`)).rejects.toMatchObject({ code: 'config.invalid' });
  });
});
