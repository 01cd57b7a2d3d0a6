/**
 * A real OpenSSH server for tests (Debian's openssh-server): started on 127.0.0.1 on a free port
 * with a throwaway host key and user key, its own config, pid file and log, and internal-sftp
 * logging every open/close so a test can cut the connection in the middle of a transfer.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, until } from '@hie/item-sdk';

export { until };

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';
/** The local user password logins use (created on first use: the tests run as root, as in CI). */
export const PASSWORD_USER = 'hie-sftp-test';

export interface TestSshd {
  port: number;
  /** Temp folder of the server (keys, config, log) and of the tests' remote folders. */
  dir: string;
  /** `SHA256:…` of the host key (ssh-keygen -lf). */
  hostFingerprint: string;
  /** The user key (OpenSSH private key text) authorised for root. */
  userKey: string;
  /** The password of {@link PASSWORD_USER}. */
  password: string;
  /** Everything the server logged (stderr, `-e`). */
  log(): string;
  /** Kills every session process (the connections drop; the server keeps listening). */
  killSessions(): Promise<void>;
  /** Every process serving a connection (the server's descendants). */
  sessionPids(): Promise<number[]>;
  /** Stops the server and its sessions; `start()` brings it back on the same port with the same keys. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

async function children(pid: number): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-P', String(pid)]);
    return stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

async function ensurePasswordUser(password: string): Promise<void> {
  try {
    await run('id', [PASSWORD_USER]);
  } catch {
    await run('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', PASSWORD_USER]);
  }
  const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin!.end(`${PASSWORD_USER}:${password}\n`);
  await new Promise((r) => child.on('exit', r));
}

export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hie-sshd-'));
  await chmod(dir, 0o755); // the password user reaches its folders through it
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'user_key')]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(path.join(dir, 'user_key.pub')));
  const { stdout } = await run('ssh-keygen', ['-lf', path.join(dir, 'host_key.pub')]);
  const hostFingerprint = stdout.split(' ')[1];
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  await ensurePasswordUser(password);
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'LogLevel VERBOSE',
      'Subsystem sftp internal-sftp -l VERBOSE',
      '',
    ].join('\n'),
  );
  let out = '';
  let master: ChildProcess | undefined;
  const start = async () => {
    master = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    master.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(
      () =>
        new Promise<boolean>((r) => {
          const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
          s.on('error', () => r(false));
        }),
      20_000,
      `sshd on ${port} (${out})`,
    );
  };
  const sessionPids = async () => {
    const all: number[] = [];
    for (let todo = master?.pid ? [master.pid] : []; todo.length > 0; ) {
      const next: number[] = [];
      for (const pid of todo) next.push(...(await children(pid)));
      all.push(...next);
      todo = next;
    }
    return all;
  };
  const killSessions = async () => {
    if (!master?.pid) return;
    for (const pid of await sessionPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const stop = async () => {
    const m = master;
    if (!m || m.exitCode !== null) return;
    await killSessions();
    const exited = new Promise((r) => m.on('exit', r));
    m.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    dir,
    hostFingerprint,
    userKey: await readFile(path.join(dir, 'user_key'), 'utf8'),
    password,
    log: () => out,
    killSessions,
    sessionPids,
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
