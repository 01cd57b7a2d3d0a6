/** Test data without services: specs and node status reports. */
import type { NodeStatus, ReportedItemStatus } from '@hie/cluster';
import type { ProductionInput } from '@hie/config';

/** A small valid production: MLLP in → router → file out. */
export function sampleSpec(name = 'adt-feed'): ProductionInput {
  return {
    name,
    items: [
      { name: 'ADT In', type: 'hl7.mllp.in', settings: { port: 2575 }, position: { x: 0, y: 0 } },
      { name: 'Route', type: 'hl7.router', settings: { rules: [] } },
      { name: 'Files', type: 'file.out', settings: { directory: './out' } },
    ],
    connections: [
      { from: 'ADT In', to: 'Route' },
      { from: 'Route', to: 'Files' },
    ],
  };
}

export function itemStatus(name: string, over: Partial<ReportedItemStatus> = {}): ReportedItemStatus {
  return {
    name,
    type: 'file.out',
    kind: 'operation',
    state: 'running',
    enabled: true,
    queueDepth: 0,
    inFlight: 0,
    processed: 0,
    errors: 0,
    discarded: 0,
    restarts: 0,
    latencyP50Ms: 1,
    latencyP99Ms: 2,
    throughputPerSec: 0,
    breaker: 'closed',
    ...over,
  };
}

/** A node status report for one project (what an engine node would send). */
export function nodeStatus(nodeId: string, projectId: string, production: string, items: ReportedItemStatus[], version = 1): NodeStatus {
  return {
    nodeId,
    startedAt: Date.now() - 1000,
    heartbeatAt: Date.now(),
    productions: [{ projectId, production, version, state: 'running', items }],
    itemTypes: [],
  };
}
