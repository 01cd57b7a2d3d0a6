import { z } from 'zod';

/**
 * The settings every item has, whatever its type. Each field has a description and a default:
 * the portal builds its forms from the JSON Schema of these schemas, the manager uses them as
 * tRPC inputs and the engine parses them again at deploy. Objects are strict (a misspelt key is
 * an error, not silently dropped) and default to `{}` filled with their fields' defaults.
 */

/** Upper bound on workers per item. */
export const MAX_WORKERS = 64;
/** Upper bound on an item queue's size. */
export const MAX_QUEUE_SIZE = 10_000_000;

/** How an item's handler runs. */
export const executionModes = ['async', 'multiprocess', 'thread_pool', 'single_process'] as const;
/** Execution mode of an item: see {@link executionSchema}. */
export type ExecutionMode = (typeof executionModes)[number];

/**
 * Execution settings: where and how many at a time an item's handler runs.
 *
 * @defaultValue `{ mode: 'async', workers: 1 }`
 */
export const executionSchema = z
  .strictObject({
    mode: z
      .enum(executionModes)
      .default('async')
      .describe(
        'Where the handler runs: async (event loop, N concurrent slots), multiprocess (own pool of worker threads), thread_pool (shared worker pool, for blocking handlers), single_process (one message at a time, in order, on the main thread: for debugging).',
      ),
    workers: z
      .int()
      .min(1)
      .max(MAX_WORKERS)
      .default(1)
      .describe('Number of workers (async slots or worker threads) handling messages in parallel.'),
  })
  .describe('Execution: where and how many at a time the handler runs.');

/**
 * An HL7 v2 field path as @hie/hl7 reads it (`SEG[n]-F[r].C.S`): `PID-3.1`, `OBX[2]-5[2].1`. The
 * field is required here: a partition key is a value, not a whole segment.
 */
const HL7_FIELD_PATH = /^[A-Z][A-Z0-9]{2}(\[[1-9]\d{0,3}\])?-[1-9]\d{0,3}(\[[1-9]\d{0,3}\])?(\.[1-9]\d{0,3}){0,2}$/;

/** Queue order of an item. */
export const queueTypes = ['fifo', 'priority', 'lifo', 'unordered'] as const;
/** Queue order: see {@link queueSchema}. */
export type QueueType = (typeof queueTypes)[number];
/** What a full queue does with a new message. */
export const overflowStrategies = ['block', 'drop_oldest', 'reject_new'] as const;
/** Overflow strategy: see {@link queueSchema}. */
export type OverflowStrategy = (typeof overflowStrategies)[number];

/**
 * Queue settings: the item's inbound queue.
 *
 * @defaultValue `{ type: 'fifo', size: 10000, overflow: 'block', ttlMs: 0, partitionKey: 'PID-3.1' }`
 */
export const queueSchema = z
  .strictObject({
    type: z
      .enum(queueTypes)
      .default('fifo')
      .describe(
        'Queue order: fifo (arrival order), priority (envelope priority 0-9 first, then arrival order), lifo (newest first), unordered (no order guarantee: a message waiting for a retry is set aside and the ones behind it overtake it).',
      ),
    size: z
      .int()
      .min(1)
      .max(MAX_QUEUE_SIZE)
      .default(10_000)
      .describe('Maximum number of messages waiting in the queue.'),
    overflow: z
      .enum(overflowStrategies)
      .default('block')
      .describe(
        'When the queue is full: block (push back on the sender, e.g. an MLLP listener stops reading), drop_oldest (discard the oldest waiting message, recorded as discarded), reject_new (refuse the new message; the sender gets an error).',
      ),
    ttlMs: z
      .int()
      .min(0)
      .default(0)
      .describe(
        "Time to live, in milliseconds from the message's creation: a message taken from this queue when older is not processed but recorded as expired (and its sender told). A ttl in the message header applies as well. 0 = messages never expire here.",
      ),
    partitionKey: z
      .string()
      .regex(HL7_FIELD_PATH, 'an HL7 field path such as PID-3.1')
      .default('PID-3.1')
      .describe(
        'Cluster, fifo queues: the HL7 field whose value keeps messages in order (one node at a time handles each value, in arrival order; different values run in parallel on several nodes). PID-3.1 is the patient identifier. A single node keeps every fifo queue in arrival order anyway.',
      ),
  })
  .describe("Queue: the item's inbound queue.");

/** When a failed item is restarted. */
export const restartPolicies = ['never', 'on_failure', 'always'] as const;
/** Restart policy: see {@link restartSchema}. */
export type RestartPolicy = (typeof restartPolicies)[number];

/**
 * Restart settings: what the supervisor does when the item's host fails.
 *
 * @defaultValue `{ policy: 'on_failure', maxRestarts: 5, delayMs: 1000, windowMs: 60000, backoffFactor: 2, maxDelayMs: 30000 }`
 */
