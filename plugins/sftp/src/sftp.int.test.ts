/**
 * sftp.in and sftp.out against a real OpenSSH server (started per file on 127.0.0.1 with
 * throwaway keys): key and password logins, host key pinning, the egress policy, the poller's
 * pattern / min age / after-process, atomic uploads, and connections cut in the middle of a
 * transfer (sessions frozen, then killed) that the items recover from.
 */
import { spawn } from 'node:child_process';
import { readlink, readdir, readFile, mkdir, chmod, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, MessageEnvelope, type ItemHandler } from '@hie/item-sdk';
import { sftpIn, sftpOut } from './index';
import { PASSWORD_USER, startSshd, until, type TestSshd } from './testing/sshd';

let sshd: TestSshd;
let n = 0;

beforeAll(async () => {
  sshd = await startSshd();
}, 60_000);

afterAll(async () => {
  await sshd?.close();
});

/** A fresh remote folder (a real folder: the server is local), writable by the password user too. */
async function remoteDir(): Promise<string> {
  const dir = path.join(sshd.dir, `r${++n}`);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777);
  return dir;
}

const conn = () => ({ host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: sshd.userKey, hostFingerprint: sshd.hostFingerprint });
const visible = async (dir: string) => (await readdir(dir)).filter((f) => !f.startsWith('.')).sort();
const hl7 = (id: string, extra = '') => `MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||ORU^R01|${id}|P|2.5\rPID|1||${id}^^^HOSP^MR\r${extra}`;
const old = async (file: string) => utimes(file, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

/** Starts an sftp.in item on a test context; stop it with the returned handler's onStop. */
async function poller(settings: Record<string, unknown>) {
  const { ctx, record } = createTestContext({ itemName: 'SFTP In' });
  const handler = await sftpIn.create(sftpIn.settings.parse({ ...conn(), pollIntervalMs: 100, minAgeMs: 0, ...settings }), ctx);
  await handler.onStart?.(ctx);
  return { ctx, record, handler, texts: () => record.submitted.map((e) => e.text()) };
}

async function stopped<T extends { handler: ItemHandler; ctx: Parameters<NonNullable<ItemHandler['onStop']>>[0] }>(p: T): Promise<T> {
  await p.handler.onStop?.(p.ctx);
  return p;
}

/** Processes serving connections that have `file` open (the server reading or writing it). */
async function holding(file: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await sshd.sessionPids()) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')).startsWith(file)) found.push(pid);
  }
  return found;
}

/** Cuts every connection while the server is in the middle of `file`: frozen first (so the transfer cannot finish), then killed. */
async function cutMidTransfer(file: string, partial: () => Promise<boolean>): Promise<void> {
  await until(async () => (await holding(file)).length > 0, 30_000, `the server to open ${file}`);
  for (const pid of await sshd.sessionPids()) process.kill(pid, 'SIGSTOP');
  expect(await partial(), 'the transfer was cut part-way').toBe(true);
  await sshd.killSessions();
}

