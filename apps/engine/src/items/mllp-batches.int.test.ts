import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MllpDecoder, encodeMllp, parseMessage, type Hl7Message } from '@hie/hl7';
import { openTestStore, type MessageDetail, type TestStore } from '@hie/store';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { StoreTracker } from '../runtime/store-tracker';
import { capturedLog, tempDir, testPolicy, until } from '../testing/helpers';
import { sink, sinks, testItemTypes } from '../testing/test-items';

/**
 * Batches and refused input on the store path: real sockets, a real PostgreSQL (the tracker's
 * raw-first writers), a real drop folder.
 */
let db: TestStore;
let engine: ProductionEngine | undefined;
let tracker: StoreTracker | undefined;
let projectId = '';
let lines: Record<string, unknown>[] = [];
let run = 0;

beforeAll(async () => {
  db = await openTestStore('postgres', { prefix: 'hie_test_batches' });
});
afterAll(async () => {
  await db?.cleanup();
});
afterEach(async () => {
  await engine?.stop();
  await tracker?.close();
  engine = undefined;
  tracker = undefined;
  sinks.clear();
});

/** Starts a production with the store tracker, in a project of its own; its log lines are kept. */
async function start(items: object[], connections: [string, string][]) {
  projectId = `p-batches-${++run}`;
  const captured = capturedLog();
  lines = captured.lines;
  const log = captured.log;
  tracker = StoreTracker.forProduction(db.store.messages, { projectId, workspaceId: 'ws-batches', production: 'batches' }, 'full', log);
  engine = createEngine({ log, tracker, plugins: testItemTypes, policy: testPolicy() }).engine;
  await engine.apply({ name: 'batches', items, connections: connections.map(([from, to]) => ({ from, to })) });
  return engine;
}

const mllpIn = (settings: object = {}) => [
  { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, ...settings } },
  { name: 'Out', type: 'test.collect' },
];
const portOf = (e: ProductionEngine) => Number(e.status().items.find((i) => i.name === 'In')!.details!.port);

