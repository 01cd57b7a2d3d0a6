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
import type { WorkerBarrier, WorkerItem, WorkerResult, WorkerTask } from './protocol';

registerBuiltinCodecs();

const handlers = new Map<string, Promise<ItemHandler>>();

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

const log = {
  info: (o: unknown, m?: string) => console.log(JSON.stringify({ level: 30, threadId, msg: m ?? o, ...(typeof o === 'object' ? o : {}) })),
  warn: (o: unknown, m?: string) => console.warn(JSON.stringify({ level: 40, threadId, msg: m ?? o, ...(typeof o === 'object' ? o : {}) })),
  error: (o: unknown, m?: string) => console.error(JSON.stringify({ level: 50, threadId, msg: m ?? o, ...(typeof o === 'object' ? o : {}) })),
  debug: () => undefined,
} as unknown as CreateContext['log'];

function contextFor(item: WorkerItem): CreateContext {
  const unsupported = (): never => {
    throw new EngineError('engine.worker_unsupported', 'services cannot submit from a worker thread; run services in async mode', 'user');
  };
  return {
    itemName: item.name,
    production: item.production,
    targets: item.targets,
    log,
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
  const h = handlers.get(item.key);
  if (!h) return; // never created in this worker
  handlers.delete(item.key);
  const handler = await h.catch(() => undefined); // a handler that failed to start has nothing to stop
  await handler?.onStop?.(contextFor(item));
}

export default async function run(task: WorkerTask): Promise<WorkerResult> {
  if (task.kind !== 'message') {
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
  try {
    const handler = await handlerFor(task.item);
    const envelope = MessageEnvelope.fromBytes(task.bytes);
    const outcome = await runHandler(handler, { itemName: task.item.name, production: task.item.production, targets: task.item.targets, log, policy: task.item.policy }, envelope);
    // Results are structured-cloned back (small); the request bytes were transferred in.
    const outputs = outcome.outputs.map((o) => ({ to: o.to ? [...o.to] : undefined, bytes: o.envelope.toBytes(), priority: o.priority }));
    return { kind: 'result', outputs, response: outcome.response?.toBytes(), discarded: outcome.discarded, detail: outcome.detail, threadId };
  } catch (e) {
    // A response attached to the error (a downstream's NACK, an onProcessError reply) crosses too.
    const response = (e as { response?: MessageEnvelope } | undefined)?.response;
    return { kind: 'error', error: serializeError(e), response: response?.toBytes(), threadId };
  }
}
