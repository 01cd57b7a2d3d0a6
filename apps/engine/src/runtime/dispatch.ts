import { MessageEnvelope, parseTraceparent, traceIdOf } from '@hie/envelope';
import type { ItemContext, ItemHandler } from '../item-type';
import { EngineError, deserializeError, ensureError, serializeError } from './errors';
import { type MessageResult, type ReturnedEnvelope, type WorkerItem, type WorkerResult, type WorkerTask, packEnvelopes } from '../worker/protocol';

/** One output of a handler: an envelope and where it goes (undefined = every connected target). */
export interface Output {
  envelope: MessageEnvelope;
  to?: readonly string[];
  /** Priority asked for by the handler (a router rule), applied by the host. */
  priority?: number;
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
  /** `traceparent`: the hop's span context (tracing on), handed to the handler as `ctx.traceparent`. */
  run(envelope: MessageEnvelope, traceparent?: string): Promise<Outcome>;
  /** Release the handler; resolves with what went wrong on the way (e.g. a failing `onStop`). */
  close(): Promise<Error[]>;
}

/** How long a life-cycle task waits for its siblings to reach the other worker threads. */
const BARRIER_TIMEOUT_MS = 10_000;
/** How long an item's stop waits for `onStop` in its worker threads. */
const STOP_TIMEOUT_MS = 5_000;

type BaseContext = Omit<ItemContext, 'send' | 'discard' | 'note' | 'traceparent'>;

/** What a message's log lines carry to join logs, traces and the message viewer: ids, never content. */
export function messageLogBindings(envelope: MessageEnvelope, traceparent: string | undefined): Record<string, string> {
  const b: Record<string, string> = { messageId: envelope.header.messageId };
  const traceId = parseTraceparent(traceparent)?.traceId ?? traceIdOf(envelope.header.sessionId ?? envelope.header.messageId);
  if (traceId) b['traceId'] = traceId;
  return b;
}

type ItemLog = ItemContext['log'];

/** A logger whose lines carry the message's ids (made when the handler first logs: none otherwise). */
function messageLog(log: ItemLog, envelope: MessageEnvelope, traceparent: string | undefined): ItemLog {
  const child = (log as { child?: (b: Record<string, unknown>) => ItemLog }).child;
  return typeof child === 'function' ? child.call(log, messageLogBindings(envelope, traceparent)) : log;
}

/**
 * Runs hooks + onMessage for one message with a per-message context collecting sends. Shared by
 * the main-thread dispatcher and the worker thread, so both behave the same.
 */
