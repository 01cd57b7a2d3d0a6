import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MllpDecoder, buildAck, encodeMllp, parseMessage } from '@hie/hl7';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { closeGate, gate, manualServices, openGate, passed, sink, sinks, testItemTypes } from '../testing/test-items';
import { MessageEnvelope } from '@hie/envelope';
import { capturedLog, freePort, testPolicy, until } from '../testing/helpers';

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;
const servers: net.Server[] = [];

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  for (const s of servers.splice(0)) s.close();
});

const hl7 = (id: string, type = 'ADT^A01') => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||${type}|${id}|P|2.5\rPID|1||${id}^^^MRN||DOE^JOHN\r`;

/** A raw MLLP client: write bytes, collect ACK frames. */
async function client(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r, j) => {
    socket.once('connect', r);
    socket.once('error', j);
  });
  const decoder = new MllpDecoder();
  const acks: string[] = [];
  socket.on('data', (c: Buffer) => {
    for (const ev of decoder.push(c)) if (ev.kind === 'frame') acks.push(new TextDecoder().decode(ev.payload));
  });
  const waitAcks = async (n: number, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (acks.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return acks;
  };
  return { socket, acks, waitAcks };
}

const closed = (socket: net.Socket) => new Promise<void>((r) => (socket.destroyed ? r() : socket.once('close', () => r())));
const dropLines = (lines: Record<string, unknown>[], reason: string) => lines.filter((l) => l.msg === 'mllp connection dropped by a limit' && l.reason === reason);

async function run(items: object[], connections: [string, string][], logger = log) {
  engine = createEngine({ log: logger, plugins: [...testItemTypes, gate], policy: testPolicy() }).engine;
  await engine.apply({ name: 'mllp', items, connections: connections.map(([from, to]) => ({ from, to })) });
  return engine;
}

const detailsOf = (e: ProductionEngine, item: string) => e.status().items.find((i) => i.name === item)!.details!;
const portOf = (e: ProductionEngine, item: string) => Number(detailsOf(e, item).port);

describe('hl7.mllp.in', () => {
  it('ACKs pipelined frames in order; a garbled frame gets a NACK and the connection lives on', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']]);
    const c = await client(portOf(e, 'In'));
    const frames = [encodeMllp(hl7('P1')), encodeMllp('this is not HL7'), encodeMllp(hl7('P2')), new TextEncoder().encode('garbage between frames'), encodeMllp(hl7('P3'))];
    // All in one write, split at an awkward place.
    const all = Buffer.concat(frames.map((f) => Buffer.from(f)));
    c.socket.write(all.subarray(0, 7));
    c.socket.write(all.subarray(7));
    const acks = await c.waitAcks(4);
    expect(acks.map((a) => parseMessage(a).get('MSA-1'))).toEqual(['AA', 'AR', 'AA', 'AA']);
    expect(acks.map((a) => parseMessage(a).get('MSA-2'))).toEqual(['P1', '', 'P2', 'P3']);
    c.socket.destroy();
    await e.idle();
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['P1', 'P2', 'P3']);
  });

  it('refuses an oversize frame with AR and keeps serving', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, maxMessageBytes: 2048 } }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']]);
    const c = await client(portOf(e, 'In'));
    c.socket.write(encodeMllp(hl7('BIG') + `NTE|1||${'x'.repeat(5000)}\r`));
    c.socket.write(encodeMllp(hl7('SMALL')));
    const acks = await c.waitAcks(2);
    expect(acks.map((a) => parseMessage(a).get('MSA-1'))).toEqual(['AR', 'AA']);
    c.socket.destroy();
  });

  it('block overflow stops reading the socket (backpressure), then catches up with nothing lost', async () => {
    closeGate();
    const e = await run(
      [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, maxPipelined: 4 } },
        { name: 'Out', type: 'test.gate', queue: { size: 2, overflow: 'block' } },
      ],
      [['In', 'Out']],
    );
    const c = await client(portOf(e, 'In'));
    // 6 MB in 16 kB frames: far more than the handful of frames the listener may hold.
    const n = 400;
    const pad = `NTE|1||${'x'.repeat(16_000)}\r`;
    for (let i = 0; i < n; i++) c.socket.write(encodeMllp(hl7(`K${i}`) + pad));
    // The gate holds one message and the queue (2) is full: the listener's hand-offs are stuck.
    await until(() => e.status().items.find((i) => i.name === 'Out')!.queueDepth === 2);
    // Each event-loop turn polls the socket: a listener still reading would take in more frames.
    const held = Number(detailsOf(e, 'In').bufferedBytes);
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    const heldLater = Number(detailsOf(e, 'In').bufferedBytes);
    openGate(); // before asserting, so a failure does not leave the engine stuck on the gate
    expect(heldLater).toBe(held);
    expect(held).toBeLessThan(20 * pad.length);
    const acks = await c.waitAcks(n, 30_000);
    expect(acks).toHaveLength(n);
    expect(acks.every((a) => parseMessage(a).get('MSA-1') === 'AA')).toBe(true);
    await e.idle();
    expect(passed).toBe(n);
    c.socket.destroy();
  });

  it('application ACK mode relays the downstream system’s ACK through a sync router and hl7.mllp.out', async () => {
    // The downstream system: answers every message with an ACK carrying a marker text.
    const downPort = await freePort();
    const down = net.createServer((s) => {
      const d = new MllpDecoder();
      s.on('data', (c: Buffer) => {
        for (const ev of d.push(c)) if (ev.kind === 'frame') s.write(encodeMllp(buildAck(parseMessage(ev.payload), 'AA', { text: 'FROM-DOWNSTREAM' }).toString()));
      });
    });
    servers.push(down);
    await new Promise<void>((r) => down.listen(downPort, '127.0.0.1', () => r()));
    const e = await run(
      [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, ackMode: 'application' }, messaging: { pattern: 'sync_reliable' } },
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' }, messaging: { pattern: 'sync_reliable' } },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: downPort } },
      ],
      [
        ['In', 'Route'],
        ['Route', 'Out'],
      ],
    );
    const c = await client(portOf(e, 'In'));
    c.socket.write(encodeMllp(hl7('SYNC1')));
    const [ack] = await c.waitAcks(1);
    const parsed = parseMessage(ack);
    expect(parsed.get('MSA-1')).toBe('AA');
    expect(parsed.get('MSA-2')).toBe('SYNC1');
    expect(parsed.get('MSA-3')).toBe('FROM-DOWNSTREAM');
    c.socket.destroy();
  });

  it('hl7.mllp.out retries on AE when set to, and fails at once on AR', async () => {
    let answered = 0;
    const downPort = await freePort();
    const down = net.createServer((s) => {
      const d = new MllpDecoder();
      s.on('data', (c: Buffer) => {
        for (const ev of d.push(c)) {
          if (ev.kind !== 'frame') continue;
          answered++;
          const m = parseMessage(ev.payload);
          const code = m.get('MSH-10') === 'REJECT' ? 'AR' : answered <= 2 ? 'AE' : 'AA';
          s.write(encodeMllp(buildAck(m, code).toString()));
        }
      });
    });
    servers.push(down);
    await new Promise<void>((r) => down.listen(downPort, '127.0.0.1', () => r()));
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Out', type: 'hl7.mllp.out', settings: { port: downPort, replyCodes: { AE: 'retry' } }, messaging: { retries: 3, retryDelayMs: 1 } },
      ],
      [['In', 'Out']],
    );
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('RETRY'), { source: 'In' }));
    await e.idle();
    let st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st.processed).toBe(1);
    expect(answered).toBe(3);
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('REJECT'), { source: 'In' }));
    await e.idle();
    st = e.status().items.find((i) => i.name === 'Out')!;
    expect(st.errors).toBe(1);
    expect(st.lastError?.code).toBe('mllp.rejected');
    expect(answered).toBe(4); // AR is not retried
  });

  describe('resource limits', () => {
    it('closes a connection whose frame is not finished within frameTimeoutMs (slow-loris) and logs it; a normal client is served alongside', { timeout: 20_000 }, async () => {
      const { log: captured, lines } = capturedLog();
      const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, frameTimeoutMs: 300 } }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']], captured);
      const slow = await client(portOf(e, 'In'));
      slow.socket.on('error', () => undefined); // writes after the server closed it
      const frame = encodeMllp(hl7('SLOW'));
      let at = 0;
      // One byte every 100 ms: the frame would take ~7 s, far past the deadline.
      const drip = setInterval(() => {
        if (at < frame.length && !slow.socket.destroyed) slow.socket.write(frame.subarray(at, ++at));
      }, 100);
      try {
        const normal = await client(portOf(e, 'In'));
        normal.socket.write(encodeMllp(hl7('FAST')));
        expect((await normal.waitAcks(1)).map((a) => parseMessage(a).get('MSA-1'))).toEqual(['AA']);
        await closed(slow.socket);
        expect(at).toBeLessThan(frame.length);
        expect(slow.acks).toEqual([]);
        expect(dropLines(lines, 'frame_timeout')).toEqual([
          expect.objectContaining({ level: 40, item: 'In', remote: '127.0.0.1', bytes: expect.any(Number), limit: 300 }),
        ]);
        expect(detailsOf(e, 'In').droppedConnections).toBe(1);
        expect(normal.socket.destroyed).toBe(false);
        normal.socket.destroy();
        await e.idle();
        expect(sink('Out').map((m) => m.header.controlId)).toEqual(['FAST']);
      } finally {
        clearInterval(drip);
      }
    });

    it('a client pipelining large frames into a blocked handler cannot make the listener hold more than maxListenerBytes; nothing is lost', { timeout: 30_000 }, async () => {
      closeGate();
      const budget = 256 * 1024;
      const e = await run(
        [
          { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, maxListenerBytes: budget } },
          { name: 'Gate', type: 'test.gate', queue: { size: 1, overflow: 'block' } },
        ],
        [['In', 'Gate']],
      );
      const c = await client(portOf(e, 'In'));
      const n = 40;
      const big = (i: number) => hl7(`L${i}`) + `NTE|1||${'x'.repeat(50 * 1024)}\r`;
      for (let i = 0; i < n; i++) c.socket.write(encodeMllp(big(i)));
      // The listener fills up to its budget, then stops reading: the rest waits in the sender's socket.
      for (let i = 0; i < 2000 && Number(detailsOf(e, 'In').bufferedBytes) <= budget; i++) await new Promise((r) => setTimeout(r, 5));
      expect(Number(detailsOf(e, 'In').bufferedBytes)).toBeGreaterThan(budget);
      expect(c.acks.length).toBeLessThan(n);
      openGate();
      const acks = await c.waitAcks(n, 20_000);
      expect(acks).toHaveLength(n);
      expect(acks.every((a) => parseMessage(a).get('MSA-1') === 'AA')).toBe(true);
      await e.idle();
      expect(passed).toBe(n);
      const d = detailsOf(e, 'In');
      // Over the budget by at most one socket read (64 KiB): the read that crossed it.
      expect(Number(d.peakBufferedBytes)).toBeLessThanOrEqual(budget + 64 * 1024);
      expect(d.bufferedBytes).toBe(0);
      expect(d.droppedConnections).toBe(0);
      c.socket.destroy();
    });

    it('closes a connection whose unfinished frame exceeds maxConnectionBytes and logs it; a normal client is served alongside', { timeout: 20_000 }, async () => {
      const { log: captured, lines } = capturedLog();
      const budget = 64 * 1024;
      const e = await run(
        [{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, maxConnectionBytes: budget, maxMessageBytes: 1024 * 1024 } }, { name: 'Out', type: 'test.collect' }],
        [['In', 'Out']],
        captured,
      );
      const hog = await client(portOf(e, 'In'));
      hog.socket.on('error', () => undefined);
      hog.socket.write(encodeMllp(hl7('HOG') + `NTE|1||${'x'.repeat(200 * 1024)}\r`));
      const normal = await client(portOf(e, 'In'));
      normal.socket.write(encodeMllp(hl7('OK')));
      expect((await normal.waitAcks(1)).map((a) => parseMessage(a).get('MSA-1'))).toEqual(['AA']);
      await closed(hog.socket);
      expect(hog.acks).toEqual([]);
      const [line] = dropLines(lines, 'connection_bytes');
      expect(line).toMatchObject({ level: 40, item: 'In', remote: '127.0.0.1', limit: budget });
      expect(Number(line.bytes)).toBeGreaterThan(budget);
      normal.socket.destroy();
      await e.idle();
      expect(sink('Out').map((m) => m.header.controlId)).toEqual(['OK']);
      expect(detailsOf(e, 'In').bufferedBytes).toBe(0);
    });

    it('logs a connection refused by maxConnections, and one closed for being idle', async () => {
      const { log: captured, lines } = capturedLog();
      const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, maxConnections: 1, idleTimeoutMs: 1000 } }, { name: 'Out', type: 'test.collect' }], [['In', 'Out']], captured);
      const first = await client(portOf(e, 'In'));
      first.socket.write(encodeMllp(hl7('FIRST')));
      await first.waitAcks(1);
      const second = net.connect({ host: '127.0.0.1', port: portOf(e, 'In') });
      second.on('error', () => undefined);
      await closed(second);
      expect(dropLines(lines, 'max_connections')).toEqual([expect.objectContaining({ level: 40, item: 'In', remote: '127.0.0.1', limit: 1 })]);
      await closed(first.socket); // then idle
      expect(lines.filter((l) => l.reason === 'idle_timeout')).toEqual([expect.objectContaining({ level: 30, item: 'In', remote: '127.0.0.1', limit: 1000 })]);
    });
  });
});
