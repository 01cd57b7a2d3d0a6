/**
 * The crash test: `hie run` on PostgreSQL with ACK after store, loaded by MLLP clients, killed with
 * SIGKILL mid-load, restarted. Every message that was ACKed AA must be delivered.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '@hie/hl7';
import { openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, tempDir, until, waitForPort, writeJson } from './testing/helpers';
import { connectMllp } from './testing/mllp-client';

const msg = (id: string) => `MSH|^~\\&|CRASH|HOSP|HIE|HIE|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||P${id}^^^MRN||DOE^JOHN\rPV1|1|I\r`;

/** One client connection sending messages one after another; records the ids ACKed AA. */
async function sender(port: number, prefix: string, acked: Set<string>, stop: () => boolean): Promise<void> {
  const client = await connectMllp(port);
  for (let i = 0; !stop(); i++) {
    const id = `${prefix}-${i}`;
    const ack = await client.send(msg(id));
    if (!ack) return; // the engine died: this message was not acknowledged
    const m = parseMessage(ack);
    if (m.get('MSA-1') === 'AA' && m.get('MSA-2') === id) acked.add(id);
  }
  client.close();
}

describe('crash recovery (SIGKILL under load, PostgreSQL store, ACK after store)', () => {
  let db: TestStore;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_crash' });
  }, 60_000);
  afterAll(async () => {
    await db?.cleanup();
  });

  it('delivers every acknowledged message after a kill -9 and restart', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const port = await freePort();
    const file = await writeJson(path.join(dir, 'production.json'), {
      name: 'crash',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port, ackMode: 'after_store' } },
        { name: 'Route', type: 'hl7.router', settings: { otherwise: 'send_all' } },
        // Slow consumer so a backlog exists when the process dies; file name = control id (idempotent).
        { name: 'Files', type: 'file.out', settings: { directory: out, filename: '{controlId}.hl7', overwrite: true }, rateLimit: { enabled: true, ratePerSecond: 300, burst: 10 } },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Files' },
      ],
    });
    const env = { DATABASE_URL: db.databaseUrl! };
    const first = hie(['run', file], { env });
    await waitForPort(port);
    const acked = new Set<string>();
    let stopping = false;
    const senders = Array.from({ length: 4 }, (_, i) => sender(port, `C${i}`, acked, () => stopping));
    await until(() => acked.size >= 400, 30_000); // mid-load: the slow consumer has a backlog
    first.kill('SIGKILL');
    await new Promise((r) => first.on('exit', r));
    stopping = true;
    await Promise.all(senders);
    const before = new Set((await readdir(out).catch(() => [])).map((f) => f.replace(/\.hl7$/, '')));
    expect(acked.size).toBeGreaterThan(50);
    // The kill left acknowledged messages undelivered (otherwise the test proves nothing).
    const missingBefore = [...acked].filter((id) => !before.has(id));
    expect(missingBefore.length).toBeGreaterThan(0);

    const second = hie(['run', file], { env });
    await waitForPort(port);
    const deadline = Date.now() + 30_000;
    let delivered = new Set<string>();
    while (Date.now() < deadline) {
      delivered = new Set((await readdir(out)).filter((f) => f.endsWith('.hl7')).map((f) => f.replace(/\.hl7$/, '')));
      if ([...acked].every((id) => delivered.has(id))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    second.kill('SIGTERM');
    await new Promise((r) => second.on('exit', r));
    const lost = [...acked].filter((id) => !delivered.has(id));
    expect(lost).toEqual([]);
  }, 90_000);
});