/** A raw MLLP client: `ack(n)` waits for the n-th ACK frame and parses it. */
async function client(port: number) {
  const socket = net.createConnection({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const frames = new MllpDecoder();
  const received: Hl7Message[] = [];
  socket.on('data', (chunk: Buffer) => received.push(...frames.push(chunk).flatMap((ev) => (ev.kind === 'frame' ? [parseMessage(ev.payload)] : []))));
  return {
    socket,
    ack: async (n: number): Promise<Hl7Message> => {
      await until(() => received.length >= n);
      return received[n - 1];
    },
  };
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const msg = (id: string, name = 'M\xfcLLER') => `MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|${id}|P|2.5|||||D|8859/1\rPID|1||${id}^^^MRN||${name}^J\xd6RG\r`;

/** Every stored message of the test's project, oldest first, with body and trace. */
async function stored(status?: 'refused'): Promise<MessageDetail[]> {
  await engine?.idle();
  await tracker?.flush();
  const page = await db.store.messages.search(projectId, { limit: 100, ...(status ? { status } : {}) });
  const out: MessageDetail[] = [];
  for (const m of page.items.reverse()) out.push((await db.store.messages.get(projectId, m.id, { includeBody: true }))!);
  return out;
}

describe('hl7.mllp.in batches', () => {
  it('accepts an FHS/BHS batch frame: each message stored byte-exact and routed on its own, one AA for the frame', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    const frame = `FHS|^~\\&|SND|FAC|||20240101||||FILE-1\rBHS|^~\\&|SND|FAC|||20240101||||BATCH-7\r${msg('B1')}${msg('B2')}${msg('B3')}BTS|3\rFTS|1\r`;
    c.socket.write(encodeMllp(latin1(frame)));
    const ack = await c.ack(1);
    expect([ack.get('MSA-1'), ack.get('MSA-2'), ack.get('MSA-3')]).toEqual(['AA', 'B1', '3 messages accepted']);
    await until(() => sink('Out').length === 3);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['B1', 'B2', 'B3']);
    const rows = await stored();
    expect(rows.map((m) => m.controlId)).toEqual(['B1', 'B2', 'B3']);
    // Byte-exact: ISO-8859-1 bytes stay as they came.
    expect(rows.map((m) => Buffer.from(m.raw!).toString('latin1'))).toEqual([msg('B1'), msg('B2'), msg('B3')]);
    const props = rows.map((m) => (m.header as { customProperties: Record<string, unknown> }).customProperties);
    expect(new Set(props.map((p) => p.batchId)).size).toBe(1);
    expect(props.map((p) => [p.batchIndex, p.batchSize, p.batchControlId, p.batchProblems])).toEqual([
      [1, 3, 'BATCH-7', undefined],
      [2, 3, 'BATCH-7', undefined],
      [3, 3, 'BATCH-7', undefined],
    ]);
    expect(rows.every((m) => m.finishedAt !== null)).toBe(true);
    c.socket.destroy();
  });

  it('splits a frame of several MSH messages without batch headers instead of storing them as one', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    c.socket.write(encodeMllp(latin1(msg('M1') + msg('M2'))));
    const ack = await c.ack(1);
    expect([ack.get('MSA-1'), ack.get('MSA-2')]).toEqual(['AA', 'M1']);
    await until(() => sink('Out').length === 2);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['M1', 'M2']);
    expect((await stored()).map((m) => [m.controlId, m.size])).toEqual([
      ['M1', msg('M1').length],
      ['M2', msg('M2').length],
    ]);
    c.socket.destroy();
  });

  it('logs BTS/FTS counts that do not match and records them on every message of the batch', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    c.socket.write(encodeMllp(latin1(`BHS|^~\\&|SND\r${msg('C1')}${msg('C2')}BTS|5\r`)));
    expect((await c.ack(1)).get('MSA-1')).toBe('AA');
    const rows = await stored();
    const problems = rows.map((m) => (m.header as { customProperties: Record<string, unknown> }).customProperties.batchProblems);
    expect(problems).toEqual([['BTS[1]-1: BTS-1 says 5 messages, the batch holds 2'], ['BTS[1]-1: BTS-1 says 5 messages, the batch holds 2']]);
    const warned = lines.filter((l) => l.msg === 'batch trailer counts do not match its messages');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, messages: 2, problems: ['BTS[1]-1: BTS-1 says 5 messages, the batch holds 2'] });
    c.socket.destroy();
  });

  it('a batch with an unreadable message: the others are stored and routed, that one is kept as refused, the ACK says so', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    c.socket.write(encodeMllp(latin1(`BHS|^~\\&\r${msg('D1')}MSH|\rPID|1\r${msg('D3')}BTS|3\r`)));
    const ack = await c.ack(1);
    expect([ack.get('MSA-1'), ack.get('MSA-2')]).toEqual(['AR', 'D1']);
    expect(ack.get('MSA-3')).toContain('2 of 3 messages accepted');
    await until(() => sink('Out').length === 2);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['D1', 'D3']);
    const refused = await stored('refused');
    expect(refused.map((m) => Buffer.from(m.raw!).toString('latin1'))).toEqual(['MSH|\rPID|1\r']);
    expect(refused[0].events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'not_hl7', batchIndex: 2, batchSize: 3 } });
    c.socket.destroy();
  });
  it('a message of the batch that cannot be handed on stops the batch: AE for the frame, the ones before it kept', async () => {
    const e = await start(
      [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } },
        { name: 'Out', type: 'test.collect', settings: { delayMs: 2000 }, queue: { size: 1, overflow: 'reject_new' } },
      ],
      [['In', 'Out']],
    );
    const c = await client(portOf(e));
    c.socket.write(encodeMllp(latin1(msg('Q1') + msg('Q2') + msg('Q3') + msg('Q4'))));
    const ack = await c.ack(1);
    expect([ack.get('MSA-1'), ack.get('MSA-2')]).toEqual(['AE', 'Q1']);
    expect(ack.get('MSA-3')).toMatch(/^message \d of 4 \(Q\d\) could not be handed on/);
    expect(lines.some((l) => l.msg === 'batch stopped: a message could not be handed on')).toBe(true);
    const failedAt = Number(/^message (\d)/.exec(ack.get('MSA-3') ?? '')![1]);
    await tracker!.flush();
    const kept = (await db.store.messages.search(projectId, {})).items.map((m) => m.controlId).reverse();
    // Those before the failure were taken, the failed one is recorded as failed, none after it was taken.
    expect(kept).toEqual(['Q1', 'Q2', 'Q3', 'Q4'].slice(0, failedAt));
    c.socket.destroy();
  });

  it('application ACK mode: the frame’s ACK is the worst of the downstream ACKs (AE when one message got AE)', async () => {
    const e = await start(
      [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, ackMode: 'application' } },
        { name: 'Out', type: 'test.collect', settings: { respond: 'MSH|^~\\&|RCV|FAC|SND|FAC|20240101||ACK|R1|P|2.5\rMSA|AE|X\r' } },
      ],
      [['In', 'Out']],
    );
    const c = await client(portOf(e));
    c.socket.write(encodeMllp(latin1(msg('A1') + msg('A2'))));
    const ack = await c.ack(1);
    expect([ack.get('MSA-1'), ack.get('MSA-2')]).toEqual(['AE', 'A1']);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['A1', 'A2']);
    c.socket.destroy();
  });
});

