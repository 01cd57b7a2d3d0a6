import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '@hie/cluster';
import { runningOf } from './status.js';
import { itemStatus } from './testing/fixtures.js';

const node = (nodeId: string, heartbeatAt: number, processed: number, state: 'running' | 'failed' = 'running'): NodeStatus => ({
  nodeId,
  startedAt: 0,
  heartbeatAt,
  productions: [{ projectId: 'p', production: 'prod', version: 3, state, items: [itemStatus('A', { processed, latencyP99Ms: processed })] }],
  itemTypes: [],
});

describe('runningOf', () => {
  const now = 1_000_000;
  it('adds up fresh nodes, ignores stale ones', () => {
    const r = runningOf([node('a', now - 1000, 5), node('b', now - 2000, 7), node('old', now - 60_000, 100)], 'p', now)!;
    expect(r.items[0]).toMatchObject({ processed: 12, latencyP99Ms: 7 });
    expect(r.nodes).toEqual(['a', 'b']);
    expect(r.stale).toBe(false);
  });

  it('failed when any fresh node reports it failed, even if the latest report says running', () => {
    const failing = node('b', now - 2000, 0, 'failed');
    failing.productions[0].error = { code: 'EADDRINUSE', message: 'item "A" is down: listen EADDRINUSE' };
    const r = runningOf([node('a', now - 1000, 5), failing], 'p', now)!;
    expect(r).toMatchObject({ state: 'failed', error: { code: 'EADDRINUSE' } });
    // A stale node's old failure does not count.
    expect(runningOf([node('a', now - 1000, 5), node('old', now - 60_000, 0, 'failed')], 'p', now)!.state).toBe('running');
  });

  it('falls back to the latest stale report, flagged', () => {
    const r = runningOf([node('old', now - 60_000, 100, 'failed')], 'p', now)!;
    expect(r).toMatchObject({ stale: true, state: 'failed', nodes: ['old'] });
    expect(runningOf([node('a', now, 1)], 'other', now)).toBeUndefined();
  });

  it("shows each item's node: a singleton running on one node, standby elsewhere; a scaled item on each", () => {
    const report = (nodeId: string, listener: 'running' | 'standby'): NodeStatus => ({
      nodeId,
      startedAt: 0,
      heartbeatAt: now,
      productions: [
        {
          projectId: 'p',
          production: 'prod',
          version: 1,
          state: 'running',
          items: [
            { ...itemStatus('In', { kind: 'service', state: listener }), ...(listener === 'running' ? { nodes: [nodeId] } : {}) },
            { ...itemStatus('Out', { kind: 'operation' }), nodes: [nodeId] },
          ],
        },
      ],
      itemTypes: [],
    });
    const r = runningOf([report('n2', 'standby'), report('n1', 'running'), report('n3', 'standby')], 'p', now)!;
    expect(r.items.find((i) => i.name === 'In')).toMatchObject({ state: 'running', nodes: ['n1'] });
    expect(r.items.find((i) => i.name === 'Out')?.nodes).toEqual(['n1', 'n2', 'n3']);
  });
});
