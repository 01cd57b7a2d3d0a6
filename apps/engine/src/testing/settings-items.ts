/**
 * Item types for the common-settings tests (restarts, worker life cycle). Defined with
 * `defineItemType` like any plugin; `module: import.meta.url` lets worker threads load them.
 */
import { z } from 'zod';
import { defineItemType } from '../item-type';
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

export const settingsTestItemTypes = [quits];
