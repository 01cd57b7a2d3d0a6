import { afterEach, describe, expect, it } from 'vitest';
import { Piscina } from 'piscina';
import { MessageEnvelope } from '@hie/envelope';
import { hl7Router } from '../items/hl7-router';
import { testPolicy } from '../testing/helpers';
import type { WorkerItem, WorkerResult, WorkerTask } from '../worker/protocol';
import { MAX_BATCH, PoolDispatcher, type TaskPool } from './dispatch';

const workerUrl = new URL('../worker/handler-worker.ts', import.meta.url);

const hl7 = (id: string, type = 'ADT^A01') => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||${type}|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;

/** A real 2-thread Piscina pool running the real handler worker, counting the batches it is given. */
function countingPool() {
  const piscina = new Piscina<WorkerTask, WorkerResult>({ filename: workerUrl.href, minThreads: 2, maxThreads: 2, execArgv: ['--import', 'tsx'] });
  const batches: number[] = [];
  const pool: TaskPool & { batches: number[] } = {
    batches,
    threads: 2,
    run(task, opts) {
      if (task.kind === 'batch') batches.push(task.batch.ends.length);
      return piscina.run(task, opts);
    },
    destroy: () => piscina.destroy(),
  };
  return pool;
}

/** An ADT-only router: ADT goes to Out, anything else fails with `router.no_match`. */
function routerItem(key: string): WorkerItem {
  return {
    production: 'test',
    name: 'Route',
    type: 'hl7.router',
    module: hl7Router.module!,
    settings: { rules: [{ name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['Out'] } }], otherwise: 'fail' },
    targets: ['Out'],
    policy: testPolicy(),
    key,
  };
}

let dispatchers: PoolDispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers) await d.close();
  dispatchers = [];
});

describe('PoolDispatcher', () => {
  it('sends a burst of envelopes in batches, each message settled on its own (one failing fails only itself)', async () => {
    const pool = countingPool();
    const d = new PoolDispatcher(pool, routerItem('batching'), true);
    dispatchers.push(d);
    await d.start();
    const envelopes = Array.from({ length: 100 }, (_, i) => MessageEnvelope.createHl7(hl7(`B${i}`, i === 37 ? 'ORU^R01' : 'ADT^A01'), { source: 'In' }));
    const settled = await Promise.allSettled(envelopes.map((e) => d.run(e)));

    // Fewer tasks than messages, none over the bound, every message in exactly one of them.
    expect(pool.batches.length).toBeLessThan(envelopes.length);
    expect(Math.max(...pool.batches)).toBeLessThanOrEqual(MAX_BATCH);
    expect(pool.batches.reduce((a, b) => a + b, 0)).toBe(envelopes.length);

    settled.forEach((s, i) => {
      if (i === 37) {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toMatchObject({ code: 'router.no_match' });
        return;
      }
      expect(s.status).toBe('fulfilled');
      const outcome = (s as PromiseFulfilledResult<Awaited<ReturnType<PoolDispatcher['run']>>>).value;
      expect(outcome.outputs).toHaveLength(1);
      expect(outcome.outputs[0].to).toEqual(['Out']);
      // The router sent its input unchanged: it did not cross back, the very envelope is handed on.
      expect(outcome.outputs[0].envelope).toBe(envelopes[i]);
      expect(outcome.detail).toEqual({ rule: 'adt' });
    });
  });

  it('sends the item again to a thread that does not know it, and the message still runs', async () => {
    const pool = countingPool();
    // Never started: no thread has seen this item's key, so the first batch comes back unknown_item.
    const d = new PoolDispatcher(pool, routerItem('never-started'), true);
    dispatchers.push(d);
    const envelope = MessageEnvelope.createHl7(hl7('U1'), { source: 'In' });
    const outcome = await d.run(envelope);
    expect(outcome.outputs[0].envelope).toBe(envelope);
    expect(pool.batches).toEqual([1, 1]);
  });

  it('an output the handler changed comes back as its own envelope, not the input', async () => {
    const pool = countingPool();
    const item = routerItem('transform');
    item.settings = { rules: [{ name: 'set', then: { action: 'transform', operations: [{ op: 'set', path: 'PID-5.1', value: 'ROE' }], to: ['Out'] } }] };
    const d = new PoolDispatcher(pool, item, true);
    dispatchers.push(d);
    await d.start();
    const envelope = MessageEnvelope.createHl7(hl7('T1'), { source: 'In' });
    const outcome = await d.run(envelope);
    expect(outcome.outputs[0].envelope).not.toBe(envelope);
    expect(outcome.outputs[0].envelope.text()).toContain('PID|1||T1^^^MRN||ROE^JOHN');
    expect(envelope.text()).toContain('DOE^JOHN');
  });
});
