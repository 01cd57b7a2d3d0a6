import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { itemSchema } from '@hie/config';
import type { Bus, ReplyFn } from '@hie/bus';
import type { ReportedItemStatus } from '@hie/cluster';
import { type MessageEnvelope, traceIdOf } from '@hie/envelope';
import type { HostPolicy } from '@hie/policy';
import { type ItemQueue } from '@hie/queues';
import { CircuitBreaker, TokenBucketRateLimiter, backoffDelay, createRestartPolicy } from '@hie/resilience';
import type { CreateContext, ItemHandler, ItemTypeDefinition, SubmitResult } from '../item-type';
import { type Dispatcher, MAX_BATCH, MainThreadDispatcher, type Outcome, PoolDispatcher, type TaskPool, messageLogBindings } from './dispatch';
import { ackDetail } from './envelopes';
import { EngineError, codeOf, ensureError, kindOf } from './errors';
import { settingsPriority, withPriority } from './priority';
import { ItemStats } from './stats';
import { type Tracker, rootId } from './tracker';
import type { EngineMetrics, ItemMetrics } from '../telemetry/metrics';
import { type Span, carried, carry, endSpan, epochMs, messageAttributes, startHopSpan, startMessageSpan, traceparentOf, tracing } from '../telemetry/tracing';

export type ItemSpec = z.output<typeof itemSchema>;

/** What sits in an item's queue. */
export interface QueueEntry {
  envelope: MessageEnvelope;
  reply?: ReplyFn;
  /** Retries already made: kept when an `unordered` item sets a retrying message aside. */
  attempt?: number;
  /** Retries already made against the error's own limit (`details.maxRetries`): kept likewise. */
  ownAttempt?: number;
  /** When it was queued (`performance.now()`): queue-wait metrics and span. */
  queuedAt?: number;
  /** The hand-off's W3C traceparent (tracing on): the parent of this hop's spans. */
  trace?: string;
}

/** A hop being traced: its span and how it ended. */
interface Hop {
  span: Span;
  outcome: string;
  code?: string;
}

export type HostState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Live figures of one item: the shape nodes report through the Coordinator, with exact states. */
export interface ItemStatus extends ReportedItemStatus {
  state: HostState;
  breaker: 'closed' | 'open' | 'half_open' | 'disabled';
}

/**
 * A retry handed to the cluster's job queue instead of an in-memory timer: it outlives this node,
 * and whichever node takes the job puts the message back in the item's queue with its attempts.
 */
export interface DeferredRetry {
  item: string;
  envelope: MessageEnvelope;
  /** Retries made so far against `messaging.retries`, and against the error's own limit. */
  attempt: number;
  ownAttempt: number;
  delayMs: number;
}

/** What a host needs from the engine. */
export interface HostDeps {
  production: string;
  /** The project id (`hie run`: the production name): the `project` of metrics and spans. */
  project: string;
  /** Prometheus metrics, when recorded (see EngineMetrics). */
  metrics?: EngineMetrics;
  bus: Bus;
  tracker: Tracker;
  log: Logger;
  queue: ItemQueue<QueueEntry>;
  targets(): readonly string[];
  /** A per-item Piscina pool (multiprocess) or the shared one (thread_pool). */
  pool(mode: 'multiprocess' | 'thread_pool', workers: number): { pool: TaskPool; owned: boolean };
  /** Module URL of the item type for worker threads. */
  moduleOf(type: string): string;
  /** What items may touch on the host (handed to every handler context, worker threads included). */
  policy: HostPolicy;
  /** Cluster mode: schedule an operation's retry as a delayed job (see {@link DeferredRetry}). */
  deferRetry?: (retry: DeferredRetry) => Promise<void>;
}

/** Sleep `ms`, cut short when `signal` aborts (a stopping host does not sit out a 60 s backoff). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((r) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      r();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * What a downstream said, carried by an error for the trace: the HL7 ACK (`details.ack`, set by
 * hl7.mllp.out), a FHIR server's OperationOutcome (`details.outcome`, fhir.http.out) or FHIR
 * validation issues (`details.issues`, hl7v2.to.fhir).
 */
