import type { Logger } from 'pino';
import { storedEnvelope } from './envelopes';
import type { MessageStore } from '@hie/store';
import { ensureError } from './errors';
import type { ProductionEngine } from './production-engine';

/**
 * After a restart, every stored message of the project that never completed is handed on again
 * from the service that received it (at-least-once; items are idempotent by message id where they
 * can be). Messages stored without a body (`metadata` mode) cannot be replayed and are reported.
 */
export async function recoverUnfinished(
  messages: MessageStore,
  engine: ProductionEngine,
  projectId: string,
  log: Logger,
  opts: {
    /**
     * Only messages stored at these items (a cluster node taking over a dead node's singletons
     * replays what those received, not what live nodes still have in hand).
     */
    items?: readonly string[];
  } = {},
): Promise<number> {
  let n = 0;
  // Scoped by project id, never by the production's name: another project's production of the
  // same name must not have its messages replayed into this one's items.
  let inStream = 0;
  for await (const m of messages.unfinished(projectId)) {
    if (opts.items && !opts.items.includes(m.item)) continue;
    // Takeover: a message whose hand-off to every target is recorded in a stream is there still
    // (pending entries are claimed back from a dead consumer): replaying it would deliver it twice.
    if (opts.items && (await handedToStreams(messages, engine, projectId, m.id, m.item))) {
      inStream++;
      continue;
    }
    if (!m.raw) {
      log.warn({ id: m.id }, 'unfinished message has no stored body (metadata mode); cannot replay it');
      continue;
    }
    const env = storedEnvelope(m.id, m.raw, m.contentType, m.item);
    env.header.retryCount = 1;
    try {
      // A resend copy is stored at the item it was sent to (a process or an operation): it resumes
      // there. Handing it on to that item's targets would skip the item, and an operation has none.
      const at = engine.host(m.item);
      if (m.parentId !== null && at !== undefined && at.kind !== 'service') await engine.inject(m.item, env);
      else await engine.redeliver(m.item, env);
      n++;
    } catch (e) {
      log.error({ err: ensureError(e), id: m.id, item: m.item }, 'could not re-deliver an unfinished message');
    }
  }
  if (inStream > 0) log.info({ projectId, items: opts.items, inStream }, 'unfinished messages already in the streams were not replayed');
  return n;
}

/**
 * True when the trace records a stream hand-off (`stream: true`, see MemoryTracker) from `item`
 * to each of its current targets. If unsure (no targets known, one missing), false: replay.
 */
async function handedToStreams(messages: MessageStore, engine: ProductionEngine, projectId: string, id: string, item: string): Promise<boolean> {
  const targets = engine.targetsOf(item);
  if (targets.length === 0) return false;
  const trace = await messages.trace(projectId, id);
  const streamed = new Set(trace.filter((e) => e.detail?.['stream'] === true && e.detail['from'] === item).map((e) => e.item));
  return targets.every((t) => streamed.has(t));
}