describe('nothing refused disappears', () => {
  it('a frame that is not HL7 is NACKed, stored as refused with its bytes, logged, and never recovered', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    c.socket.write(encodeMllp('this is not HL7'));
    expect((await c.ack(1)).get('MSA-1')).toBe('AR');
    const [m] = await stored('refused');
    expect(m).toMatchObject({ status: 'refused', item: 'In' });
    expect(new TextDecoder().decode(m.raw!)).toBe('this is not HL7');
    expect(m.finishedAt).not.toBeNull();
    expect(m.events.map((ev) => ev.event)).toEqual(['received', 'refused']);
    expect(m.events[1].detail).toMatchObject({ reason: 'not_hl7', bytes: 15, remote: '127.0.0.1' });
    expect(lines.some((l) => l.msg === 'refused input kept as a refused message' && l.reason === 'not_hl7' && l.messageId === m.id)).toBe(true);
    expect(sink('Out')).toHaveLength(0);
    const open: unknown[] = [];
    for await (const u of db.store.messages.unfinished(projectId)) open.push(u);
    expect(open).toEqual([]);
    c.socket.destroy();
  });

  it('a message refused by validate is stored as refused with the problems in its trace', async () => {
    const e = await start(mllpIn({ validate: true }), [['In', 'Out']]);
    const c = await client(portOf(e));
    const noVersion = 'MSH|^~\\&|SND|FAC|RCV|FAC|20240101120000||ADT^A01|V1|P\rPID|1||V1\r';
    c.socket.write(encodeMllp(noVersion));
    expect((await c.ack(1)).get('MSA-1')).toBe('AR');
    const [m] = await stored('refused');
    expect(new TextDecoder().decode(m.raw!)).toBe(noVersion);
    expect(m.events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'invalid', error: expect.stringContaining('MSH-12') } });
    c.socket.destroy();
  });

  it('an oversize frame is NACKed and stored as refused: its first refusedMaxBytes, flagged truncated', async () => {
    const e = await start(mllpIn({ maxMessageBytes: 2048, refusedMaxBytes: 1024 }), [['In', 'Out']]);
    const c = await client(portOf(e));
    const big = msg('BIG') + `NTE|1||${'x'.repeat(5000)}\r`;
    c.socket.write(encodeMllp(latin1(big)));
    c.socket.write(encodeMllp(latin1(msg('SMALL'))));
    const acks = [await c.ack(1), await c.ack(2)];
    expect(acks.map((a) => a.get('MSA-1'))).toEqual(['AR', 'AA']);
    const [m] = await stored('refused');
    expect(m.raw).toEqual(latin1(big).subarray(0, 1024));
    expect(m.controlId).toBe('BIG');
    expect(m.events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'too_large', truncated: true, maxMessageBytes: 2048 } });
    // A frame within maxMessageBytes but over refusedMaxBytes: its first bytes are kept, the trace says how many there were.
    c.socket.write(encodeMllp('z'.repeat(1500)));
    expect((await c.ack(3)).get('MSA-1')).toBe('AR');
    const second = (await stored('refused'))[1];
    expect(second.raw).toEqual(new TextEncoder().encode('z'.repeat(1024)));
    expect(second.events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'not_hl7', bytes: 1500, storedBytes: 1024, truncated: true } });
    c.socket.destroy();
  });

  it('a frame cut off by the connection closing is stored as refused with the bytes received', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    c.socket.write(encodeMllp(latin1(msg('WHOLE'))));
    await c.ack(1);
    const cut = msg('CUT').slice(0, 40);
    c.socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(latin1(cut))]));
    await until(() => e.status().items.find((i) => i.name === 'In')!.details!.bufferedBytes === cut.length);
    c.socket.destroy();
    await until(async () => (await stored('refused')).length === 1);
    const [m] = await stored('refused');
    expect(m.raw).toEqual(latin1(cut));
    expect(m.events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'partial_frame', bytes: 40 } });
    expect(sink('Out').map((x) => x.header.controlId)).toEqual(['WHOLE']);
  });
  it('a frame cut short by a new start block is stored as refused; the frame after it is served', async () => {
    const e = await start(mllpIn(), [['In', 'Out']]);
    const c = await client(portOf(e));
    const cut = msg('RESTARTED').slice(0, 30);
    c.socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(latin1(cut)), Buffer.from(encodeMllp(latin1(msg('AFTER'))))]));
    expect((await c.ack(1)).get('MSA-2')).toBe('AFTER');
    const [m] = await stored('refused');
    expect(m.raw).toEqual(latin1(cut));
    expect(m.events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'partial_frame', bytes: 30 } });
    c.socket.destroy();
  });
});