function ackOf(details: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['ack', 'outcome', 'issues'] as const) if (details?.[key]) out[key] = details[key];
  return out;
}

/** Hand-off errors that were refusals (never queued), with the item that refused them. */
const refusedBy = new WeakMap<Error, string>();

/** Wait for a promise at most `ms`, without leaving a timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Settle with `p`, or reject with a retryable `engine.timeout` after `ms` (messaging.timeoutMs).
 * JavaScript cannot cancel the handler itself: its late result is dropped, the message has
 * already failed (or gone to a retry) by then.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new EngineError('engine.timeout', `${what} took longer than ${ms} ms (messaging.timeoutMs)`, 'operational', { timeoutMs: ms })), ms);
  });
  p.catch(() => undefined); // a handler failing after its timeout must not surface as unhandled
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}

/**
 * The runtime wrapper around one item: its handler, its worker slots reading the item's queue,
 * hooks, breaker, rate limiter and a supervisor applying the restart policy. The queue belongs to
 * the engine (it outlives a host replaced by a hot reload).
 */
export class Host {
  state: HostState = 'created';
  restarts = 0;
  /** The latest attempt failed and is being retried; cleared by the next success or final failure. */
  private retrying = false;
  inFlight = 0;
  readonly stats = new ItemStats();
  lastError?: { code: string; message: string; at: number };

  private handler?: ItemHandler;
  private dispatcher?: Dispatcher;
  private readonly breaker?: CircuitBreaker;
  private readonly limiter?: TokenBucketRateLimiter;
  private readonly restartPolicy;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private restarting = false;
  private stopRequested = false;
  /** `ctx.exit` called while the item was still starting: acted on once it runs. */
  private exitRequested?: string;
  readonly log: Logger;
  private readonly metrics?: ItemMetrics;