export const restartSchema = z
  .strictObject({
    policy: z
      .enum(restartPolicies)
      .default('on_failure')
      .describe('When to restart the item: never, on_failure (after a crash), always (also after a clean stop).'),
    maxRestarts: z
      .int()
      .min(0)
      .default(5)
      .describe('Maximum restarts within windowMs before the item is left stopped in error. 0 = never restart.'),
    delayMs: z.int().min(0).default(1000).describe('Delay before the first restart, in milliseconds.'),
    windowMs: z
      .int()
      .min(1)
      .default(60_000)
      .describe('Sliding window, in milliseconds, over which restarts are counted against maxRestarts.'),
    backoffFactor: z
      .number()
      .min(1)
      .max(10)
      .default(2)
      .describe('Each further restart waits this many times longer than the previous one (1 = constant delay).'),
    maxDelayMs: z.int().min(0).default(30_000).describe('Upper bound on the restart delay, in milliseconds.'),
  })
  .describe('Restart: what the supervisor does when the item fails.');

/** How messages are handed to the item and acknowledged. */
export const messagingPatterns = ['async_reliable', 'sync_reliable', 'concurrent_async', 'concurrent_sync'] as const;
/** Messaging pattern: see {@link messagingSchema}. */
export type MessagingPattern = (typeof messagingPatterns)[number];

/**
 * Messaging settings: how messages are handed to the item, timed out and retried.
 *
 * @defaultValue `{ pattern: 'async_reliable', timeoutMs: 30000, concurrency: 1, retries: null (forever), retryDelayMs: 1000, retryMaxDelayMs: 60000 }`
 */
export const messagingSchema = z
  .strictObject({
    pattern: z
      .enum(messagingPatterns)
      .default('async_reliable')
      .describe(
        'async_reliable (queued, stored, at-least-once; the sender does not wait), sync_reliable (the sender waits for the result, one at a time, in order), concurrent_async (like async_reliable with up to concurrency messages in flight, order not kept), concurrent_sync (like sync_reliable with up to concurrency in flight).',
      ),
    timeoutMs: z
      .int()
      .min(1)
      .default(30_000)
      .describe('Time allowed to process one message, in milliseconds; then it fails as a timeout (retryable).'),
    concurrency: z
      .int()
      .min(1)
      .max(1024)
      .default(1)
      .describe('Messages in flight at once for the concurrent_* patterns (ignored by the others).'),
    retries: z
      .int()
      .min(0)
      .nullable()
      .default(null)
      .describe(
        'Retries of a message after a retryable (operational) error such as a refused connection or a timeout; empty (the default) = retry until it succeeds, as a hospital interface expects after an outage. A number is an explicit limit: then the message fails. User errors (e.g. a downstream AR) are never retried.',
      ),
    retryDelayMs: z.int().min(0).default(1000).describe('Delay before the first retry, in milliseconds; each further retry waits twice as long, up to retryMaxDelayMs.'),
    retryMaxDelayMs: z.int().min(0).default(60_000).describe('Longest delay between two retries of a message, in milliseconds.'),
  })
  .describe('Messaging: how messages are handed to the item, timed out and retried.');

/** What callers of an item with an open circuit get. */
export const circuitOpenBehaviours = ['wait', 'fail'] as const;
/** Behaviour with an open circuit: see {@link circuitBreakerSchema}. */
export type CircuitOpenBehaviour = (typeof circuitOpenBehaviours)[number];

/**
 * Circuit breaker settings: stop calling a failing downstream for a while.
 *
 * @defaultValue `{ enabled: false, failureThreshold: 5, resetTimeoutMs: 30000, halfOpenTrials: 1, whenOpen: 'wait' }`
 */
export const circuitBreakerSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Use a circuit breaker for this item.'),
    failureThreshold: z
      .int()
      .min(1)
      .default(5)
      .describe('Consecutive failures that open the circuit.'),
    resetTimeoutMs: z
      .int()
      .min(1)
      .default(30_000)
      .describe('How long the circuit stays open before trial messages are let through, in milliseconds.'),
    halfOpenTrials: z
      .int()
      .min(1)
      .default(1)
      .describe('Trial messages that must succeed, while half-open, to close the circuit again.'),
    whenOpen: z
      .enum(circuitOpenBehaviours)
      .default('wait')
      .describe('While open: wait (messages stay queued until the circuit closes) or fail (messages fail at once with a retryable error).'),
  })
  .describe('Circuit breaker: stop calling a failing downstream for a while.');

/**
 * Rate limit settings: a token bucket in front of the item's handler.
 *
 * @defaultValue `{ enabled: false, ratePerSecond: 100, burst: 100 }`
 */
