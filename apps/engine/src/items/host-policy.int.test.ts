/**
 * Issue 9, findings 2–4: items touch only folders under the roots, reach only hosts the egress
 * policy allows, and run user patterns on a linear-time engine.
 */
import { mkdir, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { ConfigProblem } from '@hie/config';
import { MessageEnvelope } from '@hie/envelope';
import type { HostPolicyInput } from '@hie/policy';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { tempDir, testPolicy, until } from '../testing/helpers';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';

const log = pino({ level: 'silent' });
let engine: ProductionEngine | undefined;
/** base/root is the only root; base/outside is the rest of the host. */
let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await realpath(await tempDir('hie-policy-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
});

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
});

const msg = (id: string, pid5 = 'DOE^JOHN') => `MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5\rPID|1||${id}||${pid5}\r`;

function newEngine(policy: HostPolicyInput = {}): ProductionEngine {
  engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy({ roots: [root], ...policy }) }).engine;
  return engine;
}

/** The problems an apply is refused with (config.invalid), as `path: code`. */
async function refusal(e: ProductionEngine, items: object[], connections: [string, string][] = []): Promise<string[]> {
  const err = await e.apply({ name: 'p', items, connections: connections.map(([from, to]) => ({ from, to })) }).then(
    () => undefined,
    (x: unknown) => x as { code: string; details: { problems: ConfigProblem[] } },
  );
  expect(err?.code).toBe('config.invalid');
  return err!.details.problems.map((p) => `${p.pathText}: ${p.code}`);
}

/** file.in polling <root>/in every 20 ms, wired to a collector named Out. */
const dropToOut = (glob: string) => ({
  name: 'p',
  items: [
    { name: 'Files In', type: 'file.in', settings: { directory: 'in', pollIntervalMs: 20, minAgeMs: 0, glob } },
    { name: 'Out', type: 'test.collect' },
  ],
  connections: [{ from: 'Files In', to: 'Out' }],
});

