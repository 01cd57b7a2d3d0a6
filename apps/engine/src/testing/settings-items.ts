/**
 * Item types for the common-settings tests (restarts, worker life cycle). Defined with
 * `defineItemType` like any plugin; `module: import.meta.url` lets worker threads load them.
 */
import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { z } from 'zod';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';
import { sink } from './test-items';

/** How many times each item's handler was created (main thread), by item name. */
export const creations = new Map<string, number>();

/** Passes messages to its sink; a message whose body holds QUIT makes the item stop on its own. */
export const quits = defineItemType({
  type: 'test.quits',
  version: 1,
  kind: 'process',
  description: 'test: stop on its own when told to',
  settings: z.object({}).strict(),
  module: import.meta.url,
  create(_settings, cctx) {
    creations.set(cctx.itemName, (creations.get(cctx.itemName) ?? 0) + 1);
    return {
      onMessage(envelope) {
        if (envelope.text().includes('QUIT')) cctx.exit('told to quit');
        else sink(cctx.itemName).push(envelope);
      },
    };
  },
});

/**
 * Writes `start <thread> <tag>` / `stop <thread> <tag>` lines to a file from onStart / onStop, so a
 * test sees what ran in which worker thread; passes messages on.
 */
export const workerLife = defineItemType({
  type: 'test.worker_life',
  version: 1,
  kind: 'process',
  description: 'test: log onStart/onStop per thread',
  settings: z
    .object({
      logFile: z.string().describe('file the life-cycle lines are appended to'),
      tag: z.string().default('').describe('written with each line (change it to replace the item)'),
      failStart: z.boolean().default(false).describe('onStart throws a configuration error'),
    })
    .strict(),
  module: import.meta.url,
  create(settings) {
    return {
      onStart() {
        appendFileSync(settings.logFile, `start ${threadId} ${settings.tag}\n`);
        if (settings.failStart) throw new EngineError('test.start_failed', 'onStart refused to start', 'user');
      },
      onStop() {
        appendFileSync(settings.logFile, `stop ${threadId} ${settings.tag}\n`);
      },
      onMessage(envelope, ctx) {
        ctx.send(envelope);
      },
    };
  },
});

/**
 * Fails (retryable) a message whose body holds `holdBack` until every message listed in `after`
 * (by control id) has reached its sink: shows whether others may overtake a retrying message.
 */
export const overtaken = defineItemType({
  type: 'test.overtaken',
  version: 1,
  kind: 'operation',
  description: 'test: fail one message until others have passed it',
  settings: z
    .object({
      holdBack: z.string().describe('body text of the message held back'),
      after: z.array(z.string()).describe('control ids that must be delivered first'),
    })
    .strict(),
  module: import.meta.url,
  create(settings, cctx) {
    return {
      onMessage(envelope) {
        const seen = new Set(sink(cctx.itemName).map((m) => m.header.controlId));
        if (envelope.text().includes(settings.holdBack) && !settings.after.every((id) => seen.has(id))) {
          throw new EngineError('test.not_yet', 'others first', 'operational');
        }
        sink(cctx.itemName).push(envelope);
      },
    };
  },
});

export const settingsTestItemTypes = [quits, workerLife, overtaken];
