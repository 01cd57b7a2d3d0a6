'use client';
import { createContext, memo, useContext, type ReactNode } from 'react';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { ItemStatus } from '../lib/live';
import { formatNumber, stateClass } from '../lib/format';
import type { ItemKind } from './spec';

export interface ItemNodeData extends Record<string, unknown> {
  name: string;
  type: string;
  kind: ItemKind;
  enabled: boolean;
  problems: string[];
}

export type ItemNode = Node<ItemNodeData, 'item'>;

/** Live status by item name: a context, so a new sample re-renders node bodies, not the graph. */
export const LiveStatusContext = createContext<Map<string, ItemStatus>>(new Map());

/** Suspended messages (failed for good, not resent since) by item name, as IRIS shows them on its nodes. */
export const SuspendedContext = createContext<Map<string, number>>(new Map());

/** The figures item nodes show: live status and suspended counts, each by item name. */
export function NodeFiguresProvider({ live, suspended, children }: { live: Map<string, ItemStatus>; suspended: Map<string, number>; children: ReactNode }) {
  return (
    <LiveStatusContext.Provider value={live}>
      <SuspendedContext.Provider value={suspended}>{children}</SuspendedContext.Provider>
    </LiveStatusContext.Provider>
  );
}

/** What the status ring of a node shows: how the item stands with the systems it talks to. */
export type Ring = 'connected' | 'listening' | 'retrying' | 'failed' | 'stopped';

/** The ring of an item from its live status (a service listens; others are connected while they run). */
export function ringOf(live: ItemStatus | undefined, kind: string): Ring {
  if (!live) return 'stopped';
  if (live.state === 'failed') return 'failed';
  if (live.retrying || live.breaker === 'open' || (live.state === 'starting' && live.restarts > 0)) return 'retrying';
  if (live.state !== 'running') return 'stopped';
  return kind === 'service' ? 'listening' : 'connected';
}

function ItemNodeView({ data }: NodeProps<ItemNode>) {
  const live = useContext(LiveStatusContext).get(data.name);
  const suspended = useContext(SuspendedContext).get(data.name) ?? 0;
  const ring = ringOf(live, data.kind);
  const state = ring === 'retrying' ? 'retrying' : live ? stateClass(live.state) : 'stopped';
  const stateLabel = ring === 'retrying' ? 'retrying' : live ? live.state : 'not running';
  const cls = ['hie-node', state, data.enabled ? '' : 'disabled'].join(' ');
  return (
    <div className={cls} data-testid={`node-${data.name}`} data-state={stateLabel} title={data.problems.length ? data.problems.join('\n') : undefined}>
      {data.kind !== 'service' ? <Handle type="target" position={Position.Left} aria-label={`${data.name} input`} /> : null}
      <div className="head">
        <span
          className={`ring ${ring}`}
          data-testid="node-ring"
          data-ring={ring}
          role="img"
          aria-label={ring}
          title={`${ring}${live?.lastError && ring !== 'connected' && ring !== 'listening' ? `: ${live.lastError.message}` : ''}`}
        />
        <span className="name">{data.name}</span>
        <span className="muted small" data-testid="node-state">
          {stateLabel}
        </span>
      </div>
      <div className="type">
        <span className={`kind ${data.kind}`}>{data.kind}</span>
        <span>{data.type}</span>
      </div>
      <div className="stats">
        <div>
          <div className="v" data-testid="node-queue">
            {live ? formatNumber(live.queueDepth) : '—'}
          </div>
          <div className="l">queue</div>
        </div>
        <div>
          <div className="v" data-testid="node-rate">
            {live ? formatNumber(live.throughputPerSec, 1) : '—'}
          </div>
          <div className="l">msg/s</div>
        </div>
        <div>
          <div className={`v ${live && live.errors > 0 ? 'bad' : ''}`} data-testid="node-errors">
            {live ? formatNumber(live.errors) : '—'}
          </div>
          <div className="l">errors</div>
        </div>
      </div>
      {live ? (
        <div className="muted" style={{ padding: '0 9px 4px', fontSize: 10.5 }} data-testid="node-processed">
          {formatNumber(live.processed)} processed
          {live.breaker && live.breaker !== 'closed' && live.breaker !== 'disabled' ? ` · breaker ${live.breaker}` : ''}
        </div>
      ) : null}
      {suspended > 0 ? (
        <div style={{ padding: '0 9px 6px' }} title="Messages that failed here for good: resend them from Messages (status: suspended)">
          <span className="badge failed" data-testid="node-suspended">
            {formatNumber(suspended)} suspended
          </span>
        </div>
      ) : null}
      {data.problems.length > 0 ? (
        <span className="problem-badge" data-testid="node-problems" aria-label={`${data.problems.length} problem${data.problems.length === 1 ? '' : 's'}`}>
          {data.problems.length}
        </span>
      ) : null}
      {data.kind !== 'operation' ? <Handle type="source" position={Position.Right} aria-label={`${data.name} output`} /> : null}
    </div>
  );
}

export const ItemNodeComponent = memo(ItemNodeView);
export const nodeTypes = { item: ItemNodeComponent };
