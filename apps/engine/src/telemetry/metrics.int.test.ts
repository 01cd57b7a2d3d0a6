import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageEnvelope } from '@hie/envelope';
import { openTestStore, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { StoreTracker } from '../runtime/store-tracker';
import { connectMllp } from '../testing/mllp-client';
import { freePort, hie, tempDir, testPolicy, until, waitForPort, writeJson } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';
import { EngineMetrics, serveMetrics } from './metrics';

const log = pino({ level: 'silent' });

/** One sample's value from Prometheus text, matching every label given (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const hl7 = (id: string) => `MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JANE\r`;

describe('Prometheus metrics recorded by the engine', () => {
  let db: TestStore;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_metrics' });
  });
  afterAll(async () => db.cleanup());

  it('after N messages, /metrics shows N in each histogram count and counter, with project and item labels only', async () => {
    const N = 25;
    const registry = new Registry();
    const metrics = new EngineMetrics(registry);
    const server = await serveMetrics(registry, 0, '127.0.0.1');
    const owner = { projectId: 'proj-metrics', workspaceId: 'w-metrics', production: 'metered' };
    const tracker = StoreTracker.forProduction(db.store.messages, owner, 'full', log, { raw: metrics.storeCommits(owner.projectId, 'raw'), events: metrics.storeCommits(owner.projectId, 'events') });
    const { engine } = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), tracker, metrics, project: owner.projectId });
    try {
      await engine.apply({
        name: owner.production,
        items: [
          { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } },
          { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all', rules: [] } },
          { name: 'Out', type: 'test.collect' },
        ],
        connections: [
          { from: 'In', to: 'Route' },
          { from: 'Route', to: 'Out' },
        ],
      });
      const client = await connectMllp(Number(engine.status().items.find((i) => i.name === 'In')!.details!.port));
      for (let i = 0; i < N; i++) expect(await client.send(hl7(`M${i}`))).toContain('MSA|AA');
      client.close();
      await until(() => sink('Out').length === N);
      await engine.idle();
      await tracker.flush();

      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      const at = (item: string) => ({ project: owner.projectId, item });
      for (const item of ['Route', 'Out']) {
        expect(sample(text, 'hie_message_processing_seconds_count', at(item)), item).toBe(N);
        expect(sample(text, 'hie_message_queue_wait_seconds_count', at(item)), item).toBe(N);
        expect(sample(text, 'hie_message_processing_seconds_bucket', { ...at(item), le: '+Inf' }), item).toBe(N);
        expect(sample(text, 'hie_messages_delivered_total', at(item)), item).toBe(N);
        expect(sample(text, 'hie_queue_depth', at(item)), item).toBe(0);
      }
      expect(sample(text, 'hie_messages_received_total', at('In'))).toBe(N);
      expect(sample(text, 'hie_message_end_to_end_seconds_count', at('Out'))).toBe(N);
      expect(sample(text, 'hie_messages_failed_total', at('Route')) ?? 0).toBe(0);
      const last = sample(text, 'hie_last_message_received_timestamp_seconds', at('In'))!;
      expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(600);
      expect(sample(text, 'hie_store_commit_seconds_count', { project: owner.projectId, writer: 'raw' })).toBeGreaterThan(0);
      // Bounded labels: no message id or control id ever becomes a label.
      expect(text).not.toMatch(/M1\d?"/);
      expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}/);
    } finally {
      await engine.stop();
      await tracker.close();
      await new Promise<void>((r) => server.close(() => r()));
      sinks.clear();
    }
  });

  it('counts failed messages, and the suspended gauge reads its source (the store)', async () => {
    const registry = new Registry();
    const metrics = new EngineMetrics(registry);
    const { engine } = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), metrics, project: 'proj-fail' });
    metrics.setSuspendedSource(async () => [{ project: 'proj-fail', item: 'Bad', count: 3 }]);
    try {
      await engine.apply({
        name: 'failing',
        items: [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Bad', type: 'test.collect', settings: { failTimes: 100 }, messaging: { retries: 0 } },
        ],
        connections: [{ from: 'In', to: 'Bad' }],
      });
      for (let i = 0; i < 4; i++) await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7(`F${i}`), { source: 'In' })).catch(() => undefined);
      await engine.idle();
      const text = await registry.metrics();
      expect(sample(text, 'hie_messages_failed_total', { project: 'proj-fail', item: 'Bad' })).toBe(4);
      expect(sample(text, 'hie_message_processing_seconds_count', { project: 'proj-fail', item: 'Bad' })).toBe(4);
      expect(sample(text, 'hie_messages_suspended', { project: 'proj-fail', item: 'Bad' })).toBe(3);
    } finally {
      await engine.stop();
    }
  });

  describe('hie run with HIE_METRICS_PORT', () => {
    let child: ChildProcess & { output: () => string };
    let metricsPort: number;
    let mllpPort: number;
    beforeAll(async () => {
      const dir = await tempDir('hie-metrics-');
      metricsPort = await freePort();
      mllpPort = await freePort();
      const file = await writeJson(path.join(dir, 'p.json'), {
        name: 'node-metrics',
        items: [
          { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: mllpPort } },
          { name: 'Out', type: 'file.out', settings: { directory: path.join(dir, 'out') } },
        ],
        connections: [{ from: 'In', to: 'Out' }],
      });
      child = hie(['run', file], { env: { HIE_METRICS_PORT: String(metricsPort), HIE_STORE: 'off' } });
      await waitForPort(mllpPort);
    }, 60_000);
    afterAll(async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    });

    it('serves the node’s own /metrics on that port', async () => {
      const client = await connectMllp(mllpPort);
      for (let i = 0; i < 3; i++) expect(await client.send(hl7(`R${i}`))).toContain('MSA|AA');
      client.close();
      let text = '';
      await until(async () => {
        text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return sample(text, 'hie_message_processing_seconds_count', { project: 'node-metrics', item: 'Out' }) === 3;
      });
      expect(sample(text, 'hie_messages_received_total', { project: 'node-metrics', item: 'In' })).toBe(3);
      expect(text).toContain('process_cpu_seconds_total');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
    });
  });
});