describe('sftp.in', () => {
  it('takes the files matching the pattern, splits multi-message files, archives them (key login)', async () => {
    const dir = await remoteDir();
    await writeFile(path.join(dir, 'a.hl7'), hl7('A1') + hl7('A2'));
    await writeFile(path.join(dir, 'b.txt'), hl7('B1'));
    const p = await poller({ remoteDirectory: dir, pattern: '\\.hl7$' });
    await until(async () => p.record.submitted.length === 2 && (await visible(dir)).length === 1, 20_000, 'a.hl7 to be taken');
    await stopped(p);
    expect(p.texts()).toEqual([hl7('A1'), hl7('A2')]);
    expect(p.record.submitted.map((e) => e.header.customProperties.file)).toEqual(['a.hl7', 'a.hl7']);
    expect(await visible(dir)).toEqual(['b.txt']);
    const archived = await readdir(path.join(dir, '.archive'));
    expect(archived).toHaveLength(1);
    expect(archived[0]).toMatch(/^\d{8}T\d{9}Z_a\.hl7$/);
  });

  it('leaves files younger than minAgeMs; deletes or moves the rest', async () => {
    const dir = await remoteDir();
    const moved = path.join(sshd.dir, `moved${n}`);
    await writeFile(path.join(dir, 'fresh.hl7'), hl7('F1'));
    await writeFile(path.join(dir, 'old.hl7'), hl7('O1'));
    await old(path.join(dir, 'old.hl7'));
    const p = await poller({ remoteDirectory: dir, minAgeMs: 600_000, afterProcess: 'move', moveDirectory: moved });
    await until(async () => (await readdir(moved).catch(() => [])).length === 1, 20_000, 'old.hl7 to be moved');
    await stopped(p);
    expect(p.texts()).toEqual([hl7('O1')]);
    expect(await visible(dir)).toEqual(['fresh.hl7']);
    expect(await readFile(path.join(moved, 'old.hl7'), 'utf8')).toBe(hl7('O1'));

    const d2 = await remoteDir();
    await writeFile(path.join(d2, 'x.hl7'), hl7('X1'));
    const q = await poller({ remoteDirectory: d2, afterProcess: 'delete' });
    await until(async () => (await readdir(d2)).length === 0, 20_000, 'x.hl7 to be deleted');
    await stopped(q);
    expect(q.texts()).toEqual([hl7('X1')]);
  });

  it('a file with no HL7 message is refused and moved to .error', async () => {
    const dir = await remoteDir();
    await writeFile(path.join(dir, 'junk.hl7'), 'not a message');
    const p = await poller({ remoteDirectory: dir });
    await until(async () => (await readdir(path.join(dir, '.error')).catch(() => [])).length === 1, 20_000, 'junk to be refused');
    await stopped(p);
    expect(p.record.refused.map((r) => r.reason)).toEqual(['not_a_message']);
    expect(p.record.submitted).toEqual([]);
  });

  it('refuses a server whose host key is not the pinned one, before logging in', async () => {
    const dir = await remoteDir();
    await writeFile(path.join(dir, 'a.hl7'), hl7('K1'));
    const before = sshd.log().length;
    const p = await poller({ remoteDirectory: dir, hostFingerprint: `SHA256:${'A'.repeat(43)}` });
    await until(() => String(p.handler.info?.().lastError ?? '').length > 0, 20_000, 'the poll to fail');
    await stopped(p);
    expect(p.handler.info?.().lastError).toContain(`host key of 127.0.0.1:${sshd.port} is ${sshd.hostFingerprint}, not the pinned SHA256:AAAA`);
    expect(sshd.log().slice(before)).not.toMatch(/Accepted (publickey|password)/);
    expect(await visible(dir)).toEqual(['a.hl7']);
  });

  it('recovers from a connection cut in the middle of a download: the file is read again whole, nothing lost', async () => {
    const dir = await remoteDir();
    const big = hl7('BIG1', `OBX|1|TX|||${'A'.repeat(40 * 1024 * 1024)}\r`);
    const file = path.join(dir, 'big.hl7');
    await writeFile(file, big);
    await writeFile(path.join(dir, 'small.hl7'), hl7('S1'));
    const p = await poller({ remoteDirectory: dir, afterProcess: 'delete' });
    // Frozen while the server has big.hl7 open and before the poller has its message: the cut is mid-download.
    await cutMidTransfer(file, async () => p.record.submitted.length === 0);
    await until(async () => (await readdir(dir)).length === 0, 60_000, 'both files to be taken after the cut');
    await stopped(p);
    // At-least-once, and never a truncated message: each file's message arrives whole.
    expect(new Set(p.record.submitted.map((e) => e.header.customProperties.file))).toEqual(new Set(['big.hl7', 'small.hl7']));
    for (const e of p.record.submitted) expect(e.text()).toBe(e.header.customProperties.file === 'big.hl7' ? big : hl7('S1'));
  }, 120_000);

  it('an unreachable server does not stop the item; it picks up once the server is back', async () => {
    const dir = await remoteDir();
    await writeFile(path.join(dir, 'later.hl7'), hl7('L1'));
    await sshd.stop();
    let p: Awaited<ReturnType<typeof poller>> | undefined;
    try {
      p = await poller({ remoteDirectory: dir });
      await until(() => /cannot connect/.test(String(p!.handler.info?.().lastError ?? '')), 20_000, 'the poll to fail');
    } finally {
      await sshd.start();
    }
    await until(async () => p!.record.submitted.length === 1, 30_000, 'later.hl7 after the restart');
    await stopped(p);
    expect(p.texts()).toEqual([hl7('L1')]);
  }, 60_000);
});

