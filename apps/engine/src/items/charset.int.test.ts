import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { MessageEnvelope } from '@hie/envelope';
import { MllpDecoder, buildAck, encodeMllp, parseMessage } from '@hie/hl7';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { sendFiles } from '../send';
import { tempDir, testPolicy, until } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

/**
 * Byte fidelity across character sets (issue 10, points 5 and 7), with real bytes: the fixtures
 * are ISO-8859-1 (0xFC for ü), written to real files and real sockets.
 */
const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
  for (const s of servers.splice(0)) s.close();
});

async function run(items: object[], connections: [string, string][]) {
  engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
  await engine.apply({ name: 'charset', items, connections: connections.map(([from, to]) => ({ from, to })) });
  return engine;
}

const portOf = (e: ProductionEngine, item: string) => Number(e.status().items.find((i) => i.name === item)!.details!.port);

/** Text → ISO-8859-1 bytes, one byte per char: ü is 0xFC. */
const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const MUELLER = hex(latin1('M\u00fcller')); // 4d fc 6c 6c 65 72
const UTF8_UE = 'c3bc';

const adt = (id: string) => `MSH|^~\\&|M\u00fc|FAC|RCV|RFAC|20240101120000||ADT^A01|${id}|P|2.5||||||8859/1\rPID|1||${id}^^^MRN||M\u00fcller^J\u00fcrgen||19700101|M\r`;

/** The files a folder holds once `n` are there, as bytes. */
async function filesIn(dir: string, n: number): Promise<Uint8Array[]> {
  let names: string[] = [];
  await until(async () => {
    names = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.'));
    return names.length >= n;
  });
  return Promise.all(names.sort().map(async (f) => new Uint8Array(await readFile(path.join(dir, f)))));
}

/** A raw MLLP peer: collects frames as bytes; `answer` makes it an ACKing downstream system. */
async function mllpPeer(answer: boolean) {
  const frames: Uint8Array[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    const d = new MllpDecoder();
    s.on('data', (c: Buffer) => {
      for (const ev of d.push(c)) {
        if (ev.kind !== 'frame') continue;
        frames.push(ev.payload);
        if (answer) s.write(encodeMllp(buildAck(parseMessage(ev.payload), 'AA').toBytes()));
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { frames, port: (server.address() as net.AddressInfo).port };
}

/** A raw MLLP client: writes bytes, collects ACK frames as bytes. */
async function client(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  await new Promise<void>((r, j) => {
    socket.once('connect', r);
    socket.once('error', j);
  });
  const decoder = new MllpDecoder();
  const acks: Uint8Array[] = [];
  socket.on('data', (c: Buffer) => {
    for (const ev of decoder.push(c)) if (ev.kind === 'frame') acks.push(ev.payload);
  });
  return {
    send: (bytes: Uint8Array) => socket.write(encodeMllp(bytes)),
    next: async (n: number) => {
      await until(() => acks.length >= n);
      return acks[n - 1];
    },
  };
}

describe('character sets (MSH-18) are kept byte-exact', () => {
  it('hl7.transform keeps an 8859/1 message in ISO-8859-1: ü stays 0xFC in the output file', async () => {
    const out = path.join(await tempDir(), 'out');
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Map', type: 'hl7.transform', settings: { operations: [{ op: 'map', path: 'PID-8', table: { M: 'männlich' } }, { op: 'upper', path: 'PID-5.2' }] } },
        { name: 'Out', type: 'file.out', settings: { directory: out } },
      ],
      [
        ['In', 'Map'],
        ['Map', 'Out'],
      ],
    );
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(latin1(adt('T1')), { source: 'In' }));
    await e.idle();
    const [file] = await filesIn(out, 1);
    const expected = latin1(adt('T1').replace('J\u00fcrgen', 'J\u00dcRGEN').replace('|M\r', '|m\u00e4nnlich\r'));
    expect(hex(file)).toBe(hex(expected));
    expect(hex(file)).not.toContain(UTF8_UE);
  });

  it('the router’s transform action keeps 0xFC byte-exact in the MLLP frame sent downstream', async () => {
    const down = await mllpPeer(true);
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'Route',
          type: 'hl7.router',
          settings: { rules: [{ name: 'all', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'transform', operations: [{ op: 'set', path: 'MSH-5', value: 'LAB' }], to: ['Down'] } }] },
        },
        { name: 'Down', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: down.port } },
      ],
      [
        ['In', 'Route'],
        ['Route', 'Down'],
      ],
    );
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(latin1(adt('R1')), { source: 'In' }));
    await e.idle();
    await until(() => down.frames.length === 1);
    expect(hex(down.frames[0])).toBe(hex(latin1(adt('R1').replace('|RCV|', '|LAB|'))));
    expect(hex(down.frames[0])).toContain(MUELLER);
  });

  it('file.in splits a Latin-1 batch file (splitBatch, the default) without turning bytes into EF BF BD', async () => {
    const dir = await tempDir();
    const inDir = path.join(dir, 'in');
    const out = path.join(dir, 'out');
    await mkdir(inDir);
    await writeFile(path.join(inDir, 'batch.hl7'), latin1(`FHS|^~\\&|M\u00fc\rBHS|^~\\&\r${adt('B1')}${adt('B2')}BTS|2\rFTS|1\r`));
    const e = await run(
      [
        { name: 'Files', type: 'file.in', settings: { directory: inDir, glob: '*.hl7', pollIntervalMs: 30, minAgeMs: 0 } },
        { name: 'Out', type: 'file.out', settings: { directory: out, filename: '{controlId}.hl7' } },
      ],
      [['Files', 'Out']],
    );
    const files = await filesIn(out, 2);
    await e.idle();
    expect(files.map(hex)).toEqual([hex(latin1(adt('B1'))), hex(latin1(adt('B2')))]);
    expect(files.map(hex).join('')).not.toContain('efbfbd');
  });

  it('hie send splits a Latin-1 batch file and sends each message with its own bytes', async () => {
    const down = await mllpPeer(true);
    const file = path.join(await tempDir(), 'batch.hl7');
    await writeFile(file, latin1(`BHS|^~\\&\r${adt('S1')}${adt('S2')}BTS|2\r`));
    const results = await sendFiles({ host: '127.0.0.1', port: down.port, files: [file], timeoutMs: 5_000 });
    expect(results.map((r) => r.ackCode)).toEqual(['AA', 'AA']);
    expect(down.frames.map(hex)).toEqual([hex(latin1(adt('S1'))), hex(latin1(adt('S2')))]);
  });
});

