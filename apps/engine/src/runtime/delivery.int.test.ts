/**
 * Delivery guarantees (issue 10, points 1, 3 and 4) on the real PostgreSQL store, real sockets:
 * an outage is retried until the downstream returns, in order; application rejections end in the
 * visible `failed` state at the item where they failed; a refused sync hand-off closes its branch;
 * the application ACK mode ends delivered messages finished and relays the downstream ACK.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { MllpDecoder, encodeMllp, parseMessage } from '@hie/hl7';
import { localScope, openTestStore, type MessageSummary, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import { freePort, testPolicy, until } from '../testing/helpers';
import { capturedLog } from '../testing/helpers';
import { MllpDownstream } from '../testing/mllp-downstream';
import { manualServices, sinks, testItemTypes } from '../testing/test-items';
import type { ProductionEngine } from './production-engine';
import { StoreTracker } from './store-tracker';

const hl7 = (id: string) => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;
const NAME = 'delivery';
const scope = localScope(NAME);

let db: TestStore;
let engine: ProductionEngine | undefined;
let tracker: StoreTracker | undefined;
const downstreams: MllpDownstream[] = [];

beforeAll(async () => {
  db = await openTestStore('postgres', { prefix: 'hie_test_delivery' });
}, 60_000);
afterAll(async () => {
  await db?.cleanup();
});
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await tracker?.close();
  tracker = undefined;
  for (const d of downstreams.splice(0)) await d.down();
  sinks.clear();
  manualServices.clear();
});

async function run(items: object[], connections: [string, string][], log: pino.Logger = capturedLog().log) {
  tracker = StoreTracker.forProduction(db.store.messages, { ...scope, production: NAME }, 'full', log);
  engine = createEngine({ log, tracker, plugins: testItemTypes, policy: testPolicy() }).engine;
  await engine.apply({ name: NAME, items, connections: connections.map(([from, to]) => ({ from, to })) });
  return engine;
}

async function downstream(answer?: ConstructorParameters<typeof MllpDownstream>[1]) {
  const d = new MllpDownstream(await freePort(), answer);
  downstreams.push(d);
  await d.up();
  return d;
}

const submit = (body: string, wait: 'queued' | 'response' = 'queued') => manualServices.get('In')!.submit(MessageEnvelope.createHl7(body, { source: 'In' }), { wait });

/** The stored message with this control id, once its status is one of `statuses`. */
async function stored(controlId: string, statuses: string[], finished = true): Promise<MessageSummary> {
  let found: MessageSummary | undefined;
  await until(async () => {
    await tracker!.flush();
    found = (await db.store.messages.search(scope.projectId, { controlId })).items[0];
    return !!found && statuses.includes(found.status) && (!finished || found.finishedAt !== null);
  }, 15_000);
  return found!;
}

const trace = (id: string) => db.store.messages.trace(scope.projectId, id);

/** Waits until the message with this control id has at least `times` retry events in its trace. */
async function retried(controlId: string, times: number, timeoutMs?: number): Promise<void> {
  await until(async () => {
    await tracker!.flush();
    const m = (await db.store.messages.search(scope.projectId, { controlId })).items[0];
    return !!m && (await trace(m.id)).filter((ev) => ev.detail?.retry === true).length >= times;
  }, timeoutMs);
}

/** A raw MLLP client sending one frame and waiting for its ACK. */
async function sendOne(port: number, body: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const decoder = new MllpDecoder();
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('data', (c: Buffer) => {
        for (const ev of decoder.push(c)) if (ev.kind === 'frame') resolve(new TextDecoder().decode(ev.payload));
      });
      socket.write(encodeMllp(body));
    });
  } finally {
    socket.destroy();
  }
}

