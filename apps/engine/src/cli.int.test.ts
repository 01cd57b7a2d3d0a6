import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import pg from 'pg';
import { openTestStore } from '@hie/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusDir, freePort, hie, hieExec, tempDir, until, waitForPort, writeJson } from './testing/helpers';

const corpusFiles = async () => (await readdir(corpusDir)).filter((f) => f.endsWith('.hl7')).sort();

describe('hie run: the shared corpus through a real MLLP client (@medplum/hl7)', () => {
  let port: number;
  let out: string;
  let child: ReturnType<typeof hie>;

  beforeAll(async () => {
    port = await freePort();
    const dir = await tempDir();
    out = path.join(dir, 'out');
    const file = await writeJson(path.join(dir, 'production.json'), {
      name: 'corpus',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port } },
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' }, execution: { mode: 'multiprocess', workers: 2 } },
        { name: 'Files', type: 'file.out', settings: { directory: out, filename: '{controlId}_{id}.hl7' } },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Files' },
      ],
    });
    child = hie(['run', file]);
    await waitForPort(port);
  }, 60_000);

  afterAll(async () => {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
  });

  it('ACKs every message AA with MSA-2 = MSH-10 and writes exactly the bytes sent', async () => {
    const client = new Hl7Client({ host: '127.0.0.1', port });
    const sent: { controlId: string; text: string }[] = [];
    try {
      for (const name of await corpusFiles()) {
        const text = (await readFile(path.join(corpusDir, name), 'utf8')).replace(/^\uFEFF/, '');
        const msg = MedplumMessage.parse(text);
        const controlId = msg.getSegment('MSH')?.getField(10)?.toString() ?? '';
        const ack = await client.sendAndWait(msg);
        expect(ack.getSegment('MSA')?.getField(1)?.toString(), name).toBe('AA');
        expect(ack.getSegment('MSA')?.getField(2)?.toString(), name).toBe(controlId);
        sent.push({ controlId, text: msg.toString() });
      }
    } finally {
      await client.close();
    }
    // Every message reaches the folder with the exact bytes that went over the wire.
    const deadline = Date.now() + 20_000;
    let files: string[] = [];
    while (Date.now() < deadline) {
      files = (await readdir(out).catch(() => [])).filter((f) => !f.startsWith('.'));
      if (files.length >= sent.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(files).toHaveLength(sent.length);
    const contents = new Set(await Promise.all(files.map((f) => readFile(path.join(out, f), 'utf8'))));
    for (const s of sent) expect(contents.has(s.text), s.controlId).toBe(true);
  }, 60_000);

  it('hie send: raw files byte-exact, batch files split, ACK per message', async () => {
    const before = new Set(await readdir(out));
    const files = (await corpusFiles()).filter((f) => f.includes('ADT_A0')).map((f) => path.join(corpusDir, f));
    const r = await hieExec(['send', '--port', String(port), ...files]);
    expect(r.code, r.output).toBe(0);
    const lines = r.output.trim().split('\n').filter((l) => l.includes('→'));
    expect(lines).toHaveLength(files.length);
    for (const l of lines) expect(l).toMatch(/→ AA \S+/);
    const newFiles = async () => (await readdir(out)).filter((f) => !before.has(f) && !f.startsWith('.'));
    await until(async () => (await newFiles()).length >= files.length);
    const added = await newFiles();
    const written = new Set(await Promise.all(added.map((f) => readFile(path.join(out, f)).then((b) => b.toString('latin1')))));
    for (const f of files) {
      const raw = (await readFile(f)).toString('latin1').replace(/^\xEF\xBB\xBF/, '');
      expect(written.has(raw), f).toBe(true);
    }
  }, 60_000);
});

describe('hie migrate', () => {
  it('applies the store migrations to an empty PostgreSQL database', async () => {
    const db = await openTestStore('postgres', { prefix: 'hie_test_migrate', migrate: false });
    try {
      const r = await hieExec(['migrate'], { env: { DATABASE_URL: db.databaseUrl! } });
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain('migrations applied (postgres)');
      const client = new pg.Client({ connectionString: db.databaseUrl });
      await client.connect();
      const tables = await client.query<{ t: string }>("select tablename as t from pg_tables where schemaname = 'public' order by 1");
      await client.end();
      expect(tables.rows.map((x) => x.t)).toEqual(expect.arrayContaining(['messages', 'message_events', 'message_status', 'message_text', 'projects', 'users']));
    } finally {
      await db.cleanup();
    }
  }, 60_000);
});

describe('hie validate / help', () => {
  it('prints every problem with its path and exits 1', async () => {
    const dir = await tempDir();
    const file = await writeJson(path.join(dir, 'bad.json'), {
      name: 'bad',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { port: 'x' } },
        { name: 'Out', type: 'file.out', settings: {}, queue: { overflow: 'never' } },
      ],
      connections: [{ from: 'In', to: 'Nowhere' }],
    });
    const r = await hieExec(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.output).toContain('items[0].settings.port');
    expect(r.output).toContain('items[1].settings.directory');
    expect(r.output).toContain('items[1].queue.overflow');
    expect(r.output).toContain('connections[0].to');
  }, 30_000);

  it('shows the settings the host policy refuses (roots, egress, regex) with their field paths; hie run refuses to start them', async () => {
    const dir = await tempDir();
    const file = await writeJson(path.join(dir, 'escape.json'), {
      name: 'escape',
      items: [
        { name: 'Drop', type: 'file.in', settings: { directory: '../../etc' } },
        { name: 'Route', type: 'hl7.router', settings: { rules: [{ name: 'r', when: { path: 'PID-5', op: 'matches', value: '(a)\\1' }, then: { action: 'discard' } }] } },
        { name: 'Steal', type: 'http.out', settings: { url: 'http://169.254.169.254/latest/meta-data/' } },
        { name: 'Lab', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: 2576 } },
      ],
      connections: [{ from: 'Drop', to: 'Route' }],
    });
    const env = { HIE_FILE_ROOTS: dir, HIE_EGRESS_ALLOW: '127.0.0.1:2575' };
    const r = await hieExec(['validate', file], { env });
    expect(r.code, r.output).toBe(1);
    for (const where of ['items[0].settings.directory', 'items[1].settings.rules[0].when.value', 'items[2].settings.url', 'items[3].settings.host']) {
      expect(r.output).toContain(where);
    }
    const run = await hieExec(['run', file], { env: { ...env, HIE_STORE: 'off' } });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('items[0].settings.directory');
  }, 30_000);

  it('accepts the demo production', async () => {
    const r = await hieExec(['validate', 'examples/adt-feed.json']);
    expect(r.output).toContain('valid');
    expect(r.code).toBe(0);
  }, 30_000);

  it('--help works everywhere', async () => {
    for (const cmd of ['run', 'validate', 'send', 'start']) {
      const r = await hieExec([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.output).toContain(`hie ${cmd}`);
    }
  }, 30_000);
});
