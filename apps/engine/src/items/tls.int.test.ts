import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { MllpDecoder, encodeMllp, parseMessage } from '@hie/hl7';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { MemoryTracker, type MessageEvent } from '../runtime/tracker';
import { corpusDir, freePort, testPolicy } from '../testing/helpers';
import { makePki, type Pki } from '../testing/pki';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

const log = pino({ level: 'silent' });
const engines: ProductionEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  sinks.clear();
  manualServices.clear();
});

let pki: Pki;

beforeAll(async () => {
  pki = await makePki();
});

afterAll(async () => {
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

const hl7 = (id: string, type = 'ADT^A01') => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||${type}|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;

/** Records the engine's message events so a test can see retries. */
class RecordingTracker extends MemoryTracker {
  readonly events: { item: string; event: MessageEvent; detail?: Record<string, unknown> }[] = [];
  override event(_envelope: MessageEnvelope, item: string, event: MessageEvent, detail?: Record<string, unknown>): void {
    this.events.push({ item, event, detail });
  }
}

async function run(items: object[], connections: [string, string][], tracker?: RecordingTracker) {
  const engine = createEngine({ log, plugins: testItemTypes, tracker, policy: testPolicy() }).engine;
  engines.push(engine);
  await engine.apply({ name: 'tls', items, connections: connections.map(([from, to]) => ({ from, to })) });
  return engine;
}

const statusOf = (e: ProductionEngine, item: string) => e.status().items.find((i) => i.name === item)!;
const portOf = (e: ProductionEngine, item: string) => Number(statusOf(e, item).details!.port);

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What came of one exchange: the ACKs received, and whether the peer closed (or errored) the connection. */
interface Exchange {
  acks: string[];
  closed: boolean;
  error?: Error;
}

/**
 * Send one MLLP frame on a fresh connection and wait for its ACK or for the connection to end.
 * `tls` options make it a TLS client (the frame is written once the handshake completes); without,
 * a plain TCP one. The failsafe timeout only keeps a broken test from hanging; it is not asserted.
 */
async function exchange(port: number, frame: string, opts?: tls.ConnectionOptions): Promise<Exchange> {
  return new Promise<Exchange>((resolve) => {
    const result: Exchange = { acks: [], closed: false };
    const socket = opts ? tls.connect({ host: '127.0.0.1', port, ...opts }) : net.connect({ host: '127.0.0.1', port });
    const decoder = new MllpDecoder();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(failsafe);
      socket.destroy();
      resolve(result);
    };
    const failsafe = setTimeout(finish, 10_000);
    socket.once(opts ? 'secureConnect' : 'connect', () => socket.write(encodeMllp(frame)));
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) if (ev.kind === 'frame') result.acks.push(new TextDecoder().decode(ev.payload));
      if (result.acks.length > 0) finish();
    });
    socket.on('error', (e) => {
      result.error = e;
    });
    socket.on('close', () => {
      result.closed = true;
      finish();
    });
  });
}

const ackOf = (ack: string) => {
  const m = parseMessage(ack);
  return { code: m.get('MSA-1'), controlId: m.get('MSA-2') };
};

