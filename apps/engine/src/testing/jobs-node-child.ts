/**
 * An engine "node" in a child process, for the test that kills it (`kill -9`): it runs a
 * production (`In` → `Out`, an unordered MLLP sender to a port where nothing listens yet) with
 * cluster jobs (it holds a BullMQ Worker too), submits one message, and prints
 * `scheduled <jobId>` once that message's retry is a delayed job in Redis.
 * Usage: `jobs-node-child.ts <databaseUrl> <redisUrl> <prefix> <port> <projectId> <workspaceId> <controlId>`.
 */
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { openStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { createClusterJobs } from '../runtime/cluster-jobs';
import { StoreTracker } from '../runtime/store-tracker';
import { testPolicy } from './helpers';
import { manualServices, testItemTypes } from './test-items';

const [databaseUrl, redisUrl, prefix, port, projectId, workspaceId, controlId] = process.argv.slice(2);
const log = pino({ level: 'warn' });
const NAME = 'jobs';
const spec = {
  name: NAME,
  items: [
    { name: 'In', type: 'test.manual_in' },
    { name: 'Out', type: 'hl7.mllp.out', queue: { type: 'unordered' }, settings: { port: Number(port), reconnectDelayMs: 20, reconnectMaxDelayMs: 100 }, messaging: { retryDelayMs: 3000 } },
  ],
  connections: [{ from: 'In', to: 'Out' }],
};
const store = await openStore({ databaseUrl, migrate: false });
const tracker = StoreTracker.forProduction(store.messages, { projectId, workspaceId, production: NAME }, 'full', log);
const jobs = createClusterJobs({ redis: redisUrl, prefix, log, messages: store.messages, lockDurationMs: 2000 });
const desired = { projectId, workspaceId, production: NAME, version: 1, state: 'running' as const, spec, updatedAt: Date.now() };
const { engine } = createEngine({ log, tracker, plugins: testItemTypes, policy: testPolicy(), deferRetry: jobs.deferRetryFor(desired) });
await engine.apply(spec);
await jobs.start({ engine: (id) => (id === projectId ? engine : undefined), retentionTargets: () => [] });
const hl7 = `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${controlId}|P|2.5\rPID|1||${controlId}^^^MRN||DOE^JOHN\r`;
await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7, { source: 'In' }), { wait: 'stored' });
for (;;) {
  const job = (await jobs.queue.list(projectId)).find((j) => j.kind === 'retry' && j.state === 'delayed');
  if (job) {
    await tracker.flush();
    process.stdout.write(`scheduled ${job.id}\n`);
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise(() => undefined); // until killed