describe('file.in', () => {
  it('a file with no HL7 message in it is stored as refused, logged and moved to the error folder', async () => {
    const dir = await tempDir();
    const inDir = path.join(dir, 'in');
    await mkdir(inDir);
    await writeFile(path.join(inDir, 'notes.hl7'), 'Dear colleague, please find attached…');
    await writeFile(path.join(inDir, 'good.hl7'), latin1(msg('F1')));
    await start(
      [
        { name: 'Files', type: 'file.in', settings: { directory: inDir, glob: '*.hl7', pollIntervalMs: 50, minAgeMs: 0 } },
        { name: 'Out', type: 'test.collect' },
      ],
      [['Files', 'Out']],
    );
    await until(async () => (await readdir(path.join(inDir, '.error')).catch(() => [] as string[])).includes('notes.hl7'));
    await until(() => sink('Out').length === 1);
    const [m] = await stored('refused');
    expect(new TextDecoder().decode(m.raw!)).toBe('Dear colleague, please find attached…');
    expect(m.events.at(-1)).toMatchObject({ event: 'refused', detail: { reason: 'not_a_message', file: 'notes.hl7' } });
    expect(lines.some((l) => l.msg === 'refused input kept as a refused message' && l.file === 'notes.hl7')).toBe(true);
    // The good file was split on bytes: its ISO-8859-1 bytes are stored as they were.
    const good = (await stored()).find((x) => x.controlId === 'F1')!;
    expect(good.raw).toEqual(latin1(msg('F1')));
  });
});