describe('MLLP over TLS', () => {
  it('hl7.mllp.in with TLS ACKs a TLS client and gives a plain-TCP client nothing', async () => {
    const e = await run(
      [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, tls: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey } } },
        { name: 'Sink', type: 'test.collect' },
      ],
      [['In', 'Sink']],
    );
    const port = portOf(e, 'In');
    const ca = await readFile(pki.ca);
    // A real message from the corpus; its MSH-10 must come back in MSA-2.
    const adt = (await readFile(path.join(corpusDir, 'hapi__ADT_A01__2.4__01.hl7'), 'utf8')).replace(/\r?\n/g, '\r');
    const controlId = parseMessage(adt).get('MSH-10');
    expect(controlId).toBe('22139243');

    const good = await exchange(port, adt, { ca });
    expect(good.error).toBeUndefined();
    expect(good.acks.map(ackOf)).toEqual([{ code: 'AA', controlId }]);

    const plain = await exchange(port, hl7('PLAIN'));
    expect(plain.acks).toEqual([]);
    expect(plain.closed).toBe(true);

    await until(() => sink('Sink').length === 1, 'the TLS message to reach the sink');
    expect(sink('Sink').map((m) => m.header.controlId)).toEqual([controlId]);
    expect(statusOf(e, 'In')).toMatchObject({ state: 'running', details: { received: 1 } });
  });

  it('requireClientCert serves a CA-signed client, refuses no cert and a rogue cert, and keeps serving', async () => {
    const e = await run(
      [
        {
          name: 'In',
          type: 'hl7.mllp.in',
          settings: { host: '127.0.0.1', port: 0, tls: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, requireClientCert: true } },
        },
        { name: 'Sink', type: 'test.collect' },
      ],
      [['In', 'Sink']],
    );
    const port = portOf(e, 'In');
    const ca = await readFile(pki.ca);
    const client = { ca, cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) };
    const rogue = { ca, cert: await readFile(pki.rogueCert), key: await readFile(pki.rogueKey) };

    const first = await exchange(port, hl7('MTLS1'), client);
    expect(first.acks.map(ackOf)).toEqual([{ code: 'AA', controlId: 'MTLS1' }]);

    const noCert = await exchange(port, hl7('NOCERT'), { ca });
    expect(noCert.acks).toEqual([]);
    expect(noCert.closed).toBe(true);

    const rogueResult = await exchange(port, hl7('ROGUE'), rogue);
    expect(rogueResult.acks).toEqual([]);
    expect(rogueResult.closed).toBe(true);

    // The refusals cost the listener nothing: it is still up and serving.
    const after = await exchange(port, hl7('MTLS2'), client);
    expect(after.acks.map(ackOf)).toEqual([{ code: 'AA', controlId: 'MTLS2' }]);
    expect(statusOf(e, 'In').state).toBe('running');

    await until(() => sink('Sink').length === 2, 'both accepted messages to reach the sink');
    expect(sink('Sink').map((m) => m.header.controlId)).toEqual(['MTLS1', 'MTLS2']);
  });

  it('hl7.mllp.out with mutual TLS delivers to a hl7.mllp.in TLS listener in the same production', async () => {
    const listenPort = await freePort();
    const e = await run(
      [
        { name: 'Src', type: 'test.manual_in' },
        {
          name: 'Send',
          type: 'hl7.mllp.out',
          settings: { host: '127.0.0.1', port: listenPort, poolSize: 2, tls: { enabled: true, caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey } },
        },
        {
          name: 'Listen',
          type: 'hl7.mllp.in',
          settings: {
            host: '127.0.0.1',
            port: listenPort,
            tls: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, requireClientCert: true },
          },
        },
        { name: 'Sink', type: 'test.collect' },
      ],
      [
        ['Src', 'Send'],
        ['Listen', 'Sink'],
      ],
    );
    const ids = ['E2E1', 'E2E2', 'E2E3'];
    for (const id of ids) await manualServices.get('Src')!.submit(MessageEnvelope.createHl7(hl7(id), { source: 'Src' }));
    await until(() => sink('Sink').length === ids.length, 'all messages to cross the TLS hop');
    await e.idle();
    expect(sink('Sink').map((m) => m.header.controlId).sort()).toEqual(ids);
    expect(statusOf(e, 'Send')).toMatchObject({ state: 'running', processed: 3, errors: 0, details: { sent: 3 } });
    expect(statusOf(e, 'Send').lastError).toBeUndefined();
    expect(statusOf(e, 'Listen').details).toMatchObject({ received: 3 });
  });

  it('a TLS file that cannot be read fails the item with config.tls and leaves the engine running', async () => {
    const missing = path.join(pki.dir, 'no-such-dir', 'missing.pem');
    const e = await run(
      [
        {
          name: 'BadIn',
          type: 'hl7.mllp.in',
          settings: { host: '127.0.0.1', port: 0, tls: { enabled: true, certFile: missing, keyFile: pki.serverKey } },
          restart: { policy: 'never' },
        },
        { name: 'BadOut', type: 'hl7.mllp.out', settings: { port: 1, tls: { enabled: true, caFile: missing } }, restart: { policy: 'never' } },
        { name: 'GoodIn', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } },
        { name: 'Sink', type: 'test.collect' },
      ],
      [['GoodIn', 'Sink']],
    );
    for (const name of ['BadIn', 'BadOut']) {
      const st = statusOf(e, name);
      expect(st.state).toBe('failed');
      expect(st.lastError?.code).toBe('config.tls');
      expect(st.lastError?.message).toContain(missing);
    }
    // The rest of the production runs.
    expect(statusOf(e, 'GoodIn').state).toBe('running');
    const ok = await exchange(portOf(e, 'GoodIn'), hl7('STILL-UP'));
    expect(ok.acks.map(ackOf)).toEqual([{ code: 'AA', controlId: 'STILL-UP' }]);
  });

  it('TLS files that are not usable (not PEM, key not matching, no listener cert) fail the start with config.tls', async () => {
    const junk = path.join(pki.dir, 'junk.pem');
    await writeFile(junk, 'this is not PEM\n');
    const never = { policy: 'never' };
    const e = await run(
      [
        { name: 'JunkCertIn', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, tls: { enabled: true, certFile: junk, keyFile: pki.serverKey } }, restart: never },
        { name: 'NoCertIn', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, tls: { enabled: true } }, restart: never },
        // Without the check these two start "running" and fail every send later as a retryable connection error.
        { name: 'MismatchOut', type: 'hl7.mllp.out', settings: { port: 1, tls: { enabled: true, certFile: pki.clientCert, keyFile: pki.serverKey } }, restart: never },
        { name: 'JunkCaOut', type: 'hl7.mllp.out', settings: { port: 1, tls: { enabled: true, caFile: junk } }, restart: never },
      ],
      [],
    );
    for (const name of ['JunkCertIn', 'NoCertIn', 'MismatchOut', 'JunkCaOut']) {
      const st = statusOf(e, name);
      expect({ name, state: st.state, code: st.lastError?.code }).toEqual({ name, state: 'failed', code: 'config.tls' });
    }
  });

  it('hl7.mllp.out retries until a late TLS receiver comes up, and the message is not lost', async () => {
    const port = await freePort();
    const tracker = new RecordingTracker();
    const sender = await run(
      [
        { name: 'Src', type: 'test.manual_in' },
        {
          name: 'Send',
          type: 'hl7.mllp.out',
          settings: {
            host: '127.0.0.1',
            port,
            poolSize: 1,
            reconnectDelayMs: 20,
            reconnectMaxDelayMs: 200,
            tls: { enabled: true, caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey },
          },
          messaging: { retries: 10, retryDelayMs: 50 },
        },
      ],
      [['Src', 'Send']],
      tracker,
    );
    const envelope = MessageEnvelope.createHl7(hl7('LATE1'), { source: 'Src' });
    await manualServices.get('Src')!.submit(envelope);

    // The receiver is down: the sender fails to connect and schedules retries.
    const retries = () => tracker.events.filter((ev) => ev.item === 'Send' && ev.event === 'retry');
    await until(() => retries().length >= 2, 'the sender to retry');
    expect(retries().every((ev) => ev.detail?.code === 'mllp.connection')).toBe(true);
    expect(sink('Late')).toEqual([]);

    await run(
      [
        {
          name: 'Listen',
          type: 'hl7.mllp.in',
          settings: { host: '127.0.0.1', port, tls: { enabled: true, certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, requireClientCert: true } },
        },
        { name: 'Late', type: 'test.collect' },
      ],
      [['Listen', 'Late']],
    );

    await until(() => sink('Late').length === 1, 'the message to reach the late receiver', 15_000);
    await sender.idle();
    expect(sink('Late').map((m) => m.header.controlId)).toEqual(['LATE1']);
    const st = statusOf(sender, 'Send');
    expect(st).toMatchObject({ state: 'running', processed: 1, errors: 0, details: { sent: 1 } });
    expect(st.lastError).toBeUndefined();
    expect(envelope.header.retryCount).toBeGreaterThanOrEqual(2);
    expect(tracker.events.filter((ev) => ev.item === 'Send' && ev.event === 'failed')).toEqual([]);
    expect(tracker.events.some((ev) => ev.item === 'Send' && ev.event === 'delivered')).toBe(true);
  });
});