export async function runHandler(handler: ItemHandler, base: BaseContext, input: MessageEnvelope, traceparent?: string): Promise<Outcome> {
  const outcome: Outcome = { outputs: [] };
  let log: ItemLog | undefined;
  const ctx: ItemContext = {
    itemName: base.itemName,
    production: base.production,
    get targets() {
      return base.targets;
    },
    get log() {
      return (log ??= messageLog(base.log, input, traceparent));
    },
    traceparent,
    policy: base.policy,
    send(envelope, opts) {
      outcome.outputs.push({ envelope, to: opts?.to, priority: opts?.priority });
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
  run(envelope: MessageEnvelope, traceparent?: string): Promise<Outcome> {
    return runHandler(this.handler, this.base, envelope, traceparent);
  }
  close(): Promise<Error[]> {
    return Promise.resolve([]); // the host runs onStop of a main-thread handler itself
  }
}

/** The subset of Piscina we use (so a shared pool and a per-item pool look the same). */
export interface TaskPool {
  run(task: WorkerTask, opts?: { transferList?: ArrayBuffer[] }): Promise<WorkerResult>;
  destroy(): Promise<void>;
  /** Worker threads in the pool (a fixed number): life-cycle tasks go to each of them. */
  readonly threads: number;
}

/** Most envelopes in one task to a worker thread (a bound on what one batch makes wait). */
export const MAX_BATCH = 32;
/** Messages waiting that make a second (third…) batch worth a thread hop of its own. */
export const SPREAD_AT = 4;

interface Waiting {
  envelope: MessageEnvelope;
  trace?: string;
  resolve(outcome: Outcome): void;
  reject(err: Error): void;
}

/** An envelope back from a worker: the input itself when it came back unchanged (`null`). */
function envelopeOf(bytes: ReturnedEnvelope, input: MessageEnvelope): MessageEnvelope {
  return bytes === null ? input : MessageEnvelope.fromBytes(bytes);
}

/** A worker's result for one message, as the host takes it (an error carries its response). */
function settle(w: Waiting, r: MessageResult): void {
  if (r.kind === 'error') {
    const err = deserializeError(r.error);
    if (r.response !== undefined) (err as { response?: MessageEnvelope }).response = envelopeOf(r.response, w.envelope);
    w.reject(err);
    return;
  }
  w.resolve({
    response: r.response === undefined ? undefined : envelopeOf(r.response, w.envelope),
    outputs: r.outputs.map((o) => ({ envelope: envelopeOf(o.bytes, w.envelope), to: o.to, priority: o.priority })),
    discarded: r.discarded,
    detail: r.detail,
  });
}

/**
 * `multiprocess` and `thread_pool`: the item's handler runs in worker threads. Envelopes cross in
 * batches (one task, one transferred buffer for up to {@link MAX_BATCH} of them): a thread hop
 * costs about the same for one envelope as for thirty (measured: ~200 µs of CPU a task on a loaded
 * 2-core box, wake-ups included), so under load the cost per message falls with the batch.
 * Batches form on their own: one is in flight (more, up to one per thread, once a few messages
 * wait: see canSend), and what arrives meanwhile waits for the next one (a batch per free thread
 * made batches of one under a steady load: each hop then cost more than the router); at low load
 * each message goes at once, alone. An output that is the input
 * unchanged (a router's) does not cross back: the main thread keeps its own envelope.
 */
export class PoolDispatcher implements Dispatcher {
  private waiting: Waiting[] = [];
  private batches = 0;
  private scheduled = false;

  constructor(
    private readonly pool: TaskPool,
    private readonly item: WorkerItem,
    private readonly ownsPool: boolean,
  ) {}

  run(envelope: MessageEnvelope, trace?: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.waiting.push({ envelope, trace, resolve, reject });
      if (!this.scheduled && this.canSend()) {
        // After the current I/O phase: the messages it delivers go in one batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /**
   * Whether a batch may go now: the first one at once; a further one (up to one per thread) only
   * when at least {@link SPREAD_AT} messages wait. Light messages trickling in then gather behind
   * the one batch in flight instead of each taking a thread hop of its own; a backlog (slow
   * handlers, a burst) still spreads over every thread.
   */
  private canSend(): boolean {
    return this.batches === 0 || (this.batches < this.pool.threads && this.waiting.length >= SPREAD_AT);
  }

  /** Send what waits, in batches, spread over the threads that may take one (see canSend). */
  private flush(): void {
    const most = this.pool.threads;
    while (this.waiting.length > 0 && this.canSend()) {
      const size = Math.min(MAX_BATCH, Math.ceil(this.waiting.length / (most - this.batches)));
      const batch = this.waiting.length === size ? this.waiting : this.waiting.slice(0, size);
      this.waiting = batch === this.waiting ? [] : this.waiting.slice(size);
      this.batches++;
      void this.send(batch).finally(() => {
        this.batches--;
        this.flush();
      });
    }
  }

  private async send(batch: Waiting[]): Promise<void> {
    let result: WorkerResult;
    try {
      result = await this.post(batch, false);
      // A thread that never saw the item (it replaced one that died): once more, with the item.
      if (result.kind === 'unknown_item') result = await this.post(batch, true);
    } catch (e) {
      const err = ensureError(e);
      for (const w of batch) w.reject(err);
      return;
    }
    if (result.kind !== 'batch' || result.results.length !== batch.length) {
      // The handler could not be had in that thread (its creation failed): every message fails with that.
      const err = result.kind === 'error' ? deserializeError(result.error) : new EngineError('engine.worker_protocol', `unexpected worker result ${result.kind}`, 'unexpected');
      for (const w of batch) w.reject(err);
      return;
    }
    for (let i = 0; i < batch.length; i++) settle(batch[i], result.results[i]);
  }

  private post(batch: Waiting[], withItem: boolean): Promise<WorkerResult> {
    const packed = packEnvelopes(batch.map((w) => w.envelope.toBytes()));
    const task: WorkerTask = withItem ? { kind: 'batch', key: this.item.key, item: this.item, batch: packed } : { kind: 'batch', key: this.item.key, batch: packed };
    // Trace context crosses beside the bytes (tracing on), never inside the envelope.
    if (batch.some((w) => w.trace !== undefined)) task.traces = batch.map((w) => w.trace ?? null);
    // The packed buffer is fresh and whole: transferred, not copied.
    return this.pool.run(task, { transferList: [packed.bytes.buffer as ArrayBuffer] });
  }

  /**
   * Item start: the handler is created and its `onStart` run in every worker thread now, so a
   * failing `onStart` fails the item's start (the item is marked failed) instead of each message.
   * @throws the first worker's error
   */
  async start(): Promise<void> {
    const results = await this.everyWorker('start');
    const failed = results.find((r) => r.kind === 'error');
    if (failed?.kind === 'error') throw deserializeError(failed.error);
  }

  /**
   * Item stopped or replaced: `onStop` runs in every worker thread and the workers release the
   * handler (in the shared pool it would otherwise live on, with its sockets, after every
   * reload). An item-owned pool is then destroyed. Never throws: the errors are returned.
   */
  async close(): Promise<Error[]> {
    const failed = (e: unknown): WorkerResult[] => [{ kind: 'error', error: serializeError(e), threadId: -1 }];
    let timer: NodeJS.Timeout | undefined;
    // A worker still busy with a handler that outran its timeout must not hold the stop up: an
    // owned pool is destroyed anyway; in the shared pool the stop tasks run once it is free.
    const late = new Promise<WorkerResult[]>((r) => {
      timer = setTimeout(() => r(failed(new EngineError('engine.timeout', 'onStop did not finish in every worker thread in time'))), STOP_TIMEOUT_MS);
    });
    const results = await Promise.race([this.everyWorker('stop').catch(failed), late]);
    clearTimeout(timer);
    if (this.ownsPool) await this.pool.destroy();
    return results.flatMap((r) => (r.kind === 'error' ? [deserializeError(r.error)] : []));
  }

  /** One life-cycle task per worker thread, held by a barrier so each lands on its own thread. */
  private everyWorker(kind: 'start' | 'stop'): Promise<WorkerResult[]> {
    const barrier = { cell: new SharedArrayBuffer(4), parties: this.pool.threads, timeoutMs: BARRIER_TIMEOUT_MS };
    return Promise.all(Array.from({ length: this.pool.threads }, () => this.pool.run({ kind, item: this.item, barrier })));
  }
}