  constructor(
    readonly spec: ItemSpec,
    readonly def: ItemTypeDefinition,
    private readonly deps: HostDeps,
  ) {
    // A per-item log level (common settings) overrides the process's.
    this.log = deps.log.child({ item: spec.name }, spec.logLevel !== 'inherit' ? { level: spec.logLevel } : undefined);
    this.metrics = deps.metrics?.item(deps.project, spec.name);
    if (spec.circuitBreaker.enabled) {
      this.breaker = new CircuitBreaker({
        failureThreshold: spec.circuitBreaker.failureThreshold,
        resetTimeoutMs: spec.circuitBreaker.resetTimeoutMs,
        halfOpenTrials: spec.circuitBreaker.halfOpenTrials,
      });
      this.breaker.onStateChange((to, from) => this.log.warn({ from, to }, 'circuit breaker state change'));
    }
    if (spec.rateLimit.enabled) {
      this.limiter = new TokenBucketRateLimiter({ ratePerSecond: spec.rateLimit.ratePerSecond, burst: spec.rateLimit.burst });
    }
    this.restartPolicy = createRestartPolicy({
      policy: spec.restart.policy,
      maxRestarts: spec.restart.maxRestarts,
      windowMs: spec.restart.windowMs,
      delayMs: spec.restart.delayMs,
      backoffFactor: spec.restart.backoffFactor,
      maxDelayMs: spec.restart.maxDelayMs,
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get kind(): string {
    return this.def.kind;
  }

  /** Slots reading the queue concurrently. */
  private get slots(): number {
    const { mode, workers } = this.spec.execution;
    const concurrent = this.spec.messaging.pattern.startsWith('concurrent_') ? Math.max(1, this.spec.messaging.concurrency) : 1;
    if (mode === 'single_process') return 1;
    // Enough messages in flight to fill a batch per worker thread while the next ones gather (PoolDispatcher).
    if (mode === 'multiprocess') return workers * 2 * MAX_BATCH * concurrent;
    return workers * concurrent;
  }

  async start(): Promise<void> {
    this.state = 'starting';
    this.stopRequested = false;
    this.exitRequested = undefined;
    try {
      await this.createHandler();
      this.abort = new AbortController();
      setMaxListeners(0, this.abort.signal); // one abort listener per worker slot
      if (this.def.kind !== 'service') for (let i = 0; i < this.slots; i++) this.loops.push(this.loop(this.abort.signal));
      this.state = 'running';
      this.log.info({ type: this.def.type, mode: this.spec.execution.mode, slots: this.def.kind === 'service' ? 0 : this.slots }, 'item started');
      if (this.exitRequested !== undefined) void this.halt('exit', this.exitRequested);
    } catch (e) {
      const err = ensureError(e);
      this.noteError(err);
      this.log.error({ err }, 'item failed to start');
      await this.teardownHandler();
      this.state = 'failed';
      if (kindOf(err) === 'user') {
        // A configuration error (e.g. an unreadable TLS file) is not fixed by restarting: stay failed.
        this.log.error({ code: codeOf(err) }, 'item not restarted: fix its configuration and reload');
        return;
      }
      // Restarts run in the background: a failing item never holds up the rest of a deploy.
      void this.supervise('failure', err);
    }
  }

  private async createHandler(): Promise<void> {
    const settings = this.def.settings.parse(this.spec.settings);
    const mode = this.spec.execution.mode;
    if (this.def.kind !== 'service' && (mode === 'multiprocess' || mode === 'thread_pool')) {
      // The handler lives in the worker threads (created there on first use); none on this thread.
      const { pool, owned } = this.deps.pool(mode, this.spec.execution.workers);
      const dispatcher = new PoolDispatcher(
        pool,
        {
          production: this.deps.production,
          name: this.spec.name,
          type: this.spec.type,
          module: this.deps.moduleOf(this.spec.type),
          settings: this.spec.settings,
          targets: [...this.deps.targets()],
          policy: this.deps.policy,
          logLevel: this.spec.logLevel === 'inherit' ? this.log.level : this.spec.logLevel,
          key: `${this.deps.production}/${this.spec.name}/${JSON.stringify(this.spec.settings)}/${Date.now()}`,
        },
        owned,
      );
      this.dispatcher = dispatcher;
      await dispatcher.start(); // onStart in every worker: a failure fails the item's start
      return;
    }
    const ctx = this.serviceContext();
    this.handler = await this.def.create(settings, ctx);
    await this.handler.onStart?.(ctx);
    this.dispatcher = new MainThreadDispatcher(this.handler, this.baseContext());
  }

  private async teardownHandler(): Promise<void> {
    const handler = this.handler;
    this.handler = undefined;
    try {
      await handler?.onStop?.(this.serviceContext());
    } catch (e) {
      this.log.warn({ err: ensureError(e) }, 'onStop failed');
    }
    const errors = (await this.dispatcher?.close().catch((e: unknown) => [ensureError(e)])) ?? [];
    for (const err of errors) this.log.warn({ err }, 'onStop failed in a worker thread');
    this.dispatcher = undefined;
  }

  /**
   * Stop. With `drain` (item removed, production stopped) the queue is worked off first; without
   * (item replaced) only in-flight work finishes and the queue stays for the replacement.
   */
  async stop(opts: { drain?: boolean; timeoutMs?: number } = {}): Promise<void> {
    // Set first: a host that stopped on its own may be waiting to restart, and must not.
    this.stopRequested = true;
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    const timeoutMs = opts.timeoutMs ?? 30_000;
    if (wasRunning && opts.drain && this.def.kind !== 'service') {
      const deadline = Date.now() + timeoutMs;
      while ((this.deps.queue.depth > 0 || this.inFlight > 0) && Date.now() < deadline) await sleep(10);
    }
    this.abort.abort();
    await within(Promise.allSettled(this.loops), timeoutMs);
    this.loops = [];
    await this.teardownHandler();
    this.state = 'stopped';
    this.log.info({ queued: this.deps.queue.depth }, 'item stopped');
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const queue = this.deps.queue;
    while (!signal.aborted) {
      let entry: QueueEntry;
      try {
        entry = queue.tryTake() ?? (await queue.take(signal));
      } catch (_e) {
        return; // aborted or queue closed
      }
      if (this.expire(entry)) continue;
      this.inFlight++;
      try {
        await this.process(entry);
      } finally {
        this.inFlight--;
      }
    }
  }

  /** One message at this item: metrics and (tracing on) its queue and process/deliver spans around {@link work}. */
  private async process(entry: QueueEntry): Promise<void> {
    if (entry.queuedAt !== undefined) this.metrics?.queueWait.observe((performance.now() - entry.queuedAt) / 1000);
    if (!tracing.on) return this.work(entry);
    const attrs = messageAttributes(entry.envelope, this.name, this.deps.project);
    const root = rootId(entry.envelope);
    if (entry.queuedAt !== undefined) endSpan(startHopSpan(`queue ${this.name}`, entry.trace, root, attrs, epochMs(entry.queuedAt)), 'taken');
    const hop: Hop = { span: startHopSpan(`${this.kind === 'operation' ? 'deliver' : 'process'} ${this.name}`, entry.trace, root, attrs), outcome: 'requeued' };
    try {
      await this.work(entry, hop);
    } finally {
      endSpan(hop.span, hop.outcome, hop.code === undefined ? undefined : { code: hop.code });
    }
  }

  private async work(entry: QueueEntry, hop?: Hop): Promise<void> {
    const t0 = performance.now();
    const { tracker } = this.deps;
    const { messaging, circuitBreaker } = this.spec;
    // Two budgets: transport failures (refused connection, timeout) use `messaging.retries`
    // (null = until it succeeds); an error that names its own limit (`details.maxRetries`, e.g. a
    // downstream AE set to retry) counts against that limit on its own. An `unordered` item's
    // message set aside for its retry comes back with its attempts so far.
    let attempt = entry.attempt ?? 0;
    let ownAttempt = entry.ownAttempt ?? 0;
    for (;;) {
      // A half-open breaker's trial that fails must not use up the head message's retries.
      const trial = circuitBreaker.whenOpen === 'wait' && this.breaker?.state === 'half_open';
      try {
        if (this.limiter) await this.limiter.acquire(1);
        const dispatcher = this.dispatcher;
        if (!dispatcher) throw new EngineError('engine.item_stopped', `item ${this.name} is not running`, 'operational');
        const traceparent = hop && traceparentOf(hop.span);
        const run = () => withTimeout(dispatcher.run(entry.envelope, traceparent), messaging.timeoutMs, `item ${this.name}`);
        const outcome = this.breaker ? await this.breaker.execute(run) : await run();
        const downstream = await this.deliver(entry.envelope, outcome, hop?.span);
        const ms = performance.now() - t0;
        this.stats.record(ms, true);
        this.metrics?.processing.observe(ms / 1000);
        if (hop) hop.outcome = outcome.discarded !== undefined ? 'discarded' : 'delivered';
        if (outcome.discarded !== undefined) {
          this.stats.discarded++;
          tracker.event(entry.envelope, this.name, 'discarded', { ...outcome.detail, reason: outcome.discarded });
        } else {
          const ack = ackDetail(outcome.response);
          this.metrics?.delivered.inc();
          tracker.event(entry.envelope, this.name, 'delivered', ack ? { ...outcome.detail, ...ack } : outcome.detail);
        }
        // Delivered: the reason it was retrying is over (a real error, set by noteError, stays).
        if (this.retrying) this.lastError = undefined;
        this.retrying = false;
        entry.reply?.({ response: outcome.response ?? downstream });
        tracker.closed(entry.envelope, this.name);
        return;
      } catch (e) {
        const err = ensureError(e);
        const code = codeOf(err);
        const kind = kindOf(err);
        const stopping = this.stopRequested || this.abort.signal.aborted;
        if (code === 'resilience.circuit_open' && circuitBreaker.whenOpen === 'wait' && !stopping) {
          // Wait for the breaker to let a trial through; the message keeps its place, never vanishes.
          const retryAfter = Number((err as { details?: { retryAfterMs?: unknown } }).details?.retryAfterMs ?? 100);
          await sleep(Math.min(Math.max(retryAfter, 10), 1000), this.abort.signal);
          if (this.requeueIfStopping(entry)) return;
          continue;
        }
        const details = (err as { details?: Record<string, unknown> }).details;
        const ownLimit = typeof details?.maxRetries === 'number' ? details.maxRetries : undefined;
        const retryable = kind === 'operational' && code !== 'engine.item_stopped';
        const budgetLeft = ownLimit !== undefined ? ownAttempt < ownLimit : trial || messaging.retries === null || attempt < messaging.retries;
        if (stopping && (code === 'engine.item_stopped' || (retryable && budgetLeft) || code === 'resilience.circuit_open')) {
          // Replaced or stopping: put the entry back so the next host takes it (a retrying message is kept, not failed).
          this.requeue(entry);
          return;
        }
        if (retryable && budgetLeft) {
          if (ownLimit !== undefined) ownAttempt++;
          else if (!trial) attempt++;
          entry.envelope.header.retryCount++;
          // Why it retries (a downstream away), for the status ring, the inspector and alerts; not counted as an error.
          this.retrying = true;
          this.lastError = { code, message: err.message, at: Date.now() };
          const n = ownAttempt + attempt;
          tracker.event(entry.envelope, this.name, 'retry', { attempt: n, code, error: err.message, ...ackOf(details) });
          hop?.span.addEvent('retry', { attempt: n, 'hie.error.code': code });
          const delay = backoffDelay(Math.max(1, n), { delayMs: messaging.retryDelayMs, backoffFactor: 2, maxDelayMs: messaging.retryMaxDelayMs, jitter: 0.1 });
          if (n === 1 || delay >= messaging.retryMaxDelayMs) this.log.info({ ...messageLogBindings(entry.envelope, entry.trace), code, attempt: n, retryInMs: delay }, 'message will be retried');
          if (await this.defer(entry, attempt, ownAttempt, delay)) {
            if (hop) hop.outcome = 'retry_deferred';
            return;
          }
          if (this.setAside(entry, attempt, ownAttempt, delay)) {
            if (hop) hop.outcome = 'retry_later';
            return;
          }
          await sleep(delay, this.abort.signal);
          if (this.requeueIfStopping(entry)) return;
          continue;
        }
        const ms = performance.now() - t0;
        this.stats.record(ms, false);
        this.metrics?.processing.observe(ms / 1000);
        this.metrics?.failed.inc();
        if (hop) {
          hop.outcome = 'failed';
          hop.code = code;
        }
        this.retrying = false;
        this.noteError(err);
        tracker.event(entry.envelope, this.name, 'failed', { code, kind, error: err.message, attempt: attempt + ownAttempt, ...ackOf(details) });
        // A failed message is an operator's to act on (search by status `failed`, resend): say so.
        this.log.warn({ ...messageLogBindings(entry.envelope, entry.trace), code, kind, attempt: attempt + ownAttempt, error: err.message }, 'message failed');
        const response = (err as { response?: MessageEnvelope }).response;
        entry.reply?.(response ? { response } : { error: err });
        tracker.closed(entry.envelope, this.name);
        if (kind === 'unexpected') void this.halt('failure', err);
        return;
      }
    }
  }

  /** After a wait: a host told to stop hands the entry back to the queue instead of trying again. */
  private requeueIfStopping(entry: QueueEntry): boolean {
    if (!this.stopRequested && !this.abort.signal.aborted) return false;
    this.requeue(entry);
    return true;
  }

  /**
   * TTL: a message older than its header's ttl or this queue's `ttlMs` (both counted from its
   * creation) is not processed. It is recorded as `expired` (a finishing event: recovery never
   * replays it) and a waiting sender gets `engine.expired`.
   */
  private expire(entry: QueueEntry): boolean {
    const { envelope } = entry;
    const now = Date.now();
    const { ttlMs } = this.spec.queue;
    if (!envelope.isExpired(now) && !(ttlMs > 0 && now - envelope.header.timestamp > ttlMs)) return false;
    const ageMs = now - envelope.header.timestamp;
    this.stats.discarded++;
    this.metrics?.expired.inc();
    if (tracing.on && entry.queuedAt !== undefined) {
      endSpan(startHopSpan(`queue ${this.name}`, entry.trace, rootId(envelope), messageAttributes(envelope, this.name, this.deps.project), epochMs(entry.queuedAt)), 'expired');
    }
    this.deps.tracker.event(envelope, this.name, 'expired', { ageMs, ttlMs: envelope.header.ttl ?? ttlMs });
    entry.reply?.({ error: new EngineError('engine.expired', `message expired after ${ageMs} ms waiting for ${this.name}`, 'operational', { ageMs }) });
    this.deps.tracker.closed(envelope, this.name);
    return true;
  }

  /**
   * Cluster mode: an operation's retry becomes a delayed job, so it survives this node's death.
   * Not for `fifo` items (the message keeps the head of the queue, or the ones behind it would
   * overtake it: order per patient), nor when a sync sender waits for the reply here. If the
   * job cannot be scheduled (Redis down), the retry stays in memory: it is never dropped.
   */
  private async defer(entry: QueueEntry, attempt: number, ownAttempt: number, delayMs: number): Promise<boolean> {
    const defer = this.deps.deferRetry;
    if (!defer || this.def.kind !== 'operation' || entry.reply || this.deps.queue.type === 'fifo') return false;
    try {
      await defer({ item: this.name, envelope: entry.envelope, attempt, ownAttempt, delayMs });
    } catch (e) {
      this.log.warn({ err: ensureError(e), ...messageLogBindings(entry.envelope, entry.trace) }, 'could not schedule the retry as a cluster job: retrying in memory');
      return false;
    }
    this.deps.tracker.handedOver?.(entry.envelope);
    return true;
  }

  /**
   * `unordered`: a message waiting for its retry does not hold its worker. It is set aside and
   * put back at the end of the queue after its backoff, so the messages behind it overtake it
   * (a `fifo` item keeps it at the head instead). It counts as in flight meanwhile.
   */
  private setAside(entry: QueueEntry, attempt: number, ownAttempt: number, delayMs: number): boolean {
    if (this.deps.queue.type !== 'unordered') return false;
    entry.attempt = attempt;
    entry.ownAttempt = ownAttempt;
    this.inFlight++;
    // Cut short by a stop: the entry goes back before a reload replaces (and closes) the queue.
    void sleep(delayMs, this.abort.signal).then(() => {
      this.inFlight--;
      if (this.requeueIfStopping(entry)) return;
      // At the tail: the messages behind it overtake it (that is what `unordered` allows).
      entry.queuedAt = performance.now();
      this.deps.queue.put(entry, entry.envelope.header.priority).catch(() => this.requeue(entry));
    });
    return true;
  }

  private requeue(entry: QueueEntry): void {
    try {
      // Back at the head, so a FIFO item's next host takes it first: no overtaking across a reload.
      // It never waits for room (the entry already held a place): it only throws once the queue is closed.
      this.deps.queue.putBack(entry, entry.envelope.header.priority);
    } catch (e) {
      // The queue is gone: answer the sender so the message is not silently lost.
      const err = ensureError(e);
      this.deps.tracker.event(entry.envelope, this.name, 'failed', { code: codeOf(err), error: err.message });
      entry.reply?.({ error: err });
      this.deps.tracker.closed(entry.envelope, this.name);
    }
  }

  /** Send a handler's outputs on, following the item's messaging pattern. Returns the first downstream response. */
  private async deliver(input: MessageEnvelope, outcome: Outcome, span?: Span): Promise<MessageEnvelope | undefined> {
    if (outcome.outputs.length === 0) return undefined;
    const { pattern, timeoutMs } = this.spec.messaging;
    const sync = pattern === 'sync_reliable' || pattern === 'concurrent_sync';
    const parallel = pattern === 'concurrent_async' || pattern === 'concurrent_sync';
    const sends: { to: string; envelope: MessageEnvelope }[] = [];
    for (const out of outcome.outputs) {
      let env = out.envelope;
      if (env !== input) {
        env.header.sessionId ??= rootId(input);
        env.header.source = this.name;
      }
      env = withPriority(env, out.priority ?? settingsPriority(this.spec.priority, env), env === input);
      for (const to of out.to ?? this.deps.targets()) sends.push({ to, envelope: env });
    }
    return this.sendAll(sends, sync, parallel, timeoutMs, span);
  }

  private async sendAll(
    sends: { to: string; envelope: MessageEnvelope }[],
    sync: boolean,
    parallel: boolean,
    timeoutMs: number,
    span?: Span,
  ): Promise<MessageEnvelope | undefined> {
    const { bus, tracker } = this.deps;
    const one = async (s: { to: string; envelope: MessageEnvelope }) => {
      tracker.opened(s.envelope);
      // The receiver takes the context when it queues the envelope (synchronously, in-process).
      if (span) carry(s.envelope, span);
      let queued = false;
      // `queued` is recorded when the target takes the envelope, not when a sync response comes
      // back: after the target's `delivered` it would leave a finished message showing `queued`.
      const onQueued = () => {
        queued = true;
        tracker.event(s.envelope, s.to, 'queued', { from: this.name });
      };
      try {
        return await bus.deliver(s.to, s.envelope, { expectResponse: sync, timeoutMs, onQueued });
      } catch (e) {
        // Refused (never queued): no one else will close this branch, so close it here, or the
        // message stays unfinished and recovery delivers it after a restart. A sync timeout is
        // not a refusal: the target still holds the message and closes the branch itself.
        if (!queued && codeOf(e) !== 'bus.timeout') {
          if (e instanceof Error) refusedBy.set(e, s.to);
          tracker.closed(s.envelope, s.to);
        }
        throw e;
      }
    };
    if (parallel) {
      const results = await Promise.all(sends.map(one));
      return results.find((r) => r !== undefined);
    }
    let first: MessageEnvelope | undefined;
    for (const s of sends) {
      const r = await one(s);
      first ??= r;
    }
    return first;
  }

  private noteError(err: Error): void {
    this.lastError = { code: codeOf(err), message: err.message, at: Date.now() };
  }

  /**
   * The item went down while running: a handler crashed (an unexpected error: `failed`) or it
   * stopped on its own (`ctx.exit`: `stopped`). Either way its queue is kept and the restart
   * policy decides: `on_failure` restarts only the first, `always` both.
   */
  private async halt(event: 'failure' | 'exit', cause: Error | string): Promise<void> {
    if (this.restarting || this.stopRequested || this.state !== 'running') return;
    this.restarting = true;
    if (event === 'failure') this.log.error({ err: cause }, 'item crashed');
    else this.log.info({ reason: cause }, 'item stopped on its own');
    this.abort.abort();
    await Promise.allSettled(this.loops);
    this.loops = [];
    await this.teardownHandler();
    this.state = event === 'failure' ? 'failed' : 'stopped';
    this.restarting = false;
    await this.supervise(event, cause);
  }

  private async supervise(event: 'failure' | 'exit', cause: Error | string): Promise<void> {
    const decision = this.restartPolicy.decide(event);
    if (!decision.restart) {
      const why = typeof cause === 'string' ? { exit: cause } : { code: codeOf(cause) };
      if (event === 'failure') this.log.error({ reason: decision.reason, ...why }, 'item not restarted');
      else this.log.info({ reason: decision.reason, ...why }, 'item not restarted');
      return;
    }
    this.log.warn({ delayMs: decision.delayMs, attempt: decision.attempt }, 'restarting item');
    await sleep(decision.delayMs);
    if (this.stopRequested) return;
    this.restarts++;
    await this.start();
  }

  status(): ItemStatus {
    return {
      name: this.name,
      type: this.spec.type,
      kind: this.def.kind,
      state: this.state,
      enabled: this.spec.enabled,
      queueDepth: this.deps.queue.depth,
      inFlight: this.inFlight,
      processed: this.stats.processed,
      errors: this.stats.errors,
      discarded: this.stats.discarded,
      restarts: this.restarts,
      latencyP50Ms: this.stats.percentile(50),
      latencyP99Ms: this.stats.percentile(99),
      throughputPerSec: this.stats.throughput(),
      breaker: this.breaker ? this.breaker.state : 'disabled',
      lastError: this.lastError,
      ...(this.retrying ? { retrying: true } : {}),
      details: this.handler?.info?.(),
    };
  }

  private baseContext() {
    const deps = this.deps;
    return {
      itemName: this.spec.name,
      production: deps.production,
      get targets() {
        return deps.targets();
      },
      log: this.log,
      policy: deps.policy,
    };
  }

  /** The context services use to hand received messages to the engine. */
  private serviceContext(): CreateContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context object's methods need the host, not themselves
    const host = this;
    const deps = this.deps;
    const { pattern, timeoutMs } = this.spec.messaging;
    return {
      ...this.baseContext(),
      get targets() {
        return deps.targets();
      },
      hasStore: deps.tracker.hasStore,
      send() {
        throw new EngineError('engine.misuse', 'ctx.send is for onMessage; services use ctx.submit', 'unexpected');
      },
      discard() {
        throw new EngineError('engine.misuse', 'ctx.discard is for onMessage', 'unexpected');
      },
      note() {
        throw new EngineError('engine.misuse', 'ctx.note is for onMessage', 'unexpected');
      },
      async refuse(raw, refusal) {
        const bytes = Math.max(refusal.totalBytes ?? 0, raw.byteLength);
        try {
          host.metrics?.refused.inc();
          const messageId = await deps.tracker.refused(raw, host.name, refusal);
          host.log.warn({ reason: refusal.reason, error: refusal.error, bytes, messageId, traceId: messageId && traceIdOf(messageId), ...refusal.detail }, 'refused input kept as a refused message');
          return messageId;
        } catch (e) {
          host.log.error({ err: ensureError(e), reason: refusal.reason, bytes, ...refusal.detail }, 'could not store refused input');
          return undefined;
        }
      },
      exit(reason) {
        if (host.state === 'starting') host.exitRequested = reason;
        else void host.halt('exit', reason);
      },
      async submit(envelope, opts = {}): Promise<SubmitResult> {
        const t0 = performance.now();
        if (host.state !== 'running' && host.state !== 'starting') {
          throw new EngineError('engine.item_stopped', `item ${host.name} is not running`, 'operational');
        }
        envelope.header.sessionId ??= envelope.header.messageId;
        envelope.header.source = host.name;
        envelope.header.priority = settingsPriority(host.spec.priority, envelope) ?? envelope.header.priority;
        if (host.limiter) await host.limiter.acquire(1);
        const m = host.metrics;
        if (m) {
          m.received.inc();
          m.receivedNow();
        }
        // Tracing on: the message's trace starts here (or continues an incoming traceparent), before
        // the raw-first write, so the stored header names the trace.
        const span = tracing.on
          ? startMessageSpan(`receive ${host.name}`, rootId(envelope), messageAttributes(envelope, host.name, deps.project), { parent: carried(envelope) })
          : undefined;
        if (span) carry(envelope, span);
        let outcome = 'failed';
        // Raw-first: the store write starts before the hand-off.
        const stored = deps.tracker.received(envelope, host.name);
        const wait = opts.wait ?? 'queued';
        if (wait === 'stored') await stored;
        else stored.catch((e: unknown) => host.log.error({ err: ensureError(e), ...messageLogBindings(envelope, carried(envelope)) }, 'store write failed'));
        const sync = wait === 'response' || pattern === 'sync_reliable' || pattern === 'concurrent_sync';
        const parallel = pattern === 'concurrent_async' || pattern === 'concurrent_sync';
        const targets = deps.targets();
        deps.tracker.opened(envelope);
        try {
          let response: MessageEnvelope | undefined;
          if (targets.length === 0) {
            deps.tracker.event(envelope, host.name, 'discarded', { reason: 'no connected targets' });
            host.stats.discarded++;
            outcome = 'discarded';
          } else {
            response = await host.sendAll(
              targets.map((to) => ({ to, envelope })),
              sync,
              parallel,
              timeoutMs,
              span,
            );
            outcome = 'queued';
          }
          host.stats.record(performance.now() - t0, true);
          return { messageId: envelope.header.messageId, response };
        } catch (e) {
          const err = ensureError(e);
          host.stats.record(performance.now() - t0, false);
          host.noteError(err);
          // A refused hand-off failed at the item that refused it (where an operator resends it), not at this service.
          const to = refusedBy.get(err);
          deps.tracker.event(envelope, to ?? host.name, 'failed', { code: codeOf(err), error: err.message, ...(to ? { from: host.name, refused: true } : {}) });
          if (span) span.setAttribute('hie.error.code', codeOf(err));
          throw err;
        } finally {
          if (span) endSpan(span, outcome);
          deps.tracker.closed(envelope, host.name);
        }
      },
    };
  }
}