describe('sftp.out', () => {
  async function sender(settings: Record<string, unknown>) {
    const { ctx } = createTestContext({ itemName: 'SFTP Out' });
    const handler = await sftpOut.create(sftpOut.settings.parse({ ...conn(), ...settings }), ctx);
    await handler.onStart?.(ctx);
    return { ctx, handler, send: (e: MessageEnvelope) => handler.onMessage!(e, ctx) };
  }

  it('uploads each message to its file name (password login)', async () => {
    const dir = await remoteDir();
    const s = await sender({ remoteDirectory: dir, username: PASSWORD_USER, privateKey: '', password: sshd.password, filename: '{controlId}.hl7' });
    for (const id of ['P1', 'P2']) await s.send(MessageEnvelope.createHl7(hl7(id), { source: 't' }));
    await s.handler.onStop?.(s.ctx);
    expect(await readdir(dir)).toEqual(['P1.hl7', 'P2.hl7']);
    expect(await readFile(path.join(dir, 'P2.hl7'), 'utf8')).toBe(hl7('P2'));
  });

  it('takes a private key pasted without its line breaks (a one-line form field)', async () => {
    const dir = await remoteDir();
    const s = await sender({ remoteDirectory: dir, privateKey: sshd.userKey.replace(/\r?\n/g, ''), filename: '{controlId}.hl7' });
    await s.send(MessageEnvelope.createHl7(hl7('K9'), { source: 't' }));
    await s.handler.onStop?.(s.ctx);
    expect(await readdir(dir)).toEqual(['K9.hl7']);
  });

  it('a wrong password is an error, not an upload', async () => {
    const dir = await remoteDir();
    const s = await sender({ remoteDirectory: dir, username: PASSWORD_USER, privateKey: '', password: 'wrong' });
    await expect(s.send(MessageEnvelope.createHl7(hl7('W1'), { source: 't' }))).rejects.toMatchObject({ code: 'sftp.out.connect', kind: 'operational' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a mismatched host key, a host outside the egress policy, and a missing pin', async () => {
    const dir = await remoteDir();
    const s = await sender({ remoteDirectory: dir, hostFingerprint: `SHA256:${'B'.repeat(43)}` });
    await expect(s.send(MessageEnvelope.createHl7(hl7('M1'), { source: 't' }))).rejects.toMatchObject({ code: 'sftp.out.host_key_mismatch', kind: 'user' });
    const { ctx } = createTestContext({ egressAllow: ['10.1.2.3'] });
    const h = await sftpOut.create(sftpOut.settings.parse({ ...conn(), remoteDirectory: dir }), ctx);
    await expect(Promise.resolve(h.onMessage!(MessageEnvelope.createHl7(hl7('E1'), { source: 't' }), ctx))).rejects.toMatchObject({ code: 'policy.egress_refused' });
    const unpinned = await sftpOut.create(sftpOut.settings.parse({ ...conn(), remoteDirectory: dir, hostFingerprint: '' }), ctx);
    expect(() => unpinned.onStart!(ctx)).toThrow(/hostFingerprint is required/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a connection cut mid-upload never leaves a half-written file under the final name; the retry writes it whole', async () => {
    const dir = await remoteDir();
    const big = hl7('UP1', `OBX|1|TX|||${'B'.repeat(40 * 1024 * 1024)}\r`);
    const s = await sender({ remoteDirectory: dir, filename: '{controlId}.hl7' });
    const first = Promise.resolve(s.send(MessageEnvelope.createHl7(big, { source: 't' })));
    const settled = first.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    const tmp = async () => (await readdir(dir)).find((f) => f.startsWith('.UP1.hl7.'));
    await until(async () => (await tmp()) !== undefined, 30_000, 'the upload to start');
    await cutMidTransfer(path.join(dir, (await tmp())!), async () => (await readdir(dir)).every((f) => f !== 'UP1.hl7'));
    expect(await settled).toMatchObject({ code: 'sftp.out.upload', kind: 'operational' });
    expect(await visible(dir)).toEqual([]);
    // What the host does with an operational error: send it again (a new connection).
    await s.send(MessageEnvelope.createHl7(big, { source: 't' }));
    await s.handler.onStop?.(s.ctx);
    expect(await visible(dir)).toEqual(['UP1.hl7']);
    expect((await readFile(path.join(dir, 'UP1.hl7'), 'utf8')) === big).toBe(true);
  }, 120_000);
});

describe('hie run: the SFTP plugin loads by default', () => {
  it('moves files from one remote folder to another through sftp.in → sftp.out (in a worker thread)', async () => {
    const from = await remoteDir();
    const to = await remoteDir();
    const production = path.join(sshd.dir, 'sftp-relay.json');
    await writeFile(
      production,
      JSON.stringify({
        name: 'sftp-relay',
        items: [
          { name: 'Pick up', type: 'sftp.in', settings: { ...conn(), remoteDirectory: from, pollIntervalMs: 200, minAgeMs: 0, afterProcess: 'delete' } },
          { name: 'Drop off', type: 'sftp.out', settings: { ...conn(), remoteDirectory: to, filename: '{controlId}.hl7' }, execution: { mode: 'multiprocess', workers: 1 } },
        ],
        connections: [{ from: 'Pick up', to: 'Drop off' }],
      }),
    );
    await writeFile(path.join(from, 'one.hl7'), hl7('R1') + hl7('R2'));
    const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const child = spawn(process.execPath, [path.join(repo, 'bin/hie.mjs'), 'run', production], {
      cwd: sshd.dir,
      env: { ...process.env, HIE_STORE: 'off', HIE_LOG_LEVEL: 'warn', HIE_BUILD: 'off', HIE_PLUGINS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until(async () => (await visible(to)).length === 2, 60_000, `both messages in ${to} (${out})`);
      expect(await visible(to)).toEqual(['R1.hl7', 'R2.hl7']);
      expect(await readFile(path.join(to, 'R2.hl7'), 'utf8')).toBe(hl7('R2'));
      expect(await readdir(from)).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code, out).toBe(0);
    }
  }, 120_000);
});
