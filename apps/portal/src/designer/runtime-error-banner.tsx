'use client';
import type { ItemStatus } from '../lib/live';
import { formatDateTime } from '../lib/format';
import { ringOf } from './item-node';

/**
 * The item's runtime trouble (failed, retrying, restarting), at the TOP of the inspector: the
 * first thing an operator looks for, not 5,000 px down below the settings.
 */
export function RuntimeErrorBanner({ live, kind }: { live?: ItemStatus; kind: string }) {
  const ring = ringOf(live, kind);
  if (!live || (ring !== 'failed' && ring !== 'retrying')) return null;
  const what = ring === 'failed' ? 'This item has failed' : live.breaker === 'open' ? 'Circuit breaker open' : live.retrying ? 'Retrying: the last attempt failed' : 'Restarting';
  return (
    <div className={`banner ${ring === 'failed' ? 'error' : 'warning'}`} role="alert" data-testid="item-runtime-error">
      <strong>{what}</strong>
      {live.lastError ? (
        <>
          {' '}
          <code>{live.lastError.code}</code>: {live.lastError.message}
          <div className="muted small">{formatDateTime(live.lastError.at)}</div>
        </>
      ) : null}
    </div>
  );
}
