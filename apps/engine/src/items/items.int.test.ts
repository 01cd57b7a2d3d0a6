import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { MessageEnvelope } from '@hie/envelope';
import { parseMessage } from '@hie/hl7';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { corpusDir, tempDir, testPolicy, until } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
});

async function run(items: object[], connections: [string, string][]) {
  engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
  await engine.apply({ name: 'items', items, connections: connections.map(([from, to]) => ({ from, to })) });
  return engine;
}

describe('file.in', () => {
  it('splits batch files, skips hidden/unmatched files, archives when done', async () => {
    const dir = await tempDir();
    const inDir = path.join(dir, 'in');
    await mkdir(inDir);
    const m = (id: string) => `MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5\rPID|1||${id}\r`;
    await writeFile(path.join(inDir, 'batch.hl7'), `FHS|^~\\&|A\rBHS|^~\\&|A\r${m('F1')}${m('F2')}${m('F3')}BTS|3\rFTS|1\r`);
    await writeFile(path.join(inDir, 'single.hl7'), m('F4'));
    await writeFile(path.join(inDir, 'notes.txt'), 'ignore me');
    const e = await run(
      [
        { name: 'Files In', type: 'file.in', settings: { directory: inDir, glob: '*.hl7', pollIntervalMs: 50, minAgeMs: 0 } },
        { name: 'Out', type: 'test.collect' },
      ],
      [['Files In', 'Out']],
    );
    await until(() => sink('Out').length === 4);
    await e.idle();
    expect(sink('Out').map((x) => x.header.controlId).sort()).toEqual(['F1', 'F2', 'F3', 'F4']);
    await until(async () => (await readdir(inDir)).filter((f) => f.endsWith('.hl7')).length === 0);
    expect(await readdir(inDir)).toContain('notes.txt');
    expect((await readdir(path.join(inDir, '.archive'))).length).toBe(2);
  });

  it('skips a file still being written (modified within minAgeMs)', async () => {
    const dir = await tempDir();
    const e = await run(
      [
        { name: 'Files In', type: 'file.in', settings: { directory: dir, glob: '*.hl7', pollIntervalMs: 30, minAgeMs: 60_000 } },
        { name: 'Out', type: 'test.collect' },
      ],
      [['Files In', 'Out']],
    );
    await writeFile(path.join(dir, 'fresh.hl7'), 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|W1|P|2.5\r');
    // A file written after it, but dated an hour back: once it arrives, a poll has seen both.
    const old = path.join(dir, 'old.hl7');
    await writeFile(old, 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|OLD|P|2.5\r');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(old, hourAgo, hourAgo);
    await until(() => sink('Out').length === 1);
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['OLD']);
    expect(await readdir(dir)).toContain('fresh.hl7');
    await e.stop();
  });
});

describe('http.in and http.out', () => {
  it('http.in with respond: sync answers with the downstream response body', async () => {
    const e = await run(
      [
        { name: 'Web In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, path: '/hl7', respond: 'sync' } },
        { name: 'Out', type: 'test.collect', settings: { respond: 'PONG' } },
      ],
      [['Web In', 'Out']],
    );
    const port = Number(e.status().items.find((i) => i.name === 'Web In')!.details!.port);
    const res = await fetch(`http://127.0.0.1:${port}/hl7`, {
      method: 'POST',
      headers: { 'content-type': 'application/hl7-v2+er7' },
      body: 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|S1|P|2.5\rPID|1||1\r',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-message-id')).toMatch(/[0-9a-f-]{36}/);
    expect(await res.text()).toBe('PONG');
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['S1']);
  });

  it('http.in answers 202 with the message id; http.out posts the body and retries 503', async () => {
    let calls = 0;
    const bodies: string[] = [];
    const target = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls++;
        if (calls === 1) {
          res.writeHead(503).end('busy');
          return;
        }
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const targetPort = (target.address() as { port: number }).port;
    try {
      const e = await run(
        [
          { name: 'Web In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, path: '/hl7' } },
          { name: 'Web Out', type: 'http.out', settings: { url: `http://127.0.0.1:${targetPort}/x` }, messaging: { retries: 2, retryDelayMs: 1 } },
        ],
        [['Web In', 'Web Out']],
      );
      const port = Number(e.status().items.find((i) => i.name === 'Web In')!.details!.port);
      const msg = 'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|H1|P|2.5\rOBX|1|NM|GLU||5.5\r';
      const res = await fetch(`http://127.0.0.1:${port}/hl7`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2+er7' }, body: msg });
      expect(res.status).toBe(202);
      const { messageId } = (await res.json()) as { messageId: string };
      expect(messageId).toMatch(/[0-9a-f-]{36}/);
      await e.idle();
      expect(bodies).toEqual([msg]);
      expect(calls).toBe(2);
      const bad = await fetch(`http://127.0.0.1:${port}/other`, { method: 'POST', body: 'x' });
      expect(bad.status).toBe(404);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('http.not_found');
    } finally {
      target.close();
    }
  });
});

describe('hl7.transform and hl7.router', () => {
  it('turns a v2.3 ADT into v2.4 and then v2.5, changing only what the operations say', async () => {
    const raw = await readFile(path.join(corpusDir, 'hapi__ADT_A04__2.3__01.hl7'));
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'To 2.4',
          type: 'hl7.transform',
          settings: { operations: [{ op: 'setVersion', version: '2.4' }, { op: 'upper', path: 'PID-5.1' }, { op: 'date', path: 'PID-7', from: 'YYYYMMDD', to: 'YYYY-MM-DD' }] },
        },
        {
          name: 'To 2.5',
          type: 'hl7.transform',
          settings: {
            operations: [
              { op: 'setVersion', version: '2.5' },
              { op: 'map', path: 'PID-8', table: { M: 'male', F: 'female' }, default: 'unknown' },
              { op: 'addSegment', segment: 'ZHI|converted|2.3-to-2.5', after: 'PID' },
              { op: 'copy', from: 'MSH-10', to: 'ZHI-3' },
            ],
          },
        },
        { name: 'Out', type: 'test.collect' },
      ],
      [
        ['In', 'To 2.4'],
        ['To 2.4', 'To 2.5'],
        ['To 2.5', 'Out'],
      ],
    );
    const input = MessageEnvelope.createHl7(new Uint8Array(raw), { source: 'In' });
    const original = parseMessage(raw);
    await manualServices.get('In')!.submit(input);
    await e.idle();
    const out = sink('Out')[0];
    const msg = parseMessage(out.body.raw);
    expect(msg.get('MSH-12')).toBe('2.5');
    expect(out.header.schemaVersion).toBe('2.5');
    expect(msg.get('PID-5.1')).toBe((original.get('PID-5.1') ?? '').toUpperCase());
    const born = original.get('PID-7')!; // 19850101000000
    expect(msg.get('PID-7')).toBe(`${born.slice(0, 4)}-${born.slice(4, 6)}-${born.slice(6, 8)}`);
    expect(msg.segments('ZHI')).toHaveLength(1);
    expect(msg.get('ZHI-3')).toBe(original.get('MSH-10'));
    expect(msg.get('PID-8')).toBe(original.get('PID-8') === 'M' ? 'male' : original.get('PID-8') === 'F' ? 'female' : 'unknown');
    // Everything else is untouched (e.g. the escaped PID-11 and other segments).
    expect(msg.get('PID-11')).toBe(original.get('PID-11'));
    const names = msg.segments().map((s) => s.name);
    expect(names.indexOf('ZHI')).toBe(names.indexOf('PID') + 1);
    expect(names.filter((n) => n !== 'ZHI')).toEqual(original.segments().map((s) => s.name));
  });

  it('routes by rules (and/or/not, in, matches) to targets; the rest is discarded', async () => {
    const e = await run(
      [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'Route',
          type: 'hl7.router',
          settings: {
            mode: 'first_match',
            rules: [
              { name: 'adt', when: { path: 'MSH-9.1', op: '=', value: 'ADT' }, then: { action: 'send', to: ['ADT'] } },
              {
                name: 'glucose results',
                when: { and: [{ path: 'MSH-9', op: 'startsWith', value: 'ORU' }, { or: [{ path: 'OBX-3', op: 'matches', value: '^GLU' }, { path: 'OBX-3', op: 'in', values: ['2345-7'] }] }] },
                then: { action: 'transform', operations: [{ op: 'set', path: 'MSH-5', value: 'LAB' }], to: ['LAB'] },
              },
              { name: 'not test', when: { not: { path: 'MSH-11', op: '=', value: 'T' } }, then: { action: 'discard', reason: 'unrouted production message' } },
            ],
          },
        },
        { name: 'ADT', type: 'test.collect' },
        { name: 'LAB', type: 'test.collect' },
      ],
      [
        ['In', 'Route'],
        ['Route', 'ADT'],
        ['Route', 'LAB'],
      ],
    );
    const m = (type: string, obx = '') => `MSH|^~\\&|A|B|C|D|20240101||${type}|X|P|2.5\r${obx}`;
    for (const body of [m('ADT^A01'), m('ORU^R01', 'OBX|1|NM|GLU^Glucose||5\r'), m('ORU^R01', 'OBX|1|NM|K^Potassium||4\r'), m('ORM^O01')]) {
      await manualServices.get('In')!.submit(MessageEnvelope.createHl7(body, { source: 'In' }));
    }
    await e.idle();
    expect(sink('ADT')).toHaveLength(1);
    expect(sink('LAB')).toHaveLength(1);
    expect(parseMessage(sink('LAB')[0].body.raw).get('MSH-5')).toBe('LAB');
    expect(e.status().items.find((i) => i.name === 'Route')!.discarded).toBe(2);
  });

  it('refuses a pattern RE2 cannot run (a back-reference) at deploy time', async () => {
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy() }).engine;
    await expect(
      engine.apply({
        name: 'x',
        items: [{ name: 'R', type: 'hl7.router', settings: { rules: [{ name: 'evil', when: { path: 'PID-5', op: 'matches', value: '(a)\\1' }, then: { action: 'discard' } }] } }],
        connections: [],
      }),
    ).rejects.toMatchObject({ code: 'config.invalid' });
  });
});
