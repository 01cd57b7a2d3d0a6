import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS, useTestStore } from './test-backends.js';
import { failedItemOf } from './messages.js';

const enc = new TextEncoder();

describe.each(BACKENDS)('suspended messages on %s', (backend) => {
  const t = useTestStore(backend);

  it('counts failed messages per item where they failed, leaves out resent ones and other projects', async () => {
    const projectId = `p-${randomUUID()}`;
    const scope = { projectId, workspaceId: 'ws-1', production: 'adt' };
    const writer = t.store.messages.writer();
    const t0 = Date.now() - 60_000;
    const received = async (projectScope = scope) => {
      const id = randomUUID();
      await writer.received({ id, ...projectScope, item: 'ADT In', receivedAt: t0, contentType: 'application/hl7-v2', header: {}, raw: enc.encode('MSH|^~\\&|A') });
      return id;
    };
    const ev = (id: string, item: string, event: 'failed' | 'delivered' | 'completed' | 'queued', at: number, s = scope) =>
      writer.event({ messageId: id, ...s, item, event, at });

    // Two failed at "EPR Out" (one ending with `completed` at that item), one at "Route".
    const a = await received();
    await ev(a, 'Route', 'delivered', t0 + 1);
    await ev(a, 'EPR Out', 'failed', t0 + 2);
    await ev(a, 'EPR Out', 'completed', t0 + 3);
    const b = await received();
    await ev(b, 'EPR Out', 'failed', t0 + 2);
    const c = await received();
    await ev(c, 'Route', 'failed', t0 + 2);
    // Failed once, then delivered: not suspended.
    const d = await received();
    await ev(d, 'EPR Out', 'failed', t0 + 2);
    await ev(d, 'EPR Out', 'delivered', t0 + 3);
    // Another project's failed message never counts here.
    const other = { ...scope, projectId: `p-${randomUUID()}` };
    const e = await received(other);
    await ev(e, 'EPR Out', 'failed', t0 + 2, other);
    await writer.flush();

    expect(await t.store.messages.suspendedCounts(projectId)).toEqual([
      { item: 'EPR Out', count: 2 },
      { item: 'Route', count: 1 },
    ]);
    // Resent by an operator: dealt with, no longer suspended.
    await t.store.messages.resend(projectId, b, { toItem: 'EPR Out', actor: 'alice' });
    expect(await t.store.messages.suspendedCounts(projectId)).toEqual([
      { item: 'EPR Out', count: 1 },
      { item: 'Route', count: 1 },
    ]);
    // Search finds the same: every failed message by status, the suspended ones by `suspended`.
    const found = async (f: { status?: 'failed'; suspended?: boolean }) => (await t.store.messages.search(projectId, f)).items.map((m) => m.id).sort();
    expect(await found({ status: 'failed' })).toEqual([a, b, c].sort());
    expect(await found({ suspended: true })).toEqual([a, c].sort());
    // …until it fails again.
    await ev(b, 'EPR Out', 'failed', Date.now() + 1000);
    await writer.flush();
    expect(await t.store.messages.suspendedCounts(projectId)).toContainEqual({ item: 'EPR Out', count: 2 });
    expect(await found({ suspended: true })).toEqual([a, b, c].sort());
    expect(await t.store.messages.suspendedCounts(`p-${randomUUID()}`)).toEqual([]);
    await writer.close();
  });

  it('finds the item where a message failed from its trace', () => {
    expect(failedItemOf([{ event: 'received', item: 'In' }, { event: 'failed', item: 'Out' }, { event: 'completed', item: 'Out' }])).toBe('Out');
    expect(failedItemOf([{ event: 'received', item: 'In' }, { event: 'delivered', item: 'Out' }])).toBeUndefined();
  });
});
