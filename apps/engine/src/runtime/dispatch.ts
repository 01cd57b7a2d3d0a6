import { MessageEnvelope } from '@hie/envelope';
import type { ItemContext, ItemHandler } from '../item-type';
import { deserializeError, ensureError } from './errors';
import type { WorkerTask, WorkerResult } from '../worker/protocol';

/** One output of a handler: an envelope and where it goes (undefined = every connected target). */
export interface Output {
  envelope: MessageEnvelope;
  to?: readonly string[];
}

/** What running a handler on one message produced. */
export interface Outcome {
  response?: MessageEnvelope;
  outputs: Output[];
  discarded?: string;
  /** What the handler noted for the trace (`ctx.note`). */
  detail?: Record<string, unknown>;
}

/** Runs a handler on one message: on the main thread, or in a worker thread pool. */
export interface Dispatcher {
  run(envelope: MessageEnvelope): Promise<Outcome>;
  close(): Promise<void>;
}

type BaseContext = Omit<ItemContext, 'send' | 'discard' | 'note'>;

/**
 * Runs hooks + onMessage for one message with a per-message context collecting sends. Shared by
 * the main-thread dispatcher and the worker thread, so both behave the same.
 */
export async function runHandler(handler: ItemHandler, base: BaseContext, input: MessageEnvelope): Promise<Outcome> {
  const outcome: Outcome = { outputs: [] };
  const ctx: ItemContext = {
    itemName: base.itemName,
    production: base.production,
    get targets() {
      return base.targets;
    },
    log: base.log,
    policy: base.policy,
    send(envelope, opts) {
      outcome.outputs.push({ envelope, to: opts?.to });
    },
    discard(reason) {
      outcome.discarded = reason;
    },
    note(detail) {
      outcome.detail = { ...outcome.detail, ...detail };
    },
  };
  let envelope = input;
  try {
    if (handler.onBeforeProcess) envelope = (await handler.onBeforeProcess(envelope, ctx)) ?? envelope;
    const response = handler.onMessage ? await handler.onMessage(envelope, ctx) : undefined;
    if (response) outcome.response = response;
    if (handler.onAfterProcess) await handler.onAfterProcess(envelope, outcome.response, ctx);
    return outcome;
  } catch (e) {
    const err = ensureError(e);
    if (handler.onProcessError) {
      // A hook may turn the failure into a response (e.g. a custom NACK); the error still counts.
      const reply = await handler.onProcessError(err, envelope, ctx);
      if (reply) (err as { response?: MessageEnvelope }).response = reply;
    }
    throw err;
  }
}

/** `async` and `single_process`: the handler runs on the event loop. */
export class MainThreadDispatcher implements Dispatcher {
  constructor(
    private readonly handler: ItemHandler,
    private readonly base: BaseContext,
  ) {}
  run(envelope: MessageEnvelope): Promise<Outcome> {
    return runHandler(this.handler, this.base, envelope);
  }
  close(): Promise<void> {
    return Promise.resolve(); // nothing to release on the main thread
  }
}

/** The subset of Piscina we use (so a shared pool and a per-item pool look the same). */
export interface TaskPool {
  run(task: WorkerTask, opts?: { transferList?: ArrayBuffer[] }): Promise<WorkerResult>;
  destroy(): Promise<void>;
}

/**
 * `multiprocess` and `thread_pool`: the item's handler runs in worker threads. Envelopes cross as
 * bytes (transferred, not cloned), outputs come back as bytes.
 */
export class PoolDispatcher implements Dispatcher {
  constructor(
    private readonly pool: TaskPool,
    private readonly item: WorkerTask['item'],
    private readonly ownsPool: boolean,
  ) {}

  async run(envelope: MessageEnvelope): Promise<Outcome> {
    const bytes = envelope.toBytes();
    // Transfer (not copy) when the bytes own their whole buffer.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const result = await this.pool.run({ kind: 'message', item: this.item, bytes }, own ? { transferList: [bytes.buffer as ArrayBuffer] } : undefined);
    if (result.kind === 'error') {
      const err = deserializeError(result.error);
      if (result.response) (err as { response?: MessageEnvelope }).response = MessageEnvelope.fromBytes(result.response);
      throw err;
    }
    return {
      response: result.response ? MessageEnvelope.fromBytes(result.response) : undefined,
      outputs: result.outputs.map((o) => ({ envelope: MessageEnvelope.fromBytes(o.bytes), to: o.to })),
      discarded: result.discarded,
      detail: result.detail,
    };
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.destroy();
  }
}
