/**
 * The Coordinator: where the control plane writes desired state and engine nodes report back.
 * In-process for a single node; etcd (leases, leader election, watches) in a cluster.
 */

/** What should run: one project's production at one config version. */
export interface DesiredState {
  projectId: string;
  workspaceId: string;
  /** The production's name (from its spec). */
  production: string;
  /** Config version number. */
  version: number;
  state: 'running' | 'stopped';
  /** The immutable production spec of that version (validated by the engine again). */
  spec: unknown;
  updatedAt: number;
  updatedBy?: string;
}

/** One item's live figures, as reported by a node (the engine's ItemStatus). */
export interface ReportedItemStatus {
  name: string;
  type: string;
  kind: string;
  state: string;
  enabled: boolean;
  queueDepth: number;
  inFlight: number;
  processed: number;
  errors: number;
  discarded: number;
  restarts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  throughputPerSec: number;
  breaker: string;
  lastError?: { code: string; message: string; at: number };
  details?: Record<string, unknown>;
  /** The nodes running the item (a cluster's singleton: one; set by nodes and merged by the manager). */
  nodes?: string[];
  /** How long messages waited in the item's queue (absent from nodes that do not report it). */
  queueWait?: QueueWaitFigures;
  /**
   * True while the item's latest attempt at a message failed and is being retried (a downstream
   * system away): what the designer's status ring and the `item_down` alert show.
   */
  retrying?: boolean;
}

/**
 * Queue wait times of one item: recent percentiles for people, and cumulative histogram counts
 * (never reset, not even by a hot reload) for Prometheus. Nodes use the same bucket bounds, so
 * the manager adds their counts bucket by bucket.
 */
export interface QueueWaitFigures {
  /** Median wait over the recent messages, in ms. */
  p50Ms: number;
  /** 99th percentile of the same, in ms. */
  p99Ms: number;
  /** Bucket upper bounds, in ms. */
  bucketsMs: number[];
  /** Cumulative: `counts[i]` waits were ≤ `bucketsMs[i]`. */
  counts: number[];
  /** Every wait recorded (the `+Inf` bucket). */
  count: number;
  /** Their total, in ms. */
  sumMs: number;
}

export interface ReportedProduction {
  projectId: string;
  production: string;
  version: number;
  state: 'running' | 'stopped' | 'failed' | 'applying';
  error?: { code: string; message: string; problems?: unknown };
  items: ReportedItemStatus[];
  /** Entries the node's message store writers hold, not yet committed (the `store_backlog` alert). */
  storeBacklog?: number;
}

/** An item type as a node knows it (built-in or plugin), for the portal's palette and forms. */
export interface ReportedItemType {
  type: string;
  kind: 'service' | 'process' | 'operation';
  description: string;
  /** JSON Schema of the type's settings. */
  settingsSchema: unknown;
}

export interface NodeStatus {
  nodeId: string;
  startedAt: number;
  heartbeatAt: number;
  productions: ReportedProduction[];
  itemTypes: ReportedItemType[];
}

/** Imperative requests to the nodes running a project. */
export type Command =
  | { kind: 'item.start' | 'item.stop' | 'item.restart'; projectId: string; item: string }
  | { kind: 'message.inject'; projectId: string; item: string; messageId: string; raw: string /* base64 */; contentType: string; parentId?: string };

export interface CommandResult {
  ok: boolean;
  error?: { code: string; message: string };
  nodeId?: string;
}

/**
 * Who runs what in a cluster, computed by the leader and written fenced by its lease, so a
 * deposed leader cannot overwrite its successor's.
 */
export interface Assignments {
  /** Fencing token: the leader's lease id + election revision when these were computed. */
  epoch: string;
  leaderNodeId: string;
  /** projectId → item name → nodeId, for singleton items (listeners, pollers). */
  singletons: Record<string, Record<string, string>>;
  /** projectId → ordered item name → partition index (0..n-1) → nodeId. */
  partitions: Record<string, Record<string, Record<number, string>>>;
  computedAt: number;
}

export interface Coordinator {
  setDesired(state: DesiredState): Promise<void>;
  getDesired(projectId: string): Promise<DesiredState | undefined>;
  listDesired(): Promise<DesiredState[]>;
  /** Called with every current desired state at once, then on every change. Returns unsubscribe. */
  watchDesired(listener: (state: DesiredState) => void): () => void;
  reportStatus(status: NodeStatus): Promise<void>;
  listStatus(): Promise<NodeStatus[]>;
  /** Called on every status report. Returns unsubscribe. */
  watchStatus(listener: (status: NodeStatus) => void): () => void;
  /** Deliver a command to the node(s) running the project; resolves with the first answer. */
  sendCommand(command: Command, timeoutMs?: number): Promise<CommandResult>;
  /** A node registers here to receive commands. Returns unregister. */
  onCommand(handler: (command: Command) => Promise<CommandResult>): () => void;
  close(): Promise<void>;
  /**
   * Cluster only. Called with the current assignments, then on every change, and again (with the
   * same assignments) when this node's lease is lost or regained: read {@link clustered} then.
   */
  watchAssignments?(listener: (a: Assignments) => void): () => void;
  /** Cluster only: true while this node's lease is alive (singletons must stop when false). */
  readonly clustered?: boolean;
}

/** Error with a stable code (`cluster.no_node`, `cluster.timeout`). */
export class ClusterError extends Error {
  readonly kind = 'operational' as const;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterError';
  }
  toJSON() {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message };
  }
}
