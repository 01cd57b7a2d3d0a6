/**
 * Item types used by the engine's own tests. Defined with the same `defineItemType` a plugin uses;
 * `module: import.meta.url` lets worker threads load them.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { z } from 'zod';
import type { MessageEnvelope } from '@hie/envelope';
import { defineItemType } from '../item-type';
import { EngineError } from '../runtime/errors';

/** Names of thread_stamp items whose handler was created on the main thread. */
export const createdOnMain = new Set<string>();

/** Envelopes each sink received, by sink name (main thread only). */
export const sinks = new Map<string, MessageEnvelope[]>();
export const hookCalls: string[] = [];
/** Most messages one collect item had in `onMessage` at the same time, by item name. */
export const maxConcurrent = new Map<string, number>();

export function sink(name: string): MessageEnvelope[] {
  let list = sinks.get(name);
  if (!list) sinks.set(name, (list = []));
  return list;
}

/** Stamps the thread it ran on into the message and passes it on. */
export const threadStamp = defineItemType({
  type: 'test.thread_stamp',
  version: 1,
  kind: 'process',
  description: 'test: record the thread id',
  settings: z.object({ busyMs: z.number().default(0).describe('spin this long') }).strict(),
  module: import.meta.url,
  create(settings, cctx) {
    if (isMainThread) createdOnMain.add(cctx.itemName);
    return {
      onMessage(envelope, ctx) {
        // When the handler ran, on one clock for every thread: lets a test see work overlap.
        const startedAt = performance.timeOrigin + performance.now();
        const until = Date.now() + settings.busyMs;
        while (Date.now() < until) {
          /* burn CPU: proves parallelism across threads */
        }
        const out = envelope.withBody(envelope.body.raw);
        out.header.customProperties.threadId = threadId;
        out.header.customProperties.startedAt = startedAt;
        out.header.customProperties.endedAt = performance.timeOrigin + performance.now();
        ctx.send(out);
      },
    };
  },
});

/** Collects what it receives; optionally slow, optionally failing N times first. */
export const collect = defineItemType({
  type: 'test.collect',
  version: 1,
  kind: 'operation',
  description: 'test: collect messages',
  settings: z
    .object({
      delayMs: z.number().default(0).describe('wait this long per message'),
      failTimes: z.number().default(0).describe('fail (retryable) this many times first'),
      failMaxRetries: z.number().optional().describe('the failures name their own retry limit (details.maxRetries, as a downstream NACK does)'),
      crashOn: z.string().default('').describe('throw an unexpected error when the body contains this'),
      respond: z.string().default('').describe('reply with this body'),
    })
    .strict(),
  module: import.meta.url,
  create(settings, ctx) {
    let failures = 0;
    let active = 0;
    return {
      async onMessage(envelope) {
        active++;
        maxConcurrent.set(ctx.itemName, Math.max(maxConcurrent.get(ctx.itemName) ?? 0, active));
        try {
          return await handle(envelope);
        } finally {
          active--;
        }
      },

      onBeforeProcess(envelope) {
        hookCalls.push(`before:${ctx.itemName}`);
        return envelope;
      },
      onAfterProcess() {
        hookCalls.push(`after:${ctx.itemName}`);
      },
      onProcessError(err) {
        hookCalls.push(`error:${ctx.itemName}:${(err as { code?: string }).code ?? 'none'}`);
      },
    };
    async function handle(envelope: MessageEnvelope): Promise<MessageEnvelope | void> {
      if (settings.delayMs) await new Promise((r) => setTimeout(r, settings.delayMs));
      if (failures < settings.failTimes) {
        failures++;
        throw new EngineError('test.flaky', 'flaky failure', 'operational', settings.failMaxRetries === undefined ? undefined : { maxRetries: settings.failMaxRetries });
      }
      if (settings.crashOn && envelope.text().includes(settings.crashOn)) throw new TypeError('handler bug');
      sink(ctx.itemName).push(envelope);
      if (settings.respond) return envelope.withBody(new TextEncoder().encode(settings.respond));
    }
  },
});

/** Opens the gate (see {@link gate}); replaced by each {@link closeGate}. */
export let openGate = () => undefined as void;
let gateOpen = Promise.resolve();
/** Messages the gate let through since it was last closed. */
export let passed = 0;

/**
 * `test.gate`: holds every message in `onMessage` until the test opens the gate, a consumer that
 * is stuck (main thread only). Not in {@link testItemTypes}: add it where a test needs it.
 */
export const gate = defineItemType({
  type: 'test.gate',
  version: 1,
  kind: 'operation',
  description: 'test: hold messages until opened',
  settings: z.object({}).strict(),
  module: import.meta.url,
  create() {
    return {
      async onMessage() {
        await gateOpen;
        passed++;
      },
    };
  },
});

/** Closes the gate and counts from zero again. */
export function closeGate(): void {
  passed = 0;
  gateOpen = new Promise<void>((r) => (openGate = r));
}

/** A service the test drives: `inject` submits through the real service context. */
export const manualIn = defineItemType({
  type: 'test.manual_in',
  version: 1,
  kind: 'service',
  description: 'test: submit by hand',
  settings: z.object({}).strict(),
  module: import.meta.url,
  create(_settings, ctx) {
    manualServices.set(ctx.itemName, ctx);
    return {};
  },
});
export const manualServices = new Map<string, Parameters<typeof manualIn.create>[1]>();

export const testItemTypes = [threadStamp, collect, manualIn];
