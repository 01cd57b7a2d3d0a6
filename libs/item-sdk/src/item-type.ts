import type { z } from 'zod';
import type { MessageEnvelope } from '@hie/envelope';
import type { Logger } from 'pino';
import type { HostPolicy } from '@hie/policy';

/**
 * Input a service could not take as a message (not HL7, a frame too large or cut off, a file with
 * no message in it). It is stored as a `refused` message, finished at once and never routed, so
 * the message viewer shows it instead of it disappearing without a trace.
 */
export interface Refusal {
  /** Why, as a stable code: `not_hl7`, `too_large`, `partial_frame`, `not_a_message`… */
  reason: string;
  /** What went wrong, for people. */
  error: string;
  /** How the bytes read: the service's content type (what a repaired copy would be resent as). */
  contentType: string;
  /** Most bytes stored; beyond them the message is truncated and its trace says so. */
  maxBytes: number;
  /** How many bytes there were in all, when more than were handed in (a frame dropped on the way). */
  totalBytes?: number;
  /** More for the trace: remote address, file name, limits. JSON values only. */
  detail?: Record<string, unknown>;
}

/**
 * The version of this item-type API. Its major number changes only when a plugin built against
 * the previous one would break; the engine refuses a plugin whose definitions carry another major.
 */
export const ITEM_TYPE_API_VERSION = '1.0';

/** The major number of an item-type API version (`'1.0'` → 1). */
export function apiMajor(version: string): number {
  return Number.parseInt(version, 10);
}

/** Item kinds: inbound services, processes in the middle, outbound operations. */
export type ItemKind = 'service' | 'process' | 'operation';

/** Options of {@link ItemContext.send}. */
export interface SendOptions {
  /** Target item names. @defaultValue every connected target */
  to?: readonly string[];
  /** Envelope priority 0–9 of what is sent; wins over the item's priority settings. */
  priority?: number;
}

/**
 * The sandbox's hook (`production.test`): an operation that finds it in its context renders exactly
 * what it would deliver and where, hands that to `wouldSend`, and returns without opening a
 * socket or writing a file. Only types that declare `dryRun: true` are run in the sandbox.
 */
export interface DryRun {
  /** `to`: where (`mllp://host:port`, a file path, `POST https://…`); `bytes`: exactly what; `problems`: what would stop it (egress refused…). */
  wouldSend(to: string, bytes: Uint8Array, problems?: string[]): void;
}

/** What a handler can ask of the engine while it runs. Plain functions: they also work inside a worker thread. */
export interface ItemContext {
  /** The item's name in the production. */
  readonly itemName: string;
  /** The production's name. */
  readonly production: string;
  /** Names of the items this item is connected to (its default targets). */
  readonly targets: readonly string[];
  /** In `onMessage`: its lines carry the message's `messageId` and `traceId` (never its content). */
  readonly log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /**
   * In `onMessage`, with tracing on: the W3C traceparent of this hop's span, for a handler to send
   * on (`http.out` sends it as the `traceparent` header). Absent with tracing off.
   */
  readonly traceparent?: string;
  /**
   * The folders and hosts items may touch (HIE_FILE_ROOTS, HIE_EGRESS_ALLOW): check every folder,
   * file and host a setting names with `resolveInsideRoots` / `assertEgressAllowed` from @hie/policy.
   */
  readonly policy: HostPolicy;
  /**
   * Emit an envelope to targets (default: every connected target). Inside `onMessage` the sends are
   * performed by the host after the handler returns, following the item's messaging pattern.
   */
  send(envelope: MessageEnvelope, opts?: SendOptions): void;
  /** Mark the message as deliberately dropped (recorded as `discarded`, never as lost). */
  discard(reason: string): void;
  /**
   * Add plain facts to this message's trace event at this item (`delivered` or `discarded`),
   * e.g. the router's `{ rule: 'adt' }`, so the trace shows why it went where it went.
   * For `onMessage` only; no patient data.
   */
  note(detail: Record<string, string | number | boolean | string[]>): void;
  /** Set only in the sandbox: deliver nothing, report what would be delivered (see {@link DryRun}). */
  readonly dryRun?: DryRun;
}

/**
 * What a service uses to hand a newly received message to the engine: it is recorded raw-first,
 * then sent to the service's targets. Resolves per the ACK mode: `queued` once every target has it,
 * `stored` once it is durable, `response` with the downstream response (sync patterns).
 */
