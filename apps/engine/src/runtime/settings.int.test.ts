/**
 * Common item settings that must do what their descriptions say (issue 10, points 9–11), each on
 * a real engine: every test here fails when its setting is ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { createEngine } from '../engine-node';
import { tempDir, testPolicy, until } from '../testing/helpers';
import { manualServices, sink, sinks } from '../testing/test-items';
import { creations, settingsTestItemTypes } from '../testing/settings-items';
import { testItemTypes } from '../testing/test-items';
import type { ProductionEngine } from './production-engine';
import { MemoryTracker, type MessageEvent } from './tracker';

/** The in-memory tracker, keeping the trace so tests can read it. */
class TraceTracker extends MemoryTracker {
  readonly trace: { id: string; item: string; event: MessageEvent; detail?: Record<string, unknown> }[] = [];
  override event(envelope: MessageEnvelope, item: string, event: MessageEvent, detail?: Record<string, unknown>): void {
    this.trace.push({ id: envelope.header.controlId ?? envelope.header.messageId, item, event, detail });
  }
}

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;

function newEngine(tracker?: TraceTracker) {
  engine = createEngine({ log, plugins: [...testItemTypes, ...settingsTestItemTypes], policy: testPolicy(), tracker }).engine;
  return engine;
}

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
  creations.clear();
});

const hl7 = (id: string, processingId = 'P') => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${id}|${processingId}|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;
const submit = (item: string, body: string, opts: { ttl?: number } = {}) =>
  manualServices.get(item)!.submit(MessageEnvelope.createHl7(body, { source: item, ...opts }), { wait: 'queued' });
const production = (items: object[], connections: [string, string][]) => ({ name: 'test', items, connections: connections.map(([from, to]) => ({ from, to })) });
const statusOf = (e: ProductionEngine, name: string) => e.status().items.find((i) => i.name === name)!;

describe('messaging.timeoutMs', () => {
  // The handler waits 60 s: only the timeout can end the message (and the test's own 60 s limit
  // fails it if the stop waited the handler out).
  it.each(['async', 'multiprocess'])('%s: a handler past the timeout fails with engine.timeout (not a success), and the item still stops', async (mode) => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Slow', type: 'test.collect', settings: { delayMs: 60_000 }, messaging: { timeoutMs: 20, retries: 0 }, execution: { mode, workers: 1 } },
        ],
        [['In', 'Slow']],
      ),
    );
    await submit('In', hl7('TO1'));
    await until(() => statusOf(e, 'Slow').errors === 1, 30_000);
    expect(statusOf(e, 'Slow')).toMatchObject({ errors: 1, inFlight: 0, state: 'running', lastError: { code: 'engine.timeout' } });
    expect(sink('Slow')).toHaveLength(0);
    await e.stop();
    expect(e.status().items).toHaveLength(0);
  });
});

describe('messaging.retryMaxDelayMs', () => {
  it('caps the wait between two retries, even below retryDelayMs', async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          // Uncapped, the three retries would wait 10 s, 20 s and 40 s.
          { name: 'Out', type: 'test.collect', settings: { failTimes: 3 }, messaging: { retryDelayMs: 10_000, retryMaxDelayMs: 20 } },
        ],
        [['In', 'Out']],
      ),
    );
    await submit('In', hl7('CAP1'));
    await until(() => sink('Out').length === 1, 3_000);
    expect(statusOf(e, 'Out')).toMatchObject({ processed: 1, errors: 0 });
  });
});

