import type { MessageEventName, MessageStatus } from './schema.js';

/** What to keep of each message: everything, metadata and events only (raw = NULL), or nothing. */
export type StorageMode = 'full' | 'metadata' | 'none';

/**
 * Whose messages: every stored row carries its project and the project's workspace, and every
 * query of the message store is scoped by project. `hie run` (no manager) uses
 * {@link localScope}.
 */
export interface MessageScope {
  projectId: string;
  workspaceId: string;
}

/** The scope of a production run by `hie run`, outside any workspace. */
export function localScope(production: string): MessageScope {
  return { projectId: `local:${production}`, workspaceId: 'local' };
}

/** A message as a service received it; the engine maps its envelope to this. */
export interface ReceivedMessage extends MessageScope {
  /** Message id (a UUID as text); `received()` is idempotent on it. */
  id: string;
  /** The production's name (display only). */
  production: string;
  /** The service that received it. */
  item: string;
  receivedAt: Date | number;
  messageType?: string | null;
  controlId?: string | null;
  patientId?: string | null;
  contentType: string;
  header: Record<string, unknown>;
  raw: Uint8Array;
  correlationId?: string | null;
  parentId?: string | null;
}

/** One state change of a message at an item. */
export interface MessageEventInput extends MessageScope {
  messageId: string;
  production: string;
  item: string;
  event: MessageEventName;
  /** @defaultValue the time of the call */
  at?: Date | number;
  /** Error code/message, target item, attempt… */
  detail?: Record<string, unknown> | null;
}

export interface MessageEvent {
  id: number;
  messageId: string;
  projectId: string;
  workspaceId: string;
  production: string;
  item: string;
  event: MessageEventName;
  at: Date;
  detail: Record<string, unknown> | null;
}

export interface MessageSummary {
  id: string;
  projectId: string;
  workspaceId: string;
  production: string;
  item: string;
  receivedAt: Date;
  messageType: string | null;
  controlId: string | null;
  patientId: string | null;
  contentType: string;
  size: number;
  status: MessageStatus;
  finishedAt: Date | null;
  parentId: string | null;
  correlationId: string | null;
}

export interface MessageDetail extends MessageSummary {
  header: Record<string, unknown>;
  /** The body: `undefined` unless asked for, `null` when stored in `metadata` mode. */
  raw?: Uint8Array | null;
  /** The full trace, ordered by (at, id). */
  events: MessageEvent[];
  /** Ids of the messages resent from this one. */
  resends: string[];
}

