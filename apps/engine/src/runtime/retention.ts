import type { Logger } from 'pino';
import type { MessageStore, RetentionPolicy } from '@hie/store';
import { ensureError } from './errors';

export interface RetentionTarget {
  /** The project whose messages are purged (never by production name: names are not unique). */
  projectId: string;
  /** For the log line. */
  production: string;
  /** Keep messages this many days; 0 keeps them for ever. */
  retentionDays: number;
}

const DAY_MS = 86_400_000;

/**
 * Retention: every `everyMs` (and once shortly after start) run the store's partition maintenance
 * and purge each project's messages older than its `retentionDays` through `MessageStore.retain`:
 * whole day partitions go when every project with rows in them may lose them (the day is older
 * than the longest retention among them), the rest by small DELETE batches so the writer is never
 * locked out. Only the targets' projects count as droppable: a day also holding rows of a project
 * this node does not run (or keeps for ever) is purged row by row, never dropped.
 * Returns a stop function.
 */
export function startRetention(opts: {
  messages: MessageStore;
  targets: () => RetentionTarget[];
  log: Logger;
  /** @defaultValue one hour */
  everyMs?: number;
  /** @defaultValue 30 s */
  firstAfterMs?: number;
}): () => void {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const targets = opts.targets();
      const now = Date.now();
      const policies: RetentionPolicy[] = targets.map((t) => ({
        projectId: t.projectId,
        olderThan: t.retentionDays > 0 ? new Date(now - t.retentionDays * DAY_MS) : null,
      }));
      if (!policies.some((p) => p.olderThan !== null)) {
        await opts.messages.ensurePartitions(); // nothing to purge: the maintenance alone
        return;
      }
      const r = await opts.messages.retain(policies);
      if (r.droppedDays.length > 0 || r.deletedMessages > 0 || r.busyDays.length > 0) {
        opts.log.info(
          { droppedDays: r.droppedDays, dropped: r.droppedMessages, deleted: r.deletedMessages, busyDays: r.busyDays, projects: targets.map((t) => t.production) },
          'retention: purged old messages',
        );
      }
    } catch (e) {
      opts.log.error({ err: ensureError(e) }, 'retention purge failed');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void run(), opts.firstAfterMs ?? 30_000);
  const timer = setInterval(() => void run(), opts.everyMs ?? 3_600_000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
