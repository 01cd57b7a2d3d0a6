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

/**
 * Holds a life-cycle task in its worker until `parties` tasks have arrived (or `timeoutMs` has
 * passed): N such tasks sent together to an N-thread pool therefore land on N different threads,
 * which is how `onStart` / `onStop` reach every worker. `cell` is one Int32 counter.
 */
export interface WorkerBarrier {
  cell: SharedArrayBuffer;
  parties: number;
  timeoutMs: number;
}

export type WorkerTask =
  | { kind: 'message'; item: WorkerItem; bytes: Uint8Array }
  /** Create the item's handler in this worker and run its `onStart` (item start). */
  | { kind: 'start'; item: WorkerItem; barrier: WorkerBarrier }
  /** Run the handler's `onStop` in this worker and release it (item stopped or replaced). */
  | { kind: 'stop'; item: WorkerItem; barrier: WorkerBarrier };

export type WorkerResult =
  | {
      kind: 'result';
      response?: Uint8Array;
      outputs: { to?: string[]; bytes: Uint8Array; priority?: number }[];
      discarded?: string;
      /** What the handler noted for the trace (plain data). */
      detail?: Record<string, unknown>;
      threadId: number;
    }
  | { kind: 'error'; error: SerializedError; /** The response the error carried, if any (e.g. a downstream NACK to relay). */ response?: Uint8Array; threadId: number }
  /** A life-cycle task finished in this worker. */
  | { kind: 'done'; threadId: number };