export const rateLimitSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Limit the rate at which this item processes messages.'),
    ratePerSecond: z
      .number()
      .positive()
      .max(1_000_000)
      .default(100)
      .describe('Sustained rate, in messages per second.'),
    burst: z
      .int()
      .min(1)
      .default(100)
      .describe('Messages that may be processed at once above the sustained rate (bucket size).'),
  })
  .describe('Rate limit: a token bucket in front of the handler.');

/** Lowest message priority. */
export const MIN_MESSAGE_PRIORITY = 0;
/** Highest message priority (served first by `priority` queues). */
export const MAX_MESSAGE_PRIORITY = 9;
const priorityValue = z.int().min(MIN_MESSAGE_PRIORITY).max(MAX_MESSAGE_PRIORITY);

/**
 * Priority settings: the envelope priority (0–9) of the messages this item sends on, which
 * `priority` queues downstream order by. A router rule's own `priority` wins over these.
 *
 * @defaultValue `{ from: 'message', value: 5, field: 'MSH-11', map: {} }` (messages keep the priority they have)
 */
export const prioritySchema = z
  .strictObject({
    from: z
      .enum(['message', 'value', 'field'])
      .default('message')
      .describe('Where the priority comes from: message (keep the priority the message has), value (the fixed value below), field (the HL7 field below, through map; value when it is not listed).'),
    value: priorityValue
      .default(5)
      .describe('Priority, 0 (lowest) … 9 (highest): given to every message (from value), or to those whose field is not in map (from field).'),
    field: z
      .string()
      .min(1)
      .default('MSH-11')
      .describe('HL7 path whose value decides the priority (from field), e.g. MSH-11 (processing id): looked up in map, or taken as is when it is a single digit 0-9.'),
    map: z
      .record(z.string(), priorityValue)
      .default({})
      .describe('Field value → priority (from field), e.g. { "P": 8, "T": 2 } for MSH-11.'),
  })
  .describe('Priority: the envelope priority of the messages this item sends on (priority queues serve 9 first).');

/**
 * Whether the item runs.
 *
 * @defaultValue `true`
 */
export const enabledSchema = z
  .boolean()
  .default(true)
  .describe('Run this item. A disabled item is deployed but not started; messages sent to it stay queued.');

/**
 * The item's log level: `inherit` follows the process's (HIE_LOG_LEVEL); another level applies
 * to this item's lines only (e.g. `debug` on one interface while investigating it).
 *
 * @defaultValue `'inherit'`
 */
export const logLevelSchema = z
  .enum(['inherit', 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('inherit')
  .describe("This item's log level: inherit (the process's HIE_LOG_LEVEL), or a level for this item's lines only.");

/** The shape shared by {@link commonSettingsSchema} and the item schema. */
export const commonSettingsShape = {
  execution: executionSchema.prefault({}),
  queue: queueSchema.prefault({}),
  restart: restartSchema.prefault({}),
  messaging: messagingSchema.prefault({}),
  circuitBreaker: circuitBreakerSchema.prefault({}),
  rateLimit: rateLimitSchema.prefault({}),
  priority: prioritySchema.prefault({}),
  enabled: enabledSchema,
  logLevel: logLevelSchema,
};

/**
 * All common item settings together; `{}` parses to every default.
 *
 * @defaultValue every field at its default
 */
export const commonSettingsSchema = z
  .strictObject(commonSettingsShape)
  .describe('Settings every item has, whatever its type.');

/** Execution settings after defaults. */
export type ExecutionSettings = z.output<typeof executionSchema>;
/** Execution settings as written (every field optional). */
export type ExecutionSettingsInput = z.input<typeof executionSchema>;
/** Queue settings after defaults. */
export type QueueSettings = z.output<typeof queueSchema>;
/** Queue settings as written. */
export type QueueSettingsInput = z.input<typeof queueSchema>;
/** Restart settings after defaults. */
export type RestartSettings = z.output<typeof restartSchema>;
/** Restart settings as written. */
export type RestartSettingsInput = z.input<typeof restartSchema>;
/** Messaging settings after defaults. */
export type MessagingSettings = z.output<typeof messagingSchema>;
/** Messaging settings as written. */
export type MessagingSettingsInput = z.input<typeof messagingSchema>;
/** Circuit breaker settings after defaults. */
export type CircuitBreakerSettings = z.output<typeof circuitBreakerSchema>;
/** Circuit breaker settings as written. */
export type CircuitBreakerSettingsInput = z.input<typeof circuitBreakerSchema>;
/** Rate limit settings after defaults. */
export type RateLimitSettings = z.output<typeof rateLimitSchema>;
/** Rate limit settings as written. */
export type RateLimitSettingsInput = z.input<typeof rateLimitSchema>;
/** Priority settings after defaults. */
export type PrioritySettings = z.output<typeof prioritySchema>;
/** All common settings after defaults. */
export type CommonSettings = z.output<typeof commonSettingsSchema>;
/** All common settings as written. */
export type CommonSettingsInput = z.input<typeof commonSettingsSchema>;