export interface ServiceContext extends ItemContext {
  submit(envelope: MessageEnvelope, opts?: { wait?: 'queued' | 'stored' | 'response' }): Promise<SubmitResult>;
  /** True when a durable message store is configured (ACK after store means something). */
  readonly hasStore: boolean;
  /**
   * Keep input the service refuses (not HL7, too large, a frame cut off, a file with no message):
   * stored as a finished `refused` message (bytes up to `maxBytes`, the reason in its trace) and
   * logged at warn, never routed. Resolves with its message id (`undefined` without a store);
   * never rejects: a store failure is logged.
   */
  refuse(raw: Uint8Array, refusal: Refusal): Promise<string | undefined>;
  /**
   * The item's work ended on its own (a listener closed, a one-shot import finished): the host
   * stops it cleanly and restarts it only when its restart policy is `always`. Its queue is kept.
   * Not available in worker threads.
   */
  exit(reason: string): void;
}

export interface SubmitResult {
  messageId: string;
  /** The response envelope from downstream (sync patterns), if any. */
  response?: MessageEnvelope;
}

/** A handler instance for one item. */
export interface ItemHandler {
  onStart?(ctx: ItemContext): Promise<void> | void;
  onStop?(ctx: ItemContext): Promise<void> | void;
  /** Process one message. Return a response envelope for sync callers (an operation returns the downstream reply). */
  onMessage?(envelope: MessageEnvelope, ctx: ItemContext): Promise<MessageEnvelope | void> | MessageEnvelope | void;
  /** Runs before every message; return a replacement envelope to change what `onMessage` sees. */
  onBeforeProcess?(envelope: MessageEnvelope, ctx: ItemContext): Promise<MessageEnvelope | void> | MessageEnvelope | void;
  /** Runs after every successful message. */
  onAfterProcess?(envelope: MessageEnvelope, response: MessageEnvelope | undefined, ctx: ItemContext): Promise<void> | void;
  /** Live details shown in the item's status (e.g. the port a listener bound). */
  info?(): Record<string, unknown>;
  /** Runs when `onMessage` throws; may return a response envelope to answer a sync caller with (e.g. a NACK). */
  onProcessError?(error: Error, envelope: MessageEnvelope, ctx: ItemContext): Promise<MessageEnvelope | void> | MessageEnvelope | void;
}

/** Context passed to `create`: services get the service context (submit). */
export type CreateContext = ServiceContext;

/** The definition of an item type: the same API for built-ins and user plugins. */
export interface ItemTypeDefinition<S extends z.ZodType = z.ZodType> {
  /** Dotted lower-case type name, e.g. `hl7.mllp.in`. */
  type: string;
  version: number;
  kind: ItemKind;
  /** Human description for the palette. */
  description: string;
  /**
   * Runs on one node of a cluster at a time (the leader assigns it). Services (listeners,
   * pollers) always do; set it on a process or operation that must not run twice.
   * @defaultValue false
   */
  singleton?: boolean;
  /**
   * The type honours {@link ItemContext.dryRun}: with it set, it sends nothing and reports what it
   * would send. The sandbox runs operations only of types that declare it (any other would deliver).
   * @defaultValue false
   */
  dryRun?: boolean;
  /** zod schema of the type's own settings (every field described, every field defaulted). */
  settings: S;
  /**
   * Module URL that exports this definition (as `default` or by its variable name), so worker
   * threads can load it. Built-ins set `import.meta.url`.
   */
  module?: string;
  create(settings: z.output<S>, ctx: CreateContext): ItemHandler | Promise<ItemHandler>;
  /**
   * The item-type API this definition was built against ({@link ITEM_TYPE_API_VERSION} of the
   * SDK that defined it). Set by {@link defineItemType}; the engine checks its major number.
   */
  readonly apiVersion?: string;
}

/**
 * Define an item type: keeps `settings` typed in `create`, and stamps the definition with the
 * item-type API version it was built against ({@link ITEM_TYPE_API_VERSION}).
 */
export function defineItemType<S extends z.ZodType>(def: ItemTypeDefinition<S>): ItemTypeDefinition<S> {
  return { ...def, apiVersion: ITEM_TYPE_API_VERSION };
}

/** Whether items of a type run on one cluster node at a time: services, and types declaring `singleton`. */
export function isSingletonType(def: Pick<ItemTypeDefinition, 'kind' | 'singleton'> | undefined): boolean {
  return def?.kind === 'service' || def?.singleton === true;
}