describe('hl7.mllp.in ACKs in the sender’s encoding', () => {
  it('an 8859/1 sender with MSH-3 Mü gets MSH-5 with the same bytes (4D FC) and MSH-18 echoed', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } }, { name: 'Sink', type: 'test.collect' }], [['In', 'Sink']]);
    const c = await client(portOf(e, 'In'));
    const sent = latin1(adt('A1'));
    c.send(sent);
    const ack = await c.next(1);
    const msh = Buffer.from(ack).toString('latin1').split('\r')[0].split('|');
    expect(hex(latin1(msh[4]))).toBe('4dfc');
    expect(msh[17]).toBe('8859/1');
    expect(hex(ack)).not.toContain(UTF8_UE);
    expect(parseMessage(ack).get('MSA-2')).toBe('A1');
    await e.idle();
    expect(hex(sink('Sink')[0].body.raw)).toBe(hex(sent));
  });

  it('accepts, raw-first, an MSH-2 holding a replacement character (U+FFFD), as HAPI-based engines do', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } }, { name: 'Sink', type: 'test.collect' }], [['In', 'Sink']]);
    const c = await client(portOf(e, 'In'));
    const sent = new TextEncoder().encode('MSH|^~\\&\ufffd|SND|FAC|RCV|FAC|20240101||ADT^A01|Q1|P|2.5\rPID|1||7^^^MRN||DOE^JOHN\r');
    c.send(sent);
    const ack = parseMessage(await c.next(1));
    expect(ack.get('MSA-1')).toBe('AA');
    expect(ack.get('MSA-2')).toBe('Q1');
    await e.idle();
    expect(sink('Sink')).toHaveLength(1);
    expect(hex(sink('Sink')[0].body.raw)).toBe(hex(sent));
  });

  it('a Medplum Hl7Client whose header cannot be read gets a NACK with its MSA-2 (it matches by MSA-2) and ERR-3 102', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } }, { name: 'Sink', type: 'test.collect' }], [['In', 'Sink']]);
    const medplum = new Hl7Client({ host: '127.0.0.1', port: portOf(e, 'In') });
    try {
      // MSH-2 names '^' twice: ambiguous, so the delimiters really cannot be read.
      const msg = MedplumMessage.parse('MSH|^^\\&|SND|FAC|RCV|FAC|20240101||ADT^A01|MP-77|P|2.5\rPID|1||7\r');
      // A timeout only so a regression fails instead of hanging: Medplum waits forever for MSA-2.
      const ack = await medplum.sendAndWait(msg, { timeoutMs: 5_000 });
      expect(ack.getSegment('MSA')?.getField(1)?.toString()).toBe('AR');
      expect(ack.getSegment('MSA')?.getField(2)?.toString()).toBe('MP-77');
      expect(ack.getSegment('ERR')?.getField(3)?.getComponent(1)).toBe('102');
      expect(ack.getSegment('MSH')?.getField(5)?.toString()).toBe('SND');
    } finally {
      await medplum.close();
    }
    expect(sink('Sink')).toHaveLength(0);
  });

  it('ERR-3 fits a validation problem: 203 for an unsupported version, 101 for a missing MSH-10', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, validate: true } }, { name: 'Sink', type: 'test.collect' }], [['In', 'Sink']]);
    const c = await client(portOf(e, 'In'));
    c.send(new TextEncoder().encode('MSH|^~\\&|SND|FAC|RCV|FAC|20240101||ADT^A01|V1|P|9.9\rEVN|A01\rPID|1||7\rPV1|1|I\r'));
    const bad = parseMessage(await c.next(1));
    expect(bad.get('MSA-1')).toBe('AR');
    expect(bad.get('MSA-2')).toBe('V1');
    expect(bad.get('ERR-3.1')).toBe('203');
    c.send(new TextEncoder().encode('MSH|^~\\&|SND|FAC|RCV|FAC|20240101||ADT^A01||P|2.5\rEVN|A01\rPID|1||7\rPV1|1|I\r'));
    expect(parseMessage(await c.next(2)).get('ERR-3.1')).toBe('101');
  });

  it('ERR-3 fits a frame that does not start with MSH: 100, segment sequence error', async () => {
    const e = await run([{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } }, { name: 'Sink', type: 'test.collect' }], [['In', 'Sink']]);
    const c = await client(portOf(e, 'In'));
    c.send(new TextEncoder().encode('PID|1||7\rMSH|^~\\&\r'));
    const ack = parseMessage(await c.next(1));
    expect(ack.get('MSA-1')).toBe('AR');
    expect(ack.get('ERR-3.1')).toBe('100');
  });
});
