import type { HostPolicy } from '@hie/policy';
import type { SerializedError } from '../runtime/errors';

/** Messages between the main thread and handler worker threads: plain data tagged by `kind`. */
export interface WorkerItem {
  production: string;
  name: string;
  type: string;
  /** The item type's module URL (built-ins: the registry module). */
  module: string;
  settings: unknown;
  targets: string[];
  /** The engine's host policy (plain data). */
  policy: HostPolicy;
  /** Changes when the item's settings change, so workers rebuild their handler. */
  key: string;
}

export type WorkerTask = { kind: 'message'; item: WorkerItem; bytes: Uint8Array };

export type WorkerResult =
  | {
      kind: 'result';
      response?: Uint8Array;
      outputs: { to?: string[]; bytes: Uint8Array }[];
      discarded?: string;
      /** What the handler noted for the trace (plain data). */
      detail?: Record<string, unknown>;
      threadId: number;
    }
  | { kind: 'error'; error: SerializedError; /** The response the error carried, if any (e.g. a downstream NACK to relay). */ response?: Uint8Array; threadId: number };