describe('file roots', () => {
  it('file.in refuses a drop folder that leads out of the roots by ".." or by a symlink, and nothing outside is moved', async () => {
    await writeFile(path.join(outside, 'passwd'), msg('SECRET'));
    await symlink(outside, path.join(root, 'link'));
    const e = newEngine();
    const fileIn = (directory: string) => ({ name: 'Files In', type: 'file.in', settings: { directory, pollIntervalMs: 20, minAgeMs: 0, glob: '*' } });
    for (const directory of ['../outside', path.join(root, '..', 'outside'), 'link', path.join(root, 'link'), outside]) {
      expect(await refusal(e, [fileIn(directory), { name: 'Out', type: 'test.collect' }], [['Files In', 'Out']]), directory).toEqual([
        'items[0].settings.directory: path_outside_roots',
      ]);
    }
    expect(
      await refusal(e, [{ name: 'Files In', type: 'file.in', settings: { directory: 'in', archiveDirectory: 'link/archive', errorDirectory: '/tmp' } }]),
    ).toEqual(['items[0].settings.archiveDirectory: path_outside_roots', 'items[0].settings.errorDirectory: path_outside_roots']);
    expect(await readdir(outside)).toEqual(['passwd']);
    expect(sink('Out')).toEqual([]);
  });

  it('file.in never follows a symlink inside its drop folder (the target is not read, shown or moved)', async () => {
    const inDir = path.join(root, 'in');
    await mkdir(inDir);
    await writeFile(path.join(outside, 'passwd.hl7'), msg('SECRET'));
    await symlink(path.join(outside, 'passwd.hl7'), path.join(inDir, 'a-link.hl7'));
    await writeFile(path.join(inDir, 'b-real.hl7'), msg('REAL'));
    await newEngine().apply(dropToOut('*.hl7'));
    await until(() => sink('Out').length === 1);
    await until(async () => !(await readdir(inDir)).includes('b-real.hl7'));
    // A file dropped afterwards arrives on a later poll: the link has been passed over again.
    await writeFile(path.join(inDir, 'c-later.hl7'), msg('LATER'));
    await until(() => sink('Out').length === 2);
    await until(async () => !(await readdir(inDir)).includes('c-later.hl7'));
    expect(sink('Out').map((m) => m.header.controlId)).toEqual(['REAL', 'LATER']);
    expect((await readdir(inDir)).sort()).toEqual(['.archive', 'a-link.hl7']);
    expect(await readFile(path.join(outside, 'passwd.hl7'), 'utf8')).toBe(msg('SECRET'));
  });

  it('file.in checks its drop folder again every poll: swapped for a symlink out of the roots after start, nothing there is read or moved', async () => {
    const inDir = path.join(root, 'in');
    await mkdir(inDir);
    const refusals: unknown[] = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => void refusals.push((JSON.parse(line) as { msg: unknown }).msg) });
    engine = createEngine({ log: capture, plugins: testItemTypes, policy: testPolicy({ roots: [root] }) }).engine;
    await engine.apply(dropToOut('*'));
    await writeFile(path.join(outside, 'shadow'), msg('SECRET'));
    await rm(inDir, { recursive: true });
    await symlink(outside, inDir);
    // Several polls have looked and refused the folder.
    await until(() => refusals.filter((m) => m === 'cannot read the input directory').length >= 3);
    expect(sink('Out')).toEqual([]);
    expect(await readdir(outside)).toEqual(['shadow']);
  });

  it('file.out and TLS file paths outside the roots are refused with their field paths; relative ones land under the first root', async () => {
    const e = newEngine();
    await writeFile(path.join(outside, 'key.pem'), 'not for you');
    expect(
      await refusal(e, [
        { name: 'Files Out', type: 'file.out', settings: { directory: outside, overwrite: true } },
        { name: 'TLS In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0, tls: { enabled: true, certFile: '../outside/cert.pem', keyFile: path.join(outside, 'key.pem') } } },
      ]),
    ).toEqual(['items[0].settings.directory: path_outside_roots', 'items[1].settings.tls.certFile: path_outside_roots', 'items[1].settings.tls.keyFile: path_outside_roots']);

    await e.apply({
      name: 'p',
      items: [
        { name: 'In', type: 'test.manual_in' },
        // In a worker thread: the policy travels with the item.
        { name: 'Files Out', type: 'file.out', settings: { directory: './out/adt', filename: '{controlId}.hl7' }, execution: { mode: 'multiprocess', workers: 1 } },
      ],
      connections: [{ from: 'In', to: 'Files Out' }],
    });
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(msg('W1'), { source: 'In' }));
    await e.idle();
    expect(await readdir(path.join(root, 'out', 'adt'))).toEqual(['W1.hl7']);
  });

  it('file.out checks its folder again before every write: swapped for a symlink out of the roots after start, it refuses', async () => {
    const e = newEngine();
    await e.apply({
      name: 'p',
      items: [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Files Out', type: 'file.out', settings: { directory: 'out', filename: '{controlId}.hl7' }, messaging: { retries: 0 } },
      ],
      connections: [{ from: 'In', to: 'Files Out' }],
    });
    await rm(path.join(root, 'out'), { recursive: true });
    await symlink(outside, path.join(root, 'out'));
    await expect(manualServices.get('In')!.submit(MessageEnvelope.createHl7(msg('W2'), { source: 'In' }), { wait: 'response' })).rejects.toMatchObject({
      code: 'policy.path_outside_roots',
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('file.out: a file name taken from the message ("..", "/" in MSH-10) never leaves the folder', async () => {
    const e = newEngine();
    await e.apply({
      name: 'p',
      items: [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Files Out', type: 'file.out', settings: { directory: 'out', filename: '{controlId}' }, messaging: { retries: 0 } },
      ],
      connections: [{ from: 'In', to: 'Files Out' }],
    });
    const send = (id: string) => manualServices.get('In')!.submit(MessageEnvelope.createHl7(msg(id), { source: 'In' }), { wait: 'response' });
    await expect(send('..')).rejects.toMatchObject({ code: 'file.bad_name' });
    await send('../../outside/evil');
    expect(await readdir(path.join(root, 'out'))).toEqual(['.._.._outside_evil']);
    expect(await readdir(root)).toEqual(['out']);
    expect(await readdir(outside)).toEqual([]);
  });
});

describe('egress (SSRF)', () => {
  async function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number; hits: string[] }> {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, port: (server.address() as { port: number }).port, hits };
  }

  it('http.out does not follow a redirect: a 303 to another port does not turn the POST into a GET of that body', async () => {
    const secret = await listen((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hie_metrics_secret 1'));
    const bouncer = await listen((_req, res) => res.writeHead(303, { location: `http://127.0.0.1:${secret.port}/metrics` }).end());
    try {
      const e = newEngine();
      await e.apply({
        name: 'p',
        items: [
          { name: 'Web In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, path: '/hl7', respond: 'sync' } },
          { name: 'Web Out', type: 'http.out', settings: { url: `http://127.0.0.1:${bouncer.port}/x` }, messaging: { retries: 0 } },
        ],
        connections: [{ from: 'Web In', to: 'Web Out' }],
      });
      const port = Number(e.status().items.find((i) => i.name === 'Web In')!.details!.port);
      const res = await fetch(`http://127.0.0.1:${port}/hl7`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2+er7' }, body: msg('R1') });
      const body = await res.text();
      expect(body).not.toContain('hie_metrics_secret');
      expect(res.status).toBe(422);
      expect(body).toContain('http.redirect');
      expect(bouncer.hits).toEqual(['POST /x']);
      expect(secret.hits).toEqual([]);
    } finally {
      secret.server.close();
      bouncer.server.close();
    }
  });

  it('http.out: the Host header is the engine\'s, not a setting; an answer over 16 MiB fails the message, not the engine', async () => {
    const e = newEngine();
    expect(
      await refusal(e, [{ name: 'Steer', type: 'http.out', settings: { url: 'http://localhost:18081/', headers: { Host: 'admin.internal' } } }]),
    ).toEqual(['items[0].settings.headers: custom']);
    const huge = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 17; i++) res.write(chunk);
      res.end();
    });
    try {
      await e.apply({
        name: 'p',
        items: [
          { name: 'Web In', type: 'http.in', settings: { host: '127.0.0.1', port: 0, path: '/hl7', respond: 'sync' } },
          { name: 'Web Out', type: 'http.out', settings: { url: `http://127.0.0.1:${huge.port}/x` } },
        ],
        connections: [{ from: 'Web In', to: 'Web Out' }],
      });
      const port = Number(e.status().items.find((i) => i.name === 'Web In')!.details!.port);
      const res = await fetch(`http://127.0.0.1:${port}/hl7`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2+er7' }, body: msg('BIG1') });
      // Not retried (a user error): the sender hears at once, and the engine keeps running.
      expect(await res.text()).toContain('http.response_too_large');
      expect(e.status().items.find((i) => i.name === 'Web Out')!.state).toBe('running');
    } finally {
      huge.server.close();
    }
  });

  it("refuses link-local and metadata addresses and the manager's own address (after DNS) for http.out and hl7.mllp.out", async () => {
    const e = newEngine({ ownAddresses: [{ host: '0.0.0.0', port: 18_080 }] });
    expect(
      await refusal(e, [
        { name: 'Metadata', type: 'http.out', settings: { url: 'http://169.254.169.254/latest/meta-data/' } },
        { name: 'Link local', type: 'http.out', settings: { url: 'http://[fe80::1]:8080/' } },
        { name: 'Manager', type: 'http.out', settings: { url: 'http://localhost:18080/metrics' } },
        { name: 'File URL', type: 'http.out', settings: { url: 'file:///etc/passwd' } },
        { name: 'MLLP', type: 'hl7.mllp.out', settings: { host: '169.254.169.254', port: 2575 } },
        { name: 'Fine', type: 'http.out', settings: { url: 'http://localhost:18081/' } },
      ]),
    ).toEqual([
      'items[0].settings.url: egress_refused',
      'items[1].settings.url: egress_refused',
      'items[2].settings.url: egress_refused',
      'items[3].settings.url: egress_refused',
      'items[4].settings.host: egress_refused',
    ]);
  });

  it('HIE_EGRESS_ALLOW restricts http.out and hl7.mllp.out to the listed hosts', async () => {
    const e = newEngine({ egressAllow: ['127.0.0.1:2575', 'lab.example.org'] });
    expect(
      await refusal(e, [
        { name: 'Listed', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: 2575 } },
        { name: 'Other port', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: 2576 } },
        { name: 'Other host', type: 'http.out', settings: { url: 'http://localhost:8080/' } },
      ]),
    ).toEqual(['items[1].settings.host: egress_refused', 'items[2].settings.url: egress_refused']);
  });
});

