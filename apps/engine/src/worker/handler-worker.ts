/**
 * Piscina worker: runs an item's handler on envelopes that arrive as bytes. Loaded for
 * `multiprocess` (a pool per item) and `thread_pool` (one shared pool) execution modes.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { MessageEnvelope } from '@hie/envelope';
import type { CreateContext, ItemHandler, ItemTypeDefinition } from '../item-type';
import { runHandler } from '../runtime/dispatch';
import { EngineError, serializeError } from '../runtime/errors';
import { registerBuiltinCodecs } from '../runtime/codecs';
import { type MessageResult, type ReturnedEnvelope, type WorkerBarrier, type WorkerItem, type WorkerResult, type WorkerTask, unpackEnvelopes } from './protocol';

registerBuiltinCodecs();

const handlers = new Map<string, Promise<ItemHandler>>();
/** The items this thread knows, by key (learnt from `start` tasks and batches that carry one). */
const items = new Map<string, WorkerItem>();

function isDefinition(v: unknown, type: string): v is ItemTypeDefinition {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === type && typeof (v as { create?: unknown }).create === 'function';
}

async function loadDefinition(item: WorkerItem): Promise<ItemTypeDefinition> {
  // Worker threads on Node 20 only get tsx's require hook (ESM loader hooks are not inherited), so
  // load item modules through require — which also loads plain ESM .js on Node ≥ 20.19.
  let mod: Record<string, unknown>;
  try {
    mod = createRequire(import.meta.url)(fileURLToPath(item.module)) as Record<string, unknown>;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_REQUIRE_ASYNC_MODULE') throw e;
    mod = (await import(item.module)) as Record<string, unknown>;
  }
  for (const value of Object.values(mod)) {
    if (isDefinition(value, item.type)) return value;
    if (Array.isArray(value)) {
      const found = value.find((v) => isDefinition(v, item.type));
      if (found) return found;
    }
  }
  throw new EngineError('engine.unknown_type', `module ${item.module} does not export item type ${item.type}`, 'user');
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A JSON-lines logger for handlers in this thread, at the item's level (pino's numbers); `child`
 * adds bindings (a message's ids).
 */
function makeLog(bindings: Record<string, unknown>, level = 'info'): CreateContext['log'] {
  const min = LEVELS[level] ?? 30;
  const line = (n: number, o: unknown, m?: string) => JSON.stringify({ level: n, threadId, ...bindings, msg: m ?? o, ...(typeof o === 'object' ? o : {}) });
  const at = (n: number, write: (s: string) => void) => (n >= min ? (o: unknown, m?: string) => write(line(n, o, m)) : () => undefined);
  return {
    debug: at(20, (s) => console.log(s)),
    info: at(30, (s) => console.log(s)),
    warn: at(40, (s) => console.warn(s)),
    error: at(50, (s) => console.error(s)),
    child: (more: Record<string, unknown>) => makeLog({ ...bindings, ...more }, level),
  } as unknown as CreateContext['log'];
}
/** Each item's logger, by key. */
const logs = new Map<string, CreateContext['log']>();
function logOf(item: WorkerItem): CreateContext['log'] {
  let l = logs.get(item.key);
  if (!l) logs.set(item.key, (l = makeLog({ item: item.name }, item.logLevel)));
  return l;
}

function contextFor(item: WorkerItem): CreateContext {
  const unsupported = (): never => {
    throw new EngineError('engine.worker_unsupported', 'services cannot submit from a worker thread; run services in async mode', 'user');
  };
  return {
    itemName: item.name,
    production: item.production,
    targets: item.targets,
    log: logOf(item),
    policy: item.policy,
    hasStore: false,
    send: unsupported,
    discard: unsupported,
    note: unsupported,
    submit: unsupported,
    refuse: unsupported,
    exit: unsupported,
  };
}

async function handlerFor(item: WorkerItem): Promise<ItemHandler> {
  items.set(item.key, item);
  let h = handlers.get(item.key);
  if (!h) {
    h = (async () => {
      const def = await loadDefinition(item);
      const settings = def.settings.parse(item.settings);
      const handler = await def.create(settings, contextFor(item));
      await handler.onStart?.(contextFor(item));
      return handler;
    })();
    handlers.set(item.key, h);
    h.catch(() => handlers.delete(item.key));
  }
  return h;
}

async function barrier(b: WorkerBarrier): Promise<void> {
  const cell = new Int32Array(b.cell);
  Atomics.add(cell, 0, 1);
  const deadline = Date.now() + b.timeoutMs;
  // Polled, not Atomics.wait: a blocked thread could not finish the async work of other tasks.
  while (Atomics.load(cell, 0) < b.parties && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/** onStop in this worker, and the handler released (a replaced item's handler must not linger). */
async function stopHandler(item: WorkerItem): Promise<void> {
  items.delete(item.key);
  logs.delete(item.key);
  const h = handlers.get(item.key);
  if (!h) return; // never created in this worker
  handlers.delete(item.key);
  const handler = await h.catch(() => undefined); // a handler that failed to start has nothing to stop
  await handler?.onStop?.(contextFor(item));
}

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  if (task.kind !== 'batch') {
    try {
      if (task.kind === 'start') await handlerFor(task.item);
      else await stopHandler(task.item);
      return { kind: 'done', threadId };
    } catch (e) {
      return { kind: 'error', error: serializeError(e), threadId };
    } finally {
      await barrier(task.barrier);
    }
  }
  const item = task.item ?? items.get(task.key);
  if (!item) return { kind: 'unknown_item', threadId };
  let handler: ItemHandler;
  try {
    handler = await handlerFor(item);
  } catch (e) {
    return { kind: 'error', error: serializeError(e), threadId };
  }
  const base = { itemName: item.name, production: item.production, targets: item.targets, log: logOf(item), policy: item.policy };
  const results: MessageResult[] = [];
  // One after the other, in order: a thread runs one message at a time, as one task per message did.
  const envelopes = unpackEnvelopes(task.batch);
  for (let i = 0; i < envelopes.length; i++) results.push(await runOne(handler, base, envelopes[i], task.traces?.[i] ?? undefined));
  return { kind: 'batch', results, threadId };
}

/** An envelope to send back: `null` when it is the input, unchanged byte for byte (see ReturnedEnvelope). */
function returned(envelope: MessageEnvelope, input: MessageEnvelope, inputBytes: Uint8Array): ReturnedEnvelope {
  const bytes = envelope.toBytes();
  return envelope === input && Buffer.compare(bytes, inputBytes) === 0 ? null : bytes;
}

async function runOne(handler: ItemHandler, base: Parameters<typeof runHandler>[1], bytes: Uint8Array, traceparent?: string): Promise<MessageResult> {
  let envelope: MessageEnvelope | undefined;
  try {
    envelope = MessageEnvelope.fromBytes(bytes);
    const input = envelope;
    const outcome = await runHandler(handler, base, input, traceparent);
    // Results are structured-cloned back (small); the request bytes were transferred in.
    const outputs = outcome.outputs.map((o) => ({ to: o.to ? [...o.to] : undefined, bytes: returned(o.envelope, input, bytes), priority: o.priority }));
    return { kind: 'result', outputs, response: outcome.response && returned(outcome.response, input, bytes), discarded: outcome.discarded, detail: outcome.detail };
  } catch (e) {
    // A response attached to the error (a downstream's NACK, an onProcessError reply) crosses too.
    const response = (e as { response?: MessageEnvelope } | undefined)?.response;
    return { kind: 'error', error: serializeError(e), response: response && envelope ? returned(response, envelope, bytes) : response?.toBytes() };
  }
}
