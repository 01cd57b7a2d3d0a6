import { describe, expect, it } from 'vitest';
import type { ReportedItemStatus } from '@hie/cluster';
import { reportedState } from './production-state';

type Item = Pick<ReportedItemStatus, 'name' | 'state' | 'enabled' | 'lastError'>;

function item(name: string, state: string, extra: Partial<Item> = {}): Item {
  return { name, state, enabled: true, ...extra };
}

const bindError = { code: 'EADDRINUSE', message: 'listen EADDRINUSE: address already in use 127.0.0.1:2575', at: 1 };

describe('reportedState', () => {
  it('a production with an item that could not start is failed, with that item error', () => {
    expect(reportedState('running', undefined, [item('Files', 'running'), item('ADT In', 'failed', { lastError: bindError })])).toEqual({
      state: 'failed',
      error: { code: 'EADDRINUSE', message: 'item "ADT In" is down: listen EADDRINUSE: address already in use 127.0.0.1:2575' },
    });
  });

  it('an item starting again after a failure still counts as down', () => {
    expect(reportedState('running', undefined, [item('ADT In', 'starting', { lastError: bindError })]).state).toBe('failed');
  });

  it('running when every enabled item runs; stopped, disabled and first-starting items do not count', () => {
    expect(
      reportedState('running', undefined, [
        item('A', 'running'),
        item('B', 'stopped'),
        item('C', 'failed', { enabled: false, lastError: bindError }),
        item('D', 'starting'),
      ]),
    ).toEqual({ state: 'running' });
  });

  it('keeps the reconcile state and error when the production is not running', () => {
    const error = { code: 'config.invalid', message: 'invalid production' };
    expect(reportedState('failed', error, [])).toEqual({ state: 'failed', error });
    expect(reportedState('stopped', undefined, [item('A', 'failed', { lastError: bindError })])).toEqual({ state: 'stopped' });
  });
});
