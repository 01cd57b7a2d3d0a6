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
  /** The item's `logLevel` common setting (`inherit`: the process's, HIE_LOG_LEVEL). */
  logLevel?: string;
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

/**
 * Envelopes crossing to a worker thread in one task: their bytes (`MessageEnvelope.toBytes`) back
 * to back in one buffer, which is transferred (not copied); `ends[i]` is where the i-th one ends.
 */
export interface EnvelopeBatch {
  bytes: Uint8Array;
  ends: number[];
}

/**
 * An envelope coming back: its bytes, or `null` for "the input envelope, unchanged" (byte for
 * byte, header included), so a router's output does not cross back at all and the main thread
 * keeps its own object (with its parse).
 */
export type ReturnedEnvelope = Uint8Array | null;

/** What one message of a batch produced in the worker thread. */
export type MessageResult =
  | {
      kind: 'result';
      response?: ReturnedEnvelope;
      outputs: { to?: string[]; bytes: ReturnedEnvelope; priority?: number }[];
      discarded?: string;
      /** What the handler noted for the trace (plain data). */
      detail?: Record<string, unknown>;
    }
  | { kind: 'error'; error: SerializedError; /** The response the error carried, if any (e.g. a downstream NACK to relay). */ response?: ReturnedEnvelope };

export type WorkerTask =
  /**
   * Run the handler on each envelope of the batch, in order, one after the other. The item goes
   * by its `key` alone (a thread learns it from its `start` task): cloning its settings and
   * policy into every task cost more than the router; it is sent again, with the batch, only to
   * a thread that answers `unknown_item` (e.g. one that replaced a crashed thread).
   */
  | {
      kind: 'batch';
      key: string;
      item?: WorkerItem;
      batch: EnvelopeBatch;
      /** Tracing on: each envelope's hop span context (W3C traceparent), handed to its handler as `ctx.traceparent`. */
      traces?: (string | null)[];
    }
  /** Create the item's handler in this worker and run its `onStart` (item start). */
  | { kind: 'start'; item: WorkerItem; barrier: WorkerBarrier }
  /** Run the handler's `onStop` in this worker and release it (item stopped or replaced). */
  | { kind: 'stop'; item: WorkerItem; barrier: WorkerBarrier };

export type WorkerResult =
  /** One result per envelope of a `batch` task, in the same order. */
  | { kind: 'batch'; results: MessageResult[]; threadId: number }
  /** A life-cycle task failed, or a batch could not be run at all (its handler failed to start). */
  | { kind: 'error'; error: SerializedError; threadId: number }
  /** A life-cycle task finished in this worker. */
  | { kind: 'done'; threadId: number }
  /** A batch came by key to a thread that never saw the item: send it again with the item. */
  | { kind: 'unknown_item'; threadId: number };

/** Packs envelopes back to back into one fresh buffer (one copy, then transferred: see {@link EnvelopeBatch}). */
export function packEnvelopes(encoded: readonly Uint8Array[]): EnvelopeBatch {
  let size = 0;
  const ends: number[] = [];
  for (const e of encoded) ends.push((size += e.byteLength));
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const e of encoded) {
    bytes.set(e, at);
    at += e.byteLength;
  }
  return { bytes, ends };
}

/** The envelopes of a batch, as views of its buffer (no copy). */
export function unpackEnvelopes(batch: EnvelopeBatch): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const end of batch.ends) {
    out.push(batch.bytes.subarray(start, end));
    start = end;
  }
  return out;
}
