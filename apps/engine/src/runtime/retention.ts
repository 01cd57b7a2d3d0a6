import type { Logger } from 'pino';
import type { MessageStore } from '@hie/store';
import { ensureError } from './errors';

export interface RetentionTarget {
  /** The project whose messages are purged (never by production name: names are not unique). */
  projectId: string;
  /** For the log line. */
  production: string;
  /** Keep messages this many days; 0 keeps them for ever. */
  retentionDays: number;
}

/**
 * Retention: every `everyMs` (and once shortly after start) purge each project's messages
 * older than its `retentionDays`, in small batches so the writer is never locked out.
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
      for (const t of opts.targets()) {
        if (!(t.retentionDays > 0)) continue;
        const olderThan = new Date(Date.now() - t.retentionDays * 86_400_000);
        try {
          const n = await opts.messages.purge({ projectId: t.projectId, olderThan });
          if (n > 0) opts.log.info({ projectId: t.projectId, production: t.production, purged: n, olderThan }, 'retention: purged old messages');
        } catch (e) {
          opts.log.error({ err: ensureError(e), projectId: t.projectId, production: t.production }, 'retention purge failed');
        }
      }
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