describe('point 1: a short outage does not fail a message for good', () => {
  it('with default retries, a downstream down for longer than three retries gets every message, in order, none failed', { timeout: 60_000 }, async () => {
    const down = await downstream();
    await down.down();
    // Default `messaging.retries`; only the first backoff step is made short so the test is quick.
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: down.port, reconnectDelayMs: 20, reconnectMaxDelayMs: 100 }, messaging: { retryDelayMs: 50 } },
      ],
      [['In', 'Out']],
    );
    for (const id of ['O1', 'O2', 'O3']) await submit(hl7(id));
    // The head has been retried more than the old default of three times while the others wait behind it.
    await retried('O1', 6, 20_000);
    const head = (await db.store.messages.search(scope.projectId, { controlId: 'O1' })).items[0];
    expect(head.status).toBe('processing'); // retrying: not failed
    expect(e.status().items.find((i) => i.name === 'Out')).toMatchObject({ queueDepth: 2, errors: 0 });
    await down.up();
    for (const id of ['O1', 'O2', 'O3']) expect((await stored(id, ['delivered'])).status).toBe('delivered');
    expect(down.received).toEqual(['O1', 'O2', 'O3']);
  });

  it('the retrying head keeps its place when the operation is replaced (hot reload) during the outage', { timeout: 60_000 }, async () => {
    const down = await downstream();
    await down.down();
    const items = (ackTimeoutMs: number) => [
      { name: 'In', type: 'test.manual_in' },
      { name: 'Out', type: 'hl7.mllp.out', settings: { port: down.port, ackTimeoutMs, reconnectDelayMs: 20, reconnectMaxDelayMs: 100 }, messaging: { retryDelayMs: 50 } },
    ];
    const e = await run(items(30_000), [['In', 'Out']]);
    for (const id of ['H1', 'H2', 'H3']) await submit(hl7(id));
    await retried('H1', 1);
    // The operator fixes a setting of the sender while it waits: the host is replaced, the queue kept.
    const report = await e.apply({ name: NAME, items: items(20_000), connections: [{ from: 'In', to: 'Out' }] });
    expect(report.replaced).toEqual(['Out']);
    await down.up();
    for (const id of ['H1', 'H2', 'H3']) await stored(id, ['delivered']);
    expect(down.received).toEqual(['H1', 'H2', 'H3']);
  });

  it('an operator stop during the outage keeps the retrying message queued at the head, not failed', { timeout: 60_000 }, async () => {
    const down = await downstream();
    await down.down();
    // Default backoff: the head soon waits seconds between attempts; a stop must not sit them out.
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: down.port } },
      ],
      [['In', 'Out']],
    );
    await submit(hl7('K1'));
    await submit(hl7('K2'));
    await retried('K1', 2);
    await e.stopItem('Out');
    expect(e.status().items.find((i) => i.name === 'Out')).toMatchObject({ queueDepth: 2, errors: 0 });
    await tracker!.flush();
    const head = (await db.store.messages.search(scope.projectId, { controlId: 'K1' })).items[0];
    expect(head).toMatchObject({ status: 'processing', finishedAt: null });
    await down.up();
    await e.startItem('Out');
    for (const id of ['K1', 'K2']) await stored(id, ['delivered']);
    expect(down.received).toEqual(['K1', 'K2']);
  });

  it('an explicit retry limit fails the message at the item, visibly', { timeout: 30_000 }, async () => {
    const port = await freePort(); // nothing listens
    const { log, lines } = capturedLog();
    await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port, reconnectDelayMs: 1, reconnectMaxDelayMs: 1 }, messaging: { retries: 2, retryDelayMs: 1 } },
      ],
      [['In', 'Out']],
      log,
    );
    await submit(hl7('LIMIT'));
    const m = await stored('LIMIT', ['failed']);
    const events = await trace(m.id);
    expect(events.at(-1)).toMatchObject({ event: 'completed' });
    expect(events.filter((ev) => ev.event === 'failed')).toEqual([expect.objectContaining({ item: 'Out', detail: expect.objectContaining({ code: 'mllp.connection', attempt: 2 }) })]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, item: 'Out', msg: 'message failed', code: 'mllp.connection' }));
  });

  it('an AR fails the message at once: status failed at the operation, the ACK in the trace, a warn line', { timeout: 30_000 }, async () => {
    const down = await downstream(() => ({ code: 'AR', text: 'unknown patient', error: { code: '204', message: 'unknown patient' } }));
    const { log, lines } = capturedLog();
    await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: down.port } },
      ],
      [['In', 'Out']],
      log,
    );
    await submit(hl7('REJ1'));
    const m = await stored('REJ1', ['failed']);
    const failed = (await trace(m.id)).filter((ev) => ev.event === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({
        item: 'Out',
        detail: expect.objectContaining({ code: 'mllp.rejected', ack: expect.objectContaining({ code: 'AR', controlId: 'REJ1', text: 'unknown patient', errors: [expect.stringContaining('204')] }) }),
      }),
    ]);
    expect(down.received).toEqual(['REJ1']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, item: 'Out', msg: 'message failed', code: 'mllp.rejected' }));
  });

  it('a failed branch is not hidden by a sibling branch delivered after it: the message ends failed', { timeout: 30_000 }, async () => {
    const down = await downstream(() => 'AR');
    await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Lab', type: 'hl7.mllp.out', settings: { port: down.port } },
        { name: 'Slow', type: 'test.collect', settings: { delayMs: 300 } },
      ],
      [
        ['In', 'Lab'],
        ['In', 'Slow'],
      ],
    );
    await submit(hl7('FAN1'));
    const m = await stored('FAN1', ['failed', 'delivered']);
    expect(m.status).toBe('failed');
    const events = await trace(m.id);
    expect(events.some((ev) => ev.event === 'delivered' && ev.item === 'Slow')).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'completed', item: 'Lab' });
  });

  it('an AE is not retried by default; with AE set to retry it is sent nackRetries more times, then fails', { timeout: 30_000 }, async () => {
    const down = await downstream(() => 'AE');
    await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: down.port } },
        { name: 'Out2', type: 'hl7.mllp.out', settings: { port: down.port, replyCodes: { AE: 'retry' }, nackRetries: 2 }, messaging: { retryDelayMs: 1 } },
      ],
      [
        ['In', 'Out'],
        ['In', 'Out2'],
      ],
    );
    await submit(hl7('AE1'));
    const m = await stored('AE1', ['failed']);
    const failed = (await trace(m.id)).filter((ev) => ev.event === 'failed');
    expect(failed.map((ev) => [ev.item, ev.detail?.code])).toEqual(
      expect.arrayContaining([
        ['Out', 'mllp.rejected'],
        ['Out2', 'mllp.nack'],
      ]),
    );
    expect(down.received).toHaveLength(1 + 3); // Out once; Out2 once plus two retries
  });

  it("the breaker's whenOpen wait keeps the head: half-open trial failures do not use up its retries", { timeout: 30_000 }, async () => {
    const down = await downstream();
    await down.down();
    await run(
      [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'Out',
          type: 'hl7.mllp.out',
          settings: { port: down.port, reconnectDelayMs: 1, reconnectMaxDelayMs: 1 },
          messaging: { retries: 1, retryDelayMs: 1 },
          circuitBreaker: { enabled: true, failureThreshold: 1, resetTimeoutMs: 50, whenOpen: 'wait' },
        },
      ],
      [['In', 'Out']],
    );
    await submit(hl7('B1'));
    await submit(hl7('B2'));
    // Well past one retry: several half-open trials have failed.
    await retried('B1', 5, 20_000);
    await down.up();
    expect((await stored('B1', ['delivered'])).status).toBe('delivered');
    expect((await stored('B2', ['delivered'])).status).toBe('delivered');
    expect(down.received).toEqual(['B1', 'B2']);
  });
});

