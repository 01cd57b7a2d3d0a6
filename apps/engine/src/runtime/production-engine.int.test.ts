import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { createEngine } from '../engine-node';
import { testPolicy, until } from '../testing/helpers';
import { closeGate, createdOnMain, gate, hookCalls, manualServices, maxConcurrent, openGate, passed, sink, sinks, testItemTypes } from '../testing/test-items';
import type { ProductionEngine } from './production-engine';

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;

function newEngine() {
  engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
  return engine;
}

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
  hookCalls.length = 0;
  maxConcurrent.clear();
});

const hl7 = (id: string, type = 'ADT^A01') => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||${type}|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;
const submit = (item: string, body: string, wait: 'queued' | 'response' = 'queued') =>
  manualServices.get(item)!.submit(MessageEnvelope.createHl7(body, { source: item }), { wait });

function production(items: object[], connections: [string, string][]) {
  return { name: 'test', items, connections: connections.map(([from, to]) => ({ from, to })) };
}

describe('ProductionEngine', () => {
  it('refuses an invalid production with every problem and its path', async () => {
    const e = newEngine();
    const bad = production(
      [
        { name: 'A', type: 'test.manual_in', queue: { overflow: 'sometimes' } },
        { name: 'A', type: 'nope.type' },
        { name: 'C', type: 'test.collect', settings: { delayMs: 'slow' } },
      ],
      [['A', 'Missing']],
    );
    // One rejection, inspected whole: a try/catch here would pass silently if apply resolved.
    const err = await e.apply(bad).then(
      () => undefined,
      (x: unknown) => x as { code: string; details: { problems: { pathText: string }[] } },
    );
    expect(err?.code).toBe('config.invalid');
    expect(err?.details.problems.map((p) => p.pathText)).toEqual(
      expect.arrayContaining(['items[0].queue.overflow', 'items[1].name', 'items[1].type', 'items[2].settings.delayMs', 'connections[0].to']),
    );
    expect(e.status().items).toHaveLength(0);
  });

  it('runs hooks around every message and passes messages along connections', async () => {
    const e = newEngine();
    await e.apply(production([{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']]));
    for (let i = 0; i < 20; i++) await submit('In', hl7(`M${i}`));
    await e.idle();
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(Array.from({ length: 20 }, (_, i) => `M${i}`));
    expect(hookCalls.filter((h) => h === 'before:Out')).toHaveLength(20);
    expect(hookCalls.filter((h) => h === 'after:Out')).toHaveLength(20);
    const st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st).toMatchObject({ state: 'running', processed: 20, errors: 0, queueDepth: 0 });
  });

  it('multiprocess runs the handler on other threads, in parallel', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Stamp', type: 'test.thread_stamp', settings: { busyMs: 20 }, execution: { mode: 'multiprocess', workers: 2 } },
          { name: 'Out', type: 'test.collect' },
        ],
        [
          ['In', 'Stamp'],
          ['Stamp', 'Out'],
        ],
      ),
    );
    for (let i = 0; i < 16; i++) await submit('In', hl7(`T${i}`));
    await e.idle(60_000);
    const threads = new Set(sink('Out').map((m) => m.header.customProperties.threadId));
    expect(sink('Out')).toHaveLength(16);
    expect(threads.has(threadId)).toBe(false);
    expect(threads.size).toBe(2);
    // In parallel: some message started on one thread before another, on the other thread, ended.
    const runs = sink('Out').map((m) => m.header.customProperties as { threadId: number; startedAt: number; endedAt: number });
    const overlap = runs.some((a) => runs.some((b) => a.threadId !== b.threadId && a.startedAt < b.endedAt && b.startedAt < a.endedAt));
    expect(overlap).toBe(true);
    // The handler exists only in the workers: nothing was created (or started) on this thread.
    expect(createdOnMain.has('Stamp')).toBe(false);
    // Bodies crossed as bytes and came back unchanged.
    expect(sink('Out')[0].text()).toContain('PID|1||T');
  });

  it('thread_pool runs the handler in the shared worker pool', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Stamp', type: 'test.thread_stamp', execution: { mode: 'thread_pool', workers: 2 } },
          { name: 'Out', type: 'test.collect' },
        ],
        [
          ['In', 'Stamp'],
          ['Stamp', 'Out'],
        ],
      ),
    );
    for (let i = 0; i < 6; i++) await submit('In', hl7(`TP${i}`));
    await e.idle(60_000);
    expect(sink('Out')).toHaveLength(6);
    expect(sink('Out').every((m) => m.header.customProperties.threadId !== threadId)).toBe(true);
  });

  it('async_reliable with one worker keeps order, one at a time; concurrent_async runs N in flight', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Ordered', type: 'test.collect', settings: { delayMs: 5 } },
          { name: 'Parallel', type: 'test.collect', settings: { delayMs: 5 }, messaging: { pattern: 'concurrent_async', concurrency: 4 } },
        ],
        [
          ['In', 'Ordered'],
          ['In', 'Parallel'],
        ],
      ),
    );
    for (let i = 0; i < 12; i++) await submit('In', hl7(`O${i}`));
    await e.idle();
    expect(maxConcurrent.get('Ordered')).toBe(1);
    expect(sink('Ordered').map((m) => m.header.controlId)).toEqual(Array.from({ length: 12 }, (_, i) => `O${i}`));
    expect(maxConcurrent.get('Parallel')).toBeGreaterThan(1);
    expect(maxConcurrent.get('Parallel')).toBeLessThanOrEqual(4);
    expect(sink('Parallel')).toHaveLength(12);
  });

  it('circuit breaker: opens after repeated failures; with whenOpen=wait the message waits and is delivered', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          {
            name: 'Out',
            type: 'test.collect',
            settings: { failTimes: 3 },
            messaging: { retries: 10, retryDelayMs: 1 },
            circuitBreaker: { enabled: true, failureThreshold: 2, resetTimeoutMs: 30, halfOpenTrials: 1, whenOpen: 'wait' },
          },
        ],
        [['In', 'Out']],
      ),
    );
    const states = new Set<string>();
    const watch = setInterval(() => states.add(e.status().items.find((i) => i.name === 'Out')!.breaker), 2);
    await submit('In', hl7('CB1'));
    await e.idle();
    clearInterval(watch);
    expect(states.has('open')).toBe(true);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['CB1']);
    const st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st).toMatchObject({ processed: 1, errors: 0, breaker: 'closed' });
  });

  it('circuit breaker with whenOpen=fail: messages fail with a typed error while open, never vanish', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          {
            name: 'Out',
            type: 'test.collect',
            settings: { failTimes: 100 },
            messaging: { retries: 0 },
            circuitBreaker: { enabled: true, failureThreshold: 2, resetTimeoutMs: 60_000, whenOpen: 'fail' },
          },
        ],
        [['In', 'Out']],
      ),
    );
    for (let i = 0; i < 5; i++) await submit('In', hl7(`CF${i}`));
    await e.idle();
    const st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st.breaker).toBe('open');
    expect(st.errors).toBe(5); // every message accounted for: 2 real failures + 3 refused by the open breaker
    expect(st.lastError?.code).toBe('resilience.circuit_open');
  });

  it('rate limit spaces messages by the token bucket', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Out', type: 'test.collect', rateLimit: { enabled: true, ratePerSecond: 2, burst: 1 } },
        ],
        [['In', 'Out']],
      ),
    );
    for (let i = 0; i < 3; i++) await submit('In', hl7(`RL${i}`));
    await until(() => sink('Out').length > 0);
    // The burst of 1 let the first through; the next token is half a second away.
    expect(sink('Out')).toHaveLength(1);
    await e.idle();
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['RL0', 'RL1', 'RL2']);
  });

  it('retries operational failures, then delivers', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Out', type: 'test.collect', settings: { failTimes: 2 }, messaging: { retries: 3, retryDelayMs: 1 } },
        ],
        [['In', 'Out']],
      ),
    );
    await submit('In', hl7('R1'));
    await e.idle();
    expect(sink('Out')).toHaveLength(1);
    expect(sink('Out')[0].header.retryCount).toBe(2);
    expect(hookCalls.filter((h) => h.startsWith('error:Out'))).toHaveLength(2);
  });

  it('restarts a crashed handler per policy and keeps the queue', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Out', type: 'test.collect', settings: { crashOn: 'BOOM' }, restart: { policy: 'on_failure', maxRestarts: 3, delayMs: 10 } },
        ],
        [['In', 'Out']],
      ),
    );
    await submit('In', hl7('BOOM'));
    for (let i = 0; i < 5; i++) await submit('In', hl7(`after${i}`));
    await until(() => sink('Out').length === 5);
    await e.idle();
    const st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st.restarts).toBe(1);
    expect(st.state).toBe('running');
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['after0', 'after1', 'after2', 'after3', 'after4']);
  });

  it('an item that cannot start for a configuration reason fails alone, is not restarted, and does not hold up the deploy', async () => {
    const e = newEngine();
    // Default restart policy (on_failure, 5 restarts): a user error must still not be retried.
    const report = await e.apply(
      production(
        [
          { name: 'Bad TLS', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, tls: { enabled: true, certFile: path.join(os.tmpdir(), 'hie-nonexistent', 'cert.pem'), keyFile: path.join(os.tmpdir(), 'hie-nonexistent', 'key.pem') } } },
          { name: 'In', type: 'test.manual_in' },
          { name: 'Out', type: 'test.collect' },
        ],
        [['In', 'Out']],
      ),
    );
    expect(report.started.sort()).toEqual(['Bad TLS', 'In', 'Out']);
    const bad = e.status().items.find((i) => i.name === 'Bad TLS')!;
    expect(bad).toMatchObject({ state: 'failed', restarts: 0, lastError: { code: 'config.tls' } });
    await submit('In', hl7('OK1'));
    await e.idle();
    expect(sink('Out')).toHaveLength(1);
  });

  it('policy never: a crashed item stays failed and its queue is kept', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Out', type: 'test.collect', settings: { crashOn: 'BOOM', delayMs: 5 }, restart: { policy: 'never' } },
        ],
        [['In', 'Out']],
      ),
    );
    await submit('In', hl7('BOOM'));
    await until(() => e.status().items.find((i) => i.name === 'Out')!.state === 'failed');
    for (let i = 0; i < 3; i++) await submit('In', hl7(`later${i}`));
    const st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st.state).toBe('failed');
    expect(st.queueDepth).toBe(3);
  });

  describe('overflow under a burst', () => {
    const items = (overflow: string) => [
      { name: 'In', type: 'test.manual_in' },
      { name: 'Out', type: 'test.collect', settings: { delayMs: 2 }, queue: { size: 5, overflow } },
    ];

    it('block: producers wait for room; nothing is lost', async () => {
      closeGate();
      engine = createEngine({ log, plugins: [...testItemTypes, gate], policy: testPolicy() }).engine;
      const e = engine;
      await e.apply(production([{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.gate', queue: { size: 5, overflow: 'block' } }], [['In', 'Out']]));
      let queued = 0;
      let refused = 0;
      const sends = Array.from({ length: 50 }, (_, i) => submit('In', hl7(`B${i}`)).then(() => queued++, () => refused++));
      // The gate holds one, the queue holds five: those six senders are told "queued"…
      await until(() => queued === 6 && e.status().items.find((i) => i.name === 'Out')!.queueDepth === 5);
      // …and the other 44 wait (neither refused nor dropped) until there is room again.
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      const whileStuck = { queued, refused };
      openGate(); // before asserting, so a failure does not leave the engine stuck on the gate
      expect(whileStuck).toEqual({ queued: 6, refused: 0 });
      await Promise.all(sends);
      await e.idle();
      expect({ queued, refused, passed }).toEqual({ queued: 50, refused: 0, passed: 50 });
    });

    it('drop_oldest: evicted messages are recorded as discarded and their senders told', async () => {
      const e = newEngine();
      await e.apply(production(items('drop_oldest'), [['In', 'Out']]));
      await Promise.all(Array.from({ length: 50 }, (_, i) => submit('In', hl7(`D${i}`))));
      await e.idle();
      const st = e.status().items.find((i) => i.name === 'Out')!;
      expect(sink('Out').length + st.discarded).toBe(50);
      expect(st.discarded).toBeGreaterThan(0);
      // The newest always survives.
      expect(sink('Out').at(-1)!.header.controlId).toBe('D49');
    });

    it('reject_new: the sender gets a typed error', async () => {
      const e = newEngine();
      await e.apply(production(items('reject_new'), [['In', 'Out']]));
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => submit('In', hl7(`J${i}`))));
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const r of rejected) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'queue.full' });
      await e.idle();
      expect(sink('Out').length + rejected.length).toBe(50);
    });
  });

  it('sync_reliable returns the downstream response to the service', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in', messaging: { pattern: 'sync_reliable' } },
          { name: 'Mid', type: 'test.thread_stamp', messaging: { pattern: 'sync_reliable' } },
          { name: 'Out', type: 'test.collect', settings: { respond: 'PONG' } },
        ],
        [
          ['In', 'Mid'],
          ['Mid', 'Out'],
        ],
      ),
    );
    const r = await submit('In', hl7('S1'), 'response');
    expect(r.response?.text()).toBe('PONG');
  });

  it('concurrent_sync: up to concurrency messages in flight, each sender still gets its own response', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in', messaging: { pattern: 'concurrent_sync', concurrency: 8 } },
          { name: 'Out', type: 'test.collect', settings: { delayMs: 20, respond: 'PONG' }, messaging: { pattern: 'concurrent_sync', concurrency: 4 } },
        ],
        [['In', 'Out']],
      ),
    );
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => submit('In', hl7(`CS${i}`), 'response')));
    expect(rs.map((r) => r.response?.text())).toEqual(Array.from({ length: 8 }, () => 'PONG'));
    expect(maxConcurrent.get('Out')).toBeGreaterThan(1);
    expect(maxConcurrent.get('Out')).toBeLessThanOrEqual(4);
  });

  it('hot reload of one item under load restarts no other item and loses no message', async () => {
    const e = newEngine();
    const spec = (delayMs: number) =>
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Mid', type: 'test.thread_stamp' },
          { name: 'Out', type: 'test.collect', settings: { delayMs } },
        ],
        [
          ['In', 'Mid'],
          ['Mid', 'Out'],
        ],
      );
    await e.apply(spec(1));
    const hostsBefore = { In: e.host('In'), Mid: e.host('Mid'), Out: e.host('Out') };
    let sent = 0;
    const load = (async () => {
      for (; sent < 300; sent++) await submit('In', hl7(`H${sent}`));
    })();
    await until(() => sent >= 50); // reload with messages in flight
    const report = await e.apply(spec(0));
    await load;
    await e.idle();
    expect(report).toMatchObject({ replaced: ['Out'], started: [], stopped: [] });
    expect(report.unchanged.sort()).toEqual(['In', 'Mid']);
    expect(e.host('In')).toBe(hostsBefore.In);
    expect(e.host('Mid')).toBe(hostsBefore.Mid);
    expect(e.host('Out')).not.toBe(hostsBefore.Out);
    const ids = sink('Out').map((m) => m.header.controlId);
    expect(new Set(ids).size).toBe(300);
  });

  it('ignores the designer canvas: groups and notes run, and changing only them restarts nothing', async () => {
    const e = newEngine();
    const spec = (label: string) => ({
      ...production([{ name: 'In', type: 'test.manual_in', position: { x: 40, y: 80 } }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']]),
      canvas: { groups: [{ id: 'g-1', label, x: 0, y: 0, width: 600, height: 200 }], notes: [{ id: 'n-1', text: 'a note', x: 0, y: 240 }] },
    });
    await e.apply(spec('Intake'));
    const hosts = { In: e.host('In'), Out: e.host('Out') };
    const report = await e.apply(spec('Renamed'));
    expect(report).toMatchObject({ replaced: [], started: [], stopped: [] });
    expect(e.host('In')).toBe(hosts.In);
    expect(e.host('Out')).toBe(hosts.Out);
    await submit('In', hl7('C1'));
    await e.idle();
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['C1']);
  });

  it('removes an item after finishing its queued work, and adds new ones', async () => {
    const e = newEngine();
    await e.apply(production([{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect', settings: { delayMs: 2 } }], [['In', 'Out']]));
    for (let i = 0; i < 10; i++) await submit('In', hl7(`X${i}`));
    const report = await e.apply(production([{ name: 'In', type: 'test.manual_in' }, { name: 'New', type: 'test.collect' }], [['In', 'New']]));
    expect(report.stopped).toEqual(['Out']);
    expect(report.started).toEqual(['New']);
    expect(sink('Out')).toHaveLength(10);
    await submit('In', hl7('Y'));
    await e.idle();
    expect(sink('New')).toHaveLength(1);
  });
});
