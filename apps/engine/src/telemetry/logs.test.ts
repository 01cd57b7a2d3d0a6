import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageEnvelope, traceIdOf } from '@hie/envelope';
import { createEngine } from '../engine-node';
import { defineItemType } from '../item-type';
import type { ProductionEngine } from '../runtime/production-engine';
import { capturedLog, testPolicy } from '../testing/helpers';
import { manualServices, sinks, testItemTypes } from '../testing/test-items';

/** Logs in its handler, at info and at debug. */
const chatty = defineItemType({
  type: 'test.chatty',
  version: 1,
  kind: 'operation',
  description: 'test: logs while handling a message',
  settings: z.object({}).strict(),
  module: import.meta.url,
  create() {
    return {
      onMessage(_envelope, ctx) {
        ctx.log.info({ step: 'handled' }, 'handled a message');
        ctx.log.debug({ step: 'detail' }, 'handler detail');
      },
    };
  },
});

let engine: ProductionEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
});

const hl7 = (id: string) => `MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5\rPID|1||SECRET-MRN-1^^^H||SECRETNAME^X\r`;

describe('message log lines', () => {
  it('carry the message id and its trace id (never its content); a per-item logLevel overrides the process level', async () => {
    const { log, lines } = capturedLog('info');
    engine = createEngine({ log, plugins: [...testItemTypes, chatty], policy: testPolicy() }).engine;
    await engine.apply({
      name: 'logs',
      items: [
        { name: 'In', type: 'test.manual_in' },
        { name: 'Loud', type: 'test.chatty', logLevel: 'debug' },
        { name: 'Quiet', type: 'test.chatty', logLevel: 'error' },
        { name: 'Bad', type: 'test.collect', settings: { failTimes: 100 }, messaging: { retries: 0 } },
      ],
      connections: [
        { from: 'In', to: 'Loud' },
        { from: 'In', to: 'Quiet' },
        { from: 'In', to: 'Bad' },
      ],
    });
    const { messageId } = await manualServices.get('In')!.submit(MessageEnvelope.createHl7(hl7('L1'), { source: 'In' }));
    await engine.idle();
    const traceId = traceIdOf(messageId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const handled = lines.filter((l) => l['msg'] === 'handled a message');
    // Loud (debug) and not Quiet (error): the item's level, not the process's, decides.
    expect(handled.map((l) => l['item'])).toEqual(['Loud']);
    expect(handled[0]).toMatchObject({ messageId, traceId });
    const detail = lines.filter((l) => l['msg'] === 'handler detail');
    expect(detail.map((l) => l['item'])).toEqual(['Loud']);
    expect(detail[0]).toMatchObject({ messageId, traceId });
    // The engine's own line about the message carries the ids too.
    const failed = lines.find((l) => l['msg'] === 'message failed' && l['item'] === 'Bad');
    expect(failed).toMatchObject({ messageId, traceId });
    // Quiet logs nothing below error, not even its start.
    expect(lines.filter((l) => l['item'] === 'Quiet')).toEqual([]);
    expect(lines.some((l) => l['item'] === 'Loud' && l['msg'] === 'item started')).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/SECRETNAME|SECRET-MRN-1/);
  });
});