describe('execution mode on a service', () => {
  it('is refused at apply with its path, not silently ignored', async () => {
    const e = newEngine();
    const err = await e
      .apply(production([{ name: 'In', type: 'test.manual_in', execution: { mode: 'multiprocess', workers: 2 } }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']]))
      .then(
        () => undefined,
        (x: unknown) => x as { code: string; details: { problems: { pathText: string; code: string }[] } },
      );
    expect(err?.code).toBe('config.invalid');
    expect(err?.details.problems.map((p) => `${p.pathText} ${p.code}`)).toEqual(['items[0].execution.mode service_execution_mode']);
    expect(e.status().items).toHaveLength(0);
  });
});

describe('time to live', () => {
  it("queue.ttlMs: a message older than the item's ttl is marked expired, never processed; an item without one processes it", async () => {
    const tracker = new TraceTracker();
    const e = newEngine(tracker);
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          { name: 'Short', type: 'test.collect', queue: { ttlMs: 50 } },
          { name: 'Keep', type: 'test.collect' },
        ],
        [
          ['In', 'Short'],
          ['In', 'Keep'],
        ],
      ),
    );
    // Both items stopped: the message waits in their queues until it is older than 50 ms.
    await e.stopItem('Short');
    await e.stopItem('Keep');
    const born = Date.now();
    await submit('In', hl7('TTL1'));
    await until(() => Date.now() - born > 100);
    await e.startItem('Short');
    await e.startItem('Keep');
    await e.idle();
    expect(sink('Short')).toHaveLength(0);
    expect(sink('Keep').map((m) => m.header.controlId)).toEqual(['TTL1']);
    expect(tracker.trace.filter((t) => t.event === 'expired').map((t) => `${t.id}@${t.item}`)).toEqual(['TTL1@Short']);
    expect(statusOf(e, 'Short')).toMatchObject({ processed: 0, errors: 0, discarded: 1 });
  });

  it('a ttl in the message header expires it in any queue', async () => {
    const tracker = new TraceTracker();
    const e = newEngine(tracker);
    await e.apply(production([{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']]));
    await e.stopItem('Out');
    const born = Date.now();
    await submit('In', hl7('HDR1'), { ttl: 30 });
    await submit('In', hl7('HDR2'));
    await until(() => Date.now() - born > 60);
    await e.startItem('Out');
    await e.idle();
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['HDR2']);
    expect(tracker.trace.find((t) => t.event === 'expired')).toMatchObject({ id: 'HDR1', item: 'Out', detail: { ttlMs: 30 } });
  });
});

describe('restart policy when an item stops on its own', () => {
  const quitter = (policy: string) =>
    production(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Q', type: 'test.quits', restart: { policy, delayMs: 10 } },
      ],
      [['In', 'Q']],
    );

  it('always: the item is started again, keeps its queue and goes on processing', async () => {
    const e = newEngine();
    await e.apply(quitter('always'));
    await submit('In', hl7('QUIT'));
    await until(() => statusOf(e, 'Q').restarts === 1 && statusOf(e, 'Q').state === 'running');
    await submit('In', hl7('AFTER'));
    await e.idle();
    expect(creations.get('Q')).toBe(2);
    expect(sink('Q').map((m) => m.header.controlId)).toEqual(['AFTER']);
  });

  it('on_failure: a clean stop is not restarted; the queue keeps what arrives', async () => {
    const e = newEngine();
    await e.apply(quitter('on_failure'));
    await submit('In', hl7('QUIT'));
    await until(() => statusOf(e, 'Q').state === 'stopped');
    await submit('In', hl7('WAITS'));
    expect(statusOf(e, 'Q')).toMatchObject({ state: 'stopped', restarts: 0, queueDepth: 1 });
    expect(creations.get('Q')).toBe(1);
  });
});

describe('worker-thread items', () => {
  /** The life-cycle lines the workers wrote: `start <thread> <tag>` / `stop <thread> <tag>`. */
  const lines = (file: string, kind: 'start' | 'stop') =>
    (existsSync(file) ? readFileSync(file, 'utf8') : '')
      .split('\n')
      .filter((l) => l.startsWith(`${kind} `))
      .map((l) => l.slice(kind.length + 1))
      .sort();
  const life = (logFile: string, extra: object = {}, settings: object = {}) =>
    production(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Life', type: 'test.worker_life', settings: { logFile, ...settings }, ...extra },
        { name: 'Out', type: 'test.collect' },
      ],
      [
        ['In', 'Life'],
        ['Life', 'Out'],
      ],
    );

  it('multiprocess: onStart runs at item start in every worker, onStop in every worker at stop', async () => {
    const logFile = path.join(await tempDir(), 'life.log');
    const e = newEngine();
    await e.apply(life(logFile, { execution: { mode: 'multiprocess', workers: 2 } }, { tag: 'mp' }));
    // No message yet: the handlers were started with the item, one per worker thread.
    const started = lines(logFile, 'start');
    expect(started).toHaveLength(2);
    expect(new Set(started).size).toBe(2);
    expect(started.some((l) => l.startsWith(`${threadId} `))).toBe(false);
    await submit('In', hl7('W1'));
    await e.idle(60_000);
    expect(sink('Out')).toHaveLength(1);
    await e.stop();
    expect(lines(logFile, 'stop')).toEqual(started);
  });

  it('a failing onStart marks the item failed at start; its messages wait in the queue instead of each failing', async () => {
    const logFile = path.join(await tempDir(), 'life.log');
    const e = newEngine();
    await e.apply(life(logFile, { execution: { mode: 'multiprocess', workers: 2 } }, { failStart: true }));
    for (let i = 0; i < 3; i++) await submit('In', hl7(`F${i}`));
    expect(statusOf(e, 'Life')).toMatchObject({ state: 'failed', errors: 0, queueDepth: 3, lastError: { code: 'test.start_failed' } });
    expect(sink('Out')).toHaveLength(0);
  });

  it('thread_pool: the shared pool releases (onStop) the handler of every replaced or removed item', async () => {
    const logFile = path.join(await tempDir(), 'life.log');
    const e = newEngine();
    const pooled = { execution: { mode: 'thread_pool' } };
    for (const tag of ['v1', 'v2', 'v3']) {
      await e.apply(life(logFile, pooled, { tag })); // each a hot reload replacing Life
      await submit('In', hl7(`P-${tag}`));
      await e.idle(60_000);
    }
    const tagsOf = (kind: 'start' | 'stop') => new Set(lines(logFile, kind).map((l) => l.split(' ')[1]));
    expect(tagsOf('start')).toEqual(new Set(['v1', 'v2', 'v3']));
    // The two replaced versions were released in every thread; the running one was not.
    expect(lines(logFile, 'stop')).toEqual(lines(logFile, 'start').filter((l) => !l.endsWith(' v3')));
    await e.apply(production([{ name: 'In', type: 'test.manual_in' }], []));
    expect(lines(logFile, 'stop')).toEqual(lines(logFile, 'start'));
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['P-v1', 'P-v2', 'P-v3']);
  });
});

