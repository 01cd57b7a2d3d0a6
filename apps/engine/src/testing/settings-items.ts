/**
 * Item types for the common-settings tests (timeouts, priorities, restarts, worker life cycle).
 * Defined with `defineItemType` like any plugin; `module: import.meta.url` lets worker threads
 * load them.
 */
import { defineItemType } from '../item-type';

export const settingsTestItemTypes = [] as ReturnType<typeof defineItemType>[];