describe('user patterns', () => {
  it('a router "matches" rule runs in linear time: ((a+))+$ against 5,000 a and "!" completes with the right answer', async () => {
    const e = newEngine();
    await e.apply({
      name: 'p',
      items: [
        { name: 'In', type: 'test.manual_in' },
        {
          name: 'Route',
          type: 'hl7.router',
          // In a worker thread, so a backtracking engine would fail this test by timeout instead of freezing the runner.
          execution: { mode: 'multiprocess', workers: 1 },
          settings: {
            rules: [
              { name: 'evil', when: { path: 'PID-5', op: 'matches', value: '((a+))+$' }, then: { action: 'send', to: ['Hit'] } },
              { name: 'rest', then: { action: 'send', to: ['Miss'] } },
            ],
          },
        },
        { name: 'Hit', type: 'test.collect' },
        { name: 'Miss', type: 'test.collect' },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Hit' },
        { from: 'Route', to: 'Miss' },
      ],
    });
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(msg('EVIL', `${'a'.repeat(5000)}!`), { source: 'In' }));
    await manualServices.get('In')!.submit(MessageEnvelope.createHl7(msg('PLAIN', 'aaaa'), { source: 'In' }));
    await e.idle();
    expect(sink('Miss').map((m) => m.header.controlId)).toEqual(['EVIL']);
    expect(sink('Hit').map((m) => m.header.controlId)).toEqual(['PLAIN']);
  });
});