describe('point 3: a refused synchronous hand-off closes its branch', () => {
  it('the sender gets the error and the message is finished (failed), so recovery will not deliver it again', { timeout: 30_000 }, async () => {
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in', messaging: { pattern: 'sync_reliable' } },
        { name: 'Slow', type: 'test.collect', settings: { delayMs: 1500 }, queue: { size: 1, overflow: 'reject_new' } },
      ],
      [['In', 'Slow']],
    );
    const first = submit(hl7('S1'), 'response');
    const second = submit(hl7('S2'), 'response');
    await until(() => e.status().items.some((i) => i.name === 'Slow' && i.inFlight === 1 && i.queueDepth === 1));
    await expect(submit(hl7('S3'), 'response')).rejects.toMatchObject({ code: 'queue.full' });
    const refused = await stored('S3', ['failed']);
    expect(refused.finishedAt).not.toBeNull();
    // It failed at the item that refused it (the resend target), not at the service.
    expect((await trace(refused.id)).filter((ev) => ev.event === 'failed' || ev.event === 'completed')).toEqual([
      expect.objectContaining({ event: 'failed', item: 'Slow', detail: expect.objectContaining({ code: 'queue.full', from: 'In', refused: true }) }),
      expect.objectContaining({ event: 'completed', item: 'Slow' }),
    ]);
    await Promise.all([first, second]);
    await e.idle();
    await tracker!.flush();
    const unfinished: string[] = [];
    for await (const u of db.store.messages.unfinished(scope.projectId)) unfinished.push(u.id);
    expect(unfinished).not.toContain(refused.id);
  });
});

