/**
 * The outage test (issue 10, "done when"): `hie run` on PostgreSQL under default delivery
 * settings, a downstream MLLP system down for 30 s. Every message ACKed AA while it was down is
 * delivered once it returns, in order, each once, and none is left `failed`.
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MllpDecoder, encodeMllp, parseMessage } from '@hie/hl7';
import { localScope, openTestStore, type TestStore } from '@hie/store';
import { freePort, hie, tempDir, until, waitForPort, writeJson } from './testing/helpers';
import { MllpDownstream } from './testing/mllp-downstream';

const msg = (id: string) => `MSH|^~\\&|ADT|HOSP|LAB|HOSP|20240101120000||ADT^A01|${id}|P|2.5\rPID|1||P${id}^^^MRN||DOE^JOHN\r`;

/** Sends each message on one connection, one after another, and returns the ACK codes. */
async function sendAll(port: number, ids: string[]): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((r, j) => {
    socket.once('connect', r);
    socket.once('error', j);
  });
  const decoder = new MllpDecoder();
  let pending: ((ack: string) => void) | undefined;
  socket.on('data', (c: Buffer) => {
    for (const ev of decoder.push(c)) if (ev.kind === 'frame') pending?.(new TextDecoder().decode(ev.payload));
  });
  const codes: string[] = [];
  for (const id of ids) {
    const ack = parseMessage(await new Promise<string>((resolve) => ((pending = resolve), socket.write(encodeMllp(msg(id))))));
    expect(ack.get('MSA-2')).toBe(id);
    codes.push(ack.get('MSA-1') ?? '');
  }
  socket.destroy();
  return codes;
}

describe('a downstream outage under default settings (hie run, PostgreSQL store)', () => {
  let db: TestStore;
  beforeAll(async () => {
    db = await openTestStore('postgres', { prefix: 'hie_test_outage' });
  }, 60_000);
  afterAll(async () => {
    await db?.cleanup();
  });

  it('delivers every ACKed message once the downstream is back after 30 s, in order, none failed', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const lab = new MllpDownstream(await freePort());
    await lab.up();
    const file = await writeJson(path.join(dir, 'production.json'), {
      name: 'outage',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port } },
        // Default messaging.retries (no limit) and default retryMaxDelayMs; only the first
        // backoff step is shortened so the first retry after the outage comes within seconds.
        { name: 'Lab', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: lab.port }, messaging: { retryDelayMs: 150 } },
      ],
      connections: [{ from: 'In', to: 'Lab' }],
    });
    const child = hie(['run', file], { env: { DATABASE_URL: db.databaseUrl!, HIE_EGRESS_ALLOW: `127.0.0.1:${lab.port}` } });
    try {
      await waitForPort(port);
      const before = ['B1', 'B2', 'B3'];
      expect(await sendAll(port, before)).toEqual(['AA', 'AA', 'AA']);
      await until(() => lab.received.length === before.length, 20_000);

      await lab.down();
      const wentDown = Date.now();
      const during = Array.from({ length: 10 }, (_, i) => `D${i + 1}`);
      expect(await sendAll(port, during)).toEqual(during.map(() => 'AA'));
      // The outage lasts 30 s, far longer than the old default of three retries.
      await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - wentDown))));
      expect(lab.received).toEqual(before);
      await lab.up();

      await until(() => lab.received.length >= before.length + during.length, 90_000);
      expect(lab.received).toEqual([...before, ...during]);

      const { projectId } = localScope('outage');
      await until(async () => (await db.store.messages.search(projectId, { status: 'delivered', limit: 100 })).items.length === 13, 20_000);
      expect((await db.store.messages.search(projectId, { status: 'failed' })).items).toEqual([]);
      // Each message was retried during the outage and its trace ends at the operation, delivered.
      const head = (await db.store.messages.search(projectId, { controlId: 'D1' })).items[0];
      const trace = await db.store.messages.trace(projectId, head.id);
      expect(trace.filter((e) => e.item === 'Lab' && e.detail?.retry === true).length).toBeGreaterThan(3);
      expect(trace.filter((e) => e.event === 'delivered').map((e) => e.item)).toEqual(['Lab']);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      await lab.down();
    }
  }, 180_000);
});
