import type { ReportedItemStatus, ReportedProduction } from '@hie/cluster';

/**
 * The state a node reports for a production, from its reconcile state and its items.
 *
 * Applying a spec succeeds even when an item cannot start: its host fails and the supervisor
 * retries in the background, so one bad item never holds up a deploy. But a production whose
 * listener could not bind (EADDRINUSE) does not receive anything: it must never be reported as
 * running. So while any enabled item is down (failed, or starting again after a failure), the
 * production is `failed`, with that item's error; once the item is back, it is `running` again.
 * Items an operator stopped, and disabled items, do not count.
 */
export function reportedState(
  state: ReportedProduction['state'],
  error: ReportedProduction['error'],
  items: readonly Pick<ReportedItemStatus, 'name' | 'state' | 'enabled' | 'lastError'>[],
): Pick<ReportedProduction, 'state' | 'error'> {
  if (state !== 'running') return error ? { state, error } : { state };
  const down = items.find((i) => i.enabled && (i.state === 'failed' || (i.state === 'starting' && i.lastError !== undefined)));
  if (!down) return { state };
  return {
    state: 'failed',
    error: {
      code: down.lastError?.code ?? 'engine.item_failed',
      message: `item "${down.name}" is down: ${down.lastError?.message ?? 'it failed to start'}`,
    },
  };
}