describe('point 4: application ACK mode', () => {
  async function appMode(answer: ConstructorParameters<typeof MllpDownstream>[1], execution?: object) {
    const down = await downstream(answer);
    const e = await run(
      [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, ackMode: 'application' } },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: down.port }, execution },
      ],
      [['In', 'Out']],
    );
    const port = Number(e.status().items.find((i) => i.name === 'In')!.details!.port);
    return { down, port };
  }

  it('a delivered message ends finished and delivered, not queued; the trace records the downstream ACK', { timeout: 30_000 }, async () => {
    const { port } = await appMode(() => ({ code: 'AA', text: 'filed' }));
    const ack = parseMessage(await sendOne(port, hl7('APP1')));
    expect([ack.get('MSA-1'), ack.get('MSA-2'), ack.get('MSA-3')]).toEqual(['AA', 'APP1', 'filed']);
    const m = await stored('APP1', ['delivered']);
    const events = await trace(m.id);
    // Give any late hop event time to land: none may follow `completed`.
    await new Promise((r) => setTimeout(r, 200));
    await tracker!.flush();
    const after = await db.store.messages.get(scope.projectId, m.id);
    expect(after).toMatchObject({ status: 'delivered', finishedAt: expect.any(Date) });
    expect((await trace(m.id)).at(-1)?.event).toBe('completed');
    expect(events.find((ev) => ev.event === 'delivered' && ev.item === 'Out')?.detail).toMatchObject({ ack: { code: 'AA', controlId: 'APP1', text: 'filed' } });
  });

  it('a downstream AR is relayed as AR, once (not retried), and the message fails at the operation', { timeout: 30_000 }, async () => {
    const { down, port } = await appMode(() => ({ code: 'AR', text: 'no such ward', error: { code: '103', message: 'no such ward' } }));
    const ack = parseMessage(await sendOne(port, hl7('APP2')));
    expect([ack.get('MSA-1'), ack.get('MSA-2'), ack.get('MSA-3')]).toEqual(['AR', 'APP2', 'no such ward']);
    expect(ack.segments('ERR')).toHaveLength(1);
    const m = await stored('APP2', ['failed']);
    const events = await trace(m.id);
    expect(events.filter((ev) => ev.event === 'failed').map((ev) => ev.item)).toEqual(['Out']);
    // The last event names where it failed (the operator's resend target), not the service that waited.
    expect(events.at(-1)).toMatchObject({ event: 'completed', item: 'Out' });
    expect(down.received).toEqual(['APP2']);
  });

  it('a downstream AR is relayed as AR when the sender runs in worker threads', { timeout: 30_000 }, async () => {
    const { port } = await appMode(() => ({ code: 'AR', text: 'closed ward' }), { mode: 'multiprocess', workers: 1 });
    const ack = parseMessage(await sendOne(port, hl7('APP4')));
    expect([ack.get('MSA-1'), ack.get('MSA-2'), ack.get('MSA-3')]).toEqual(['AR', 'APP4', 'closed ward']);
  });

  it('a downstream AE is relayed as AE and not retried by default', { timeout: 30_000 }, async () => {
    const { down, port } = await appMode(() => 'AE');
    const ack = parseMessage(await sendOne(port, hl7('APP3')));
    expect([ack.get('MSA-1'), ack.get('MSA-2')]).toEqual(['AE', 'APP3']);
    await stored('APP3', ['failed']);
    expect(down.received).toEqual(['APP3']);
  });
});
