import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageEnvelope } from '@hie/envelope';
import type { MessageEventInput, MessageWriter, ReceivedMessage } from '@hie/store';
import { StoreTracker } from './store-tracker';

/** A writer that records what it is asked to store (the real one is tested against PostgreSQL). */
function recordingWriter() {
  const events: MessageEventInput[] = [];
  const received: ReceivedMessage[] = [];
  const indexed: string[] = [];
  const writer: MessageWriter = {
    storage: 'full',
    received: async (m) => void received.push(m),
    event: async (e) => void events.push(e),
    indexBody: async (b) => void indexed.push(b.id),
    flush: async () => undefined,
    close: async () => undefined,
    metrics: () => ({ batches: 0, rows: 0, avgBatchSize: 0, lastFlushMs: 0, maxFlushMs: 0, totalFlushMs: 0, failedBatches: 0, pending: 0 }),
  };
  return { writer, events, received, indexed };
}

const owner = { production: 'prod', projectId: 'project-1', workspaceId: 'ws-1' };
const env = () => MessageEnvelope.createHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|C1|P|2.5\rPID|1||12345^^^MRN||DOE\r', { source: 'In' });

afterEach(() => vi.useRealTimers());

describe('StoreTracker', () => {
  it('stores the raw message with its control id and patient id (PID-3.1)', async () => {
    const { writer, received } = recordingWriter();
    const t = new StoreTracker(writer, owner, pino({ level: 'silent' }));
    await t.received(env(), 'In');
    expect(received[0]).toMatchObject({ production: 'prod', projectId: 'project-1', workspaceId: 'ws-1', item: 'In', controlId: 'C1', patientId: '12345', messageType: 'ADT^A01' });
    await t.close();
  });

  it('folds a quick hop’s queued event into its delivered event', async () => {
    const { writer, events } = recordingWriter();
    const t = new StoreTracker(writer, owner, pino({ level: 'silent' }), 50);
    const e = env();
    t.event(e, 'Route', 'queued', { from: 'In' });
    t.event(e, 'Route', 'delivered');
    expect(events.map((x) => `${x.event}@${x.item}`)).toEqual(['delivered@Route']);
    expect(events[0].detail).toMatchObject({ from: 'In', queuedAt: expect.any(String) });
    await t.close();
  });

  it('writes the queued event of a message that waits longer than the fold window', async () => {
    vi.useFakeTimers();
    const { writer, events } = recordingWriter();
    const t = new StoreTracker(writer, owner, pino({ level: 'silent' }), 50);
    const e = env();
    t.event(e, 'Out', 'queued', { from: 'Route' });
    expect(events).toHaveLength(0);
    vi.advanceTimersByTime(200);
    expect(events.map((x) => `${x.event}@${x.item}`)).toEqual(['queued@Out']);
    t.event(e, 'Out', 'delivered');
    expect(events.map((x) => x.event)).toEqual(['queued', 'delivered']);
    await t.close();
  });

  it('with a separate events writer, a message’s events wait for its raw-first row to commit', async () => {
    const raw = recordingWriter();
    let commit!: () => void;
    raw.writer.received = (m) => new Promise<void>((r) => (commit = () => (raw.received.push(m), r())));
    const ev = recordingWriter();
    const t = new StoreTracker(raw.writer, owner, pino({ level: 'silent' }), 0, ev.writer);
    const e = env();
    const stored = t.received(e, 'In');
    t.event(e, 'Route', 'delivered');
    await new Promise((r) => setTimeout(r, 5));
    expect(ev.events).toHaveLength(0); // not before the message row exists
    commit();
    await stored;
    await new Promise((r) => setTimeout(r, 0));
    expect(ev.events.map((x) => `${x.event}@${x.item}`)).toEqual(['delivered@Route']);
    expect(raw.events).toHaveLength(0); // events never go through the raw-first writer
    expect(ev.indexed).toEqual([e.header.messageId]); // body text indexed off the ACK path
    await t.close();
  });

  it('writes completed once every branch has closed', async () => {
    const { writer, events } = recordingWriter();
    const t = new StoreTracker(writer, owner, pino({ level: 'silent' }));
    const e = env();
    t.opened(e);
    t.opened(e);
    t.closed(e, 'A');
    expect(events.some((x) => x.event === 'completed')).toBe(false);
    t.closed(e, 'B');
    expect(events.filter((x) => x.event === 'completed')).toHaveLength(1);
    await t.close();
  });
});