describe('priority', () => {
  /** Out's priority queue fills while Out is stopped; started, it takes the queue in its order. */
  async function drainInOrder(e: ProductionEngine, send: () => Promise<unknown>, expected: number): Promise<string[]> {
    await e.stopItem('Out');
    await send();
    expect(statusOf(e, 'Out').queueDepth).toBe(expected);
    await e.startItem('Out');
    await e.idle();
    return sink('Out').map((m) => `${m.header.controlId}:${m.header.priority}`);
  }
  const out = { name: 'Out', type: 'test.collect', queue: { type: 'priority' } };

  it('a router rule action sets the priority a priority queue orders by', async () => {
    const e = newEngine();
    const rules = [
      { name: 'urgent', when: { path: 'MSH-10', op: 'startsWith', value: 'URG' }, then: { action: 'send', to: ['Out'], priority: 9 } },
      { name: 'rest', then: { action: 'send', to: ['Out'], priority: 1 } },
    ];
    await e.apply(
      production(
        [{ name: 'In', type: 'test.manual_in' }, { name: 'Route', type: 'hl7.router', settings: { rules } }, out],
        [
          ['In', 'Route'],
          ['Route', 'Out'],
        ],
      ),
    );
    const order = await drainInOrder(
      e,
      async () => {
        for (const id of ['N1', 'URG1', 'N2', 'URG2']) await submit('In', hl7(id));
        await until(() => statusOf(e, 'Out').queueDepth === 4);
      },
      4,
    );
    expect(order).toEqual(['URG1:9', 'URG2:9', 'N1:1', 'N2:1']);
  });

  it("an item's priority settings: header mapping (MSH-11 via map, or a digit as is), else value", async () => {
    const e = newEngine();
    await e.apply(
      production(
        [
          { name: 'Lab', type: 'test.manual_in', priority: { from: 'field', field: 'MSH-11', map: { P: 8 } } },
          { name: 'Bulk', type: 'test.manual_in', priority: { from: 'value', value: 1 } },
          out,
        ],
        [
          ['Lab', 'Out'],
          ['Bulk', 'Out'],
        ],
      ),
    );
    const order = await drainInOrder(
      e,
      async () => {
        await submit('Bulk', hl7('B1'));
        await submit('Lab', hl7('T1', 'T')); // not in the map: value (default 5)
        await submit('Lab', hl7('P1', 'P'));
        await submit('Lab', hl7('D7', '7'));
        await submit('Bulk', hl7('B2'));
      },
      5,
    );
    expect(order).toEqual(['P1:8', 'D7:7', 'T1:5', 'B1:1', 'B2:1']);
  });
});

