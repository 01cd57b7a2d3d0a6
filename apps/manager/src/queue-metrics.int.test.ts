/**
 * Issue 10, point 13 at the manager: queue waits reach `/metrics` as real Prometheus histograms
 * (summed across nodes), and the production's message count counts messages, not hops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueWaitFigures } from '@hie/cluster';
import { itemStatus, nodeStatus, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let analyst: ApiClient;
let projectId: string;
beforeAll(async () => {
  h = await startHarness();
  let workspaceId: string;
  ({ analyst, workspaceId } = await h.team('Metrics'));
  projectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'adt', spec: sampleSpec('adt') })).id;
});
afterAll(async () => {
  await h?.close();
});

const bucketsMs = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];
/** `n` waits of 0 ms and `slow` waits of 2 s (cumulative counts). */
function waits(n: number, slow: number, p99Ms: number): QueueWaitFigures {
  return { p50Ms: 0, p99Ms, bucketsMs, counts: bucketsMs.map((ms) => n + (ms >= 2000 ? slow : 0)), count: n + slow, sumMs: slow * 2000 };
}

/** 160 messages in through the service, each crossing Route and Files: 480 hops. */
function items(queueWait: QueueWaitFigures) {
  return [
    itemStatus('ADT In', { type: 'hl7.mllp.in', kind: 'service', processed: 160 }),
    itemStatus('Route', { type: 'hl7.router', kind: 'process', processed: 160 }),
    itemStatus('Files', { processed: 160, queueWait }),
  ];
}

describe('queue wait metrics and message counts', () => {
  it('/metrics: hie_item_queue_wait_seconds is a histogram of the nodes’ counts, added across nodes', async () => {
    await h.coordinator.reportStatus(nodeStatus('n1', projectId, 'adt', items(waits(100, 3, 2000))));
    await h.coordinator.reportStatus(nodeStatus('n2', projectId, 'adt', items(waits(50, 7, 2100))));
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    const series = (suffix: string, extra = '') => `hie_item_queue_wait_seconds${suffix}{project="${projectId}",production="adt",item="Files"${extra}}`;
    expect(text).toContain('# TYPE hie_item_queue_wait_seconds histogram');
    expect(text).toContain(`${series('_bucket', ',le="0.001"')} 150`);
    expect(text).toContain(`${series('_bucket', ',le="1"')} 150`);
    expect(text).toContain(`${series('_bucket', ',le="2.5"')} 160`);
    expect(text).toContain(`${series('_bucket', ',le="+Inf"')} 160`);
    expect(text).toContain(`${series('_sum')} 20`);
    expect(text).toContain(`${series('_count')} 160`);
    // Items that report no queue (nodes of an older version) have no series rather than zeros.
    expect(text).not.toContain('hie_item_queue_wait_seconds_count{project="' + projectId + '",production="adt",item="Route"}');
    expect(text).toContain(`hie_item_queue_wait_p99_ms{project="${projectId}",production="adt",item="Files"} 2100`);
    // Messages, not hops: 160 per node through the service, not 480.
    expect(text).toContain(`hie_production_messages_received_total{project="${projectId}",production="adt"} 320`);
  });

  it('production.status and live count messages received, not hops', async () => {
    await h.coordinator.reportStatus(nodeStatus('n1', projectId, 'adt', items(waits(1, 0, 0))));
    await h.coordinator.reportStatus(nodeStatus('n2', projectId, 'adt', []));
    const status = await analyst.api.production.status.query({ projectId });
    expect(status.running?.messagesReceived).toBe(160);
    expect(status.running?.items.reduce((a, i) => a + i.processed, 0)).toBe(480);
    expect(status.running?.items.find((i) => i.name === 'Files')?.queueWait).toMatchObject({ count: 1 });

    const sample = await new Promise<{ messagesReceived: number }>((resolve, reject) => {
      const sub = analyst.api.production.live.subscribe(
        { projectId },
        {
          onData: (d) => {
            sub.unsubscribe();
            resolve(d);
          },
          onError: reject,
        },
      );
    });
    expect(sample.messagesReceived).toBe(160);
  });
});