export interface MessageSearchFilter {
  item?: string;
  status?: MessageStatus | MessageStatus[];
  /** Only suspended messages: `failed`, and not resent since (replaces `status`). */
  suspended?: boolean;
  /** received_at ≥ from */
  from?: Date;
  /** received_at < to */
  to?: Date;
  messageType?: string;
  controlId?: string;
  patientId?: string;
  /** Case-insensitive substring of the body (trigram index; 3+ characters use it). */
  text?: string;
  /** @defaultValue 50 (at most 500) */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface MessageSearchResult {
  items: MessageSummary[];
  nextCursor?: string;
}

/** How many messages are suspended (failed for good, not resent since) at one item. */
export interface SuspendedCount {
  item: string;
  count: number;
}

/** A message that must be resumed after a restart. */
export interface UnfinishedMessage {
  id: string;
  projectId: string;
  workspaceId: string;
  production: string;
  /** The service that received it. */
  item: string;
  receivedAt: Date;
  contentType: string;
  header: Record<string, unknown>;
  /** `null` when stored in `metadata` mode. */
  raw: Uint8Array | null;
  correlationId: string | null;
  parentId: string | null;
  status: MessageStatus;
  /** The latest event (by at, id) and the item it happened at. */
  lastEvent: MessageEventName | null;
  lastItem: string | null;
}

export interface ResendOptions {
  /** The item the copy is injected into. */
  toItem: string;
  /** An edited body; the original's by default. */
  raw?: Uint8Array;
  /** Who asked (user id or name), recorded in both events. */
  actor?: string;
}

/** What the engine needs to inject the copy. */
export interface ResendResult extends MessageScope {
  newId: string;
  parentId: string;
  production: string;
  item: string;
  receivedAt: Date;
  contentType: string;
  header: Record<string, unknown>;
  raw: Uint8Array;
  messageType: string | null;
  controlId: string | null;
  patientId: string | null;
  correlationId: string;
}

export interface PurgeOptions {
  /** Only this project's messages are purged. */
  projectId: string;
  olderThan: Date;
  /** @defaultValue 5000 */
  batchSize?: number;
}

/** One project's retention for {@link MessageStore.retain}. */
export interface RetentionPolicy {
  projectId: string;
  /** Its messages received before this go; `null` keeps them for ever (and the days holding them). */
  olderThan: Date | null;
}

export interface RetainOptions {
  /** Rows per DELETE statement for what is not dropped. @defaultValue 5000 */
  batchSize?: number;
  /** Longest wait for the lock a partition drop takes on the parent tables. @defaultValue 5000 */
  lockTimeoutMs?: number;
  /** Day partitions made ahead by the maintenance run first. @defaultValue 3 */
  aheadDays?: number;
}

export interface RetentionResult {
  /** Days (UTC, `YYYY-MM-DD`) whose partitions were dropped. */
  droppedDays: string[];
  /** Messages that went with them. */
  droppedMessages: number;
  /** Messages removed by the per-project DELETE (shared days, the DEFAULT partition). */
  deletedMessages: number;
  /** Droppable days left to the DELETE this time because their tables were busy. */
  busyDays: string[];
}

export interface WriterOptions {
  /** Most entries (received or events) in one commit. @defaultValue 500 (at most 2000) */
  maxBatch?: number;
  /** How long the first entry of an idle writer waits for company. @defaultValue 2 */
  maxDelayMs?: number;
  /** @defaultValue 'full' */
  storage?: StorageMode;
  /**
   * Batches written concurrently (PostgreSQL: on separate connections, so the next batch is built
   * and sent while one commits). @defaultValue 2 on PostgreSQL, 1 on PGlite (single connection)
   */
  maxInFlight?: number;
  /**
   * Where the body's text-search row is written: `inline` (with the message, same statement) or
   * `deferred` (the caller hands it to a writer off the ACK path with `indexBody`, e.g. the events
   * writer, so trigram indexing never delays an acknowledgement). @defaultValue 'inline'
   */
  bodyIndex?: 'inline' | 'deferred';
  /** Called after each successful batch commit with its duration in ms (the store-commit latency metric). */
  onCommit?: (ms: number) => void;
}

/** What `indexBody` needs: the message and its bytes. */
export interface BodyToIndex extends MessageScope {
  id: string;
  production: string;
  raw: Uint8Array;
  /**
   * The message's `receivedAt`: the day partition its text row goes to. When absent, the stored
   * message's is looked up (one index probe per day partition).
   */
  receivedAt?: Date | number;
}

export interface WriterMetrics {
  batches: number;
  /** Entries committed (a `received()` or an `event()` each). */
  rows: number;
  avgBatchSize: number;
  /** Duration of the last successful batch statement (build, send, commit). */
  lastFlushMs: number;
  maxFlushMs: number;
  /** Sum over all successful batches: with `batches`, the mean commit time. */
  totalFlushMs: number;
  failedBatches: number;
  /** Entries waiting or in flight. */
  pending: number;
}

export interface MessageWriter {
  readonly storage: StorageMode;
  /** Stores the message and its `received` event; resolves once committed. */
  received(msg: ReceivedMessage): Promise<void>;
  /** Stores an event (and the message's status); resolves once committed. */
  event(e: MessageEventInput): Promise<void>;
  /** Makes a stored message's body searchable (for `bodyIndex: 'deferred'`); resolves once committed. */
  indexBody(b: BodyToIndex): Promise<void>;
  /** Resolves when everything handed in before the call is committed. */
  flush(): Promise<void>;
  /** Flushes, then refuses new entries (`store.closed`). */
  close(): Promise<void>;
  metrics(): WriterMetrics;
}