describe('unordered queue', () => {
  /** All three wait in the queue before Out starts: what follows depends on the queue type only. */
  async function queueThenStart(e: ProductionEngine, ids: string[]) {
    await e.stopItem('Out');
    for (const id of ids) await submit('In', hl7(id));
    await e.startItem('Out');
    await e.idle();
  }
  const spec = (type: string) =>
    production(
      [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'Out',
          type: 'test.overtaken',
          settings: { holdBack: 'A1', after: ['B1', 'C1'] },
          queue: { type },
          messaging: { retries: 4, retryDelayMs: 1 },
        },
      ],
      [['In', 'Out']],
    );

  it('unordered: messages behind a retrying message overtake it; it is delivered after them', async () => {
    const e = newEngine();
    await e.apply(spec('unordered'));
    await queueThenStart(e, ['A1', 'B1', 'C1']);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['B1', 'C1', 'A1']);
    expect(statusOf(e, 'Out')).toMatchObject({ errors: 0, processed: 3 });
  });

  it('fifo: the retrying message holds the head; nothing overtakes it (so here it fails for good)', async () => {
    const e = newEngine();
    await e.apply(spec('fifo'));
    await queueThenStart(e, ['A1', 'B1', 'C1']);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['B1', 'C1']);
    expect(statusOf(e, 'Out')).toMatchObject({ errors: 1, lastError: { code: 'test.not_yet' } });
  });

  it("unordered: a message set aside keeps the retries it made against its error's own limit (details.maxRetries)", async () => {
    const tracker = new TraceTracker();
    const e = newEngine(tracker);
    await e.apply(
      production(
        [
          { name: 'In', type: 'test.manual_in' },
          {
            name: 'Out',
            type: 'test.collect',
            settings: { failTimes: 50, failMaxRetries: 2 },
            queue: { type: 'unordered' },
            messaging: { retryDelayMs: 1, retryMaxDelayMs: 1 },
          },
        ],
        [['In', 'Out']],
      ),
    );
    await submit('In', hl7('OWN1'));
    await until(() => statusOf(e, 'Out').errors + statusOf(e, 'Out').processed > 0, 10_000);
    expect(statusOf(e, 'Out')).toMatchObject({ errors: 1, processed: 0, lastError: { code: 'test.flaky' } });
    expect(tracker.trace.filter((t) => t.item === 'Out' && t.event === 'retry')).toHaveLength(2);
  });

  it('unordered: a message set aside for a long backoff goes back to the queue when a reload replaces it, not lost with the old queue', async () => {
    const tracker = new TraceTracker();
    const e = newEngine(tracker);
    const out = (failTimes: number, size: number) => ({
      name: 'Out',
      type: 'test.collect',
      settings: { failTimes },
      queue: { type: 'unordered', size },
      messaging: { retryDelayMs: 60_000 },
    });
    await e.apply(production([{ name: 'In', type: 'test.manual_in' }, out(1, 100)], [['In', 'Out']]));
    await submit('In', hl7('LONG1'));
    await until(() => tracker.trace.some((t) => t.item === 'Out' && t.event === 'retry'));
    // A new queue size: the queue is rebuilt, the old one closed.
    await e.apply(production([{ name: 'In', type: 'test.manual_in' }, out(0, 200)], [['In', 'Out']]));
    await until(() => sink('Out').length === 1, 5_000);
    expect(tracker.trace.filter((t) => t.event === 'failed')).toHaveLength(0);
  });
});
