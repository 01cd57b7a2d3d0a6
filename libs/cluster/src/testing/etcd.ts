/**
 * A private etcd for one test run: its own client and peer ports, a temporary data folder, killed
 * and removed by `stop()`. Needs the `etcd` binary (Debian `etcd-server`; `.ci/run` installs it).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestEtcd {
  /** `http://127.0.0.1:<port>`, for `ETCD_ENDPOINTS`. */
  endpoint: string;
  /** Kill etcd (SIGKILL after 2 s of SIGTERM) and remove its data folder. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Start etcd and wait until it serves its client port (at most `timeoutMs`). */
export async function startEtcd(opts: { bin?: string; timeoutMs?: number } = {}): Promise<TestEtcd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hie-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const child = spawn(
    opts.bin ?? process.env.ETCD_BIN ?? 'etcd',
    [
      '--name', 't', '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `t=${peerUrl}`, '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let dead = false;
  child.once('exit', () => (dead = true));
  child.once('error', () => (dead = true));
  const stop = async () => {
    if (!dead) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (!(await accepts(client))) {
    if (dead || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not start on ${endpoint}${dead ? ' (it exited)' : ''}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint, stop };
}
