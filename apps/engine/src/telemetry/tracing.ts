/**
 * OpenTelemetry tracing of messages: one trace per message, a span per item hop (`receive`,
 * `queue`, `process`, `deliver`), exported over OTLP/HTTP (JSON) by a batch processor.
 *
 * - Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; the
 *   hot path then checks one boolean ({@link tracing}`.on`) and creates no span object.
 * - The trace id is the message's root id (a UUID's 32 hex digits, see `traceIdOf` in
 *   @hie/envelope), and the root span id its last 16 digits: the message viewer links a message
 *   to its trace, and a resend links to the original trace, with nothing stored.
 *   An `http.in` request carrying a `traceparent` continues that trace instead (its id is then
 *   kept in the stored header's `customProperties.traceparent`, which the viewer reads first).
 * - Context travels as a W3C `traceparent`: in the envelope's `customProperties.traceparent`
 *   (across the bus: a Redis stream entry also carries it as its `tp` field), and beside the
 *   envelope bytes to worker threads (`ctx.traceparent`, which `http.out` sends on).
 * - Attributes name the message (ids, type, control id), item, project and outcome; never a
 *   patient's data (no names, identifiers or bodies).
 */
import { type Attributes, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, TraceFlags, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { type MessageEnvelope, parseTraceparent, rootSpanIdOf, traceIdOf } from '@hie/envelope';

export type { Span } from '@opentelemetry/api';

/** The one boolean the hot path checks: no span is made while it is false. */
export const tracing = { on: false };

let tracer: Tracer | undefined;
let provider: BasicTracerProvider | undefined;

/** Ids the next root span takes (set just before `startSpan`, consumed by it). */
const next: { traceId?: string; spanId?: string } = {};
const random = new RandomIdGenerator();

/** Root spans get the message's own ids (see the module doc); everything else random ones. */
const messageIds: IdGenerator = {
  generateTraceId() {
    const id = next.traceId ?? random.generateTraceId();
    next.traceId = undefined;
    return id;
  },
  generateSpanId() {
    const id = next.spanId ?? random.generateSpanId();
    next.spanId = undefined;
    return id;
  },
};

/** Where traces go: the standard OTLP variables (read by the app's env.ts). */
export interface TracingConfig {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
}

/** A started tracer: flush its spans and stop it at shutdown. */
export interface TracingHandle {
  /** Export what is buffered (tests, a drain). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Start tracing when an OTLP endpoint is configured; `undefined` (tracing stays off) otherwise.
 * The exporter, the sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`) and the resource
 * (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) follow the standard variables.
 */
export function startTracing(cfg: TracingConfig, defaultService = 'hie-engine'): TracingHandle | undefined {
  if (!cfg.OTEL_EXPORTER_OTLP_ENDPOINT && !cfg.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (provider) return handle(provider);
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.OTEL_SERVICE_NAME ?? defaultService }).merge(detectResources({ detectors: [envDetector] }));
  provider = new BasicTracerProvider({
    resource,
    idGenerator: messageIds,
    // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT itself.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  tracer = provider.getTracer('hie-engine');
  tracing.on = true;
  return handle(provider);
}

function handle(p: BasicTracerProvider): TracingHandle {
  return {
    flush: () => p.forceFlush(),
    async shutdown() {
      if (provider !== p) return;
      tracing.on = false;
      tracer = undefined;
      provider = undefined;
      await p.forceFlush().catch(() => undefined);
      await p.shutdown();
    },
  };
}

/** What a span says of a message: ids, type, item, project. Never its content. */
export function messageAttributes(envelope: MessageEnvelope, item: string, project: string): Attributes {
  const h = envelope.header;
  const attrs: Attributes = { 'hie.message.id': h.messageId, 'hie.item': item, 'hie.project': project };
  if (h.sessionId && h.sessionId !== h.messageId) attrs['hie.message.root_id'] = h.sessionId;
  if (h.controlId) attrs['hie.message.control_id'] = h.controlId;
  if (h.messageType) attrs['hie.message.type'] = h.messageType;
  return attrs;
}

/** The W3C `traceparent` of a span (the context a hand-off carries). */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${c.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
}

/** The envelope's trace context for the next hop (see the module doc). */
export function carry(envelope: MessageEnvelope, span: Span): void {
  envelope.header.customProperties['traceparent'] = traceparentOf(span);
}

/** The trace context an envelope carries, if any (well-formed only). */
export function carried(envelope: MessageEnvelope): string | undefined {
  const tp = envelope.header.customProperties['traceparent'];
  return parseTraceparent(tp) ? (tp as string) : undefined;
}

function contextOf(traceparent: string | undefined) {
  const p = parseTraceparent(traceparent);
  if (!p) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: p.traceId, spanId: p.spanId, traceFlags: p.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
}

/**
 * The first span of a message (`receive` at a service, `resend` at the item a resend enters):
 * the root of the message's own trace, or a child of `parent` (an incoming `traceparent`).
 * `linkTo`: an earlier message whose trace this one follows (a resend's original).
 */
export function startMessageSpan(name: string, rootId: string, attrs: Attributes, opts: { parent?: string; linkTo?: string; kind?: SpanKind } = {}): Span {
  const t = tracer!;
  const links: Link[] = [];
  const linkTrace = opts.linkTo ? traceIdOf(opts.linkTo) : undefined;
  const linkSpan = opts.linkTo ? rootSpanIdOf(opts.linkTo) : undefined;
  if (linkTrace && linkSpan) links.push({ context: { traceId: linkTrace, spanId: linkSpan, traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { 'hie.link': 'resent_from' } });
  const parent = contextOf(opts.parent);
  if (parent) return t.startSpan(name, { kind: opts.kind ?? SpanKind.SERVER, attributes: attrs, links }, parent);
  next.traceId = traceIdOf(rootId);
  next.spanId = rootSpanIdOf(rootId);
  try {
    return t.startSpan(name, { kind: opts.kind ?? SpanKind.SERVER, attributes: attrs, links, root: true });
  } finally {
    next.traceId = undefined;
    next.spanId = undefined;
  }
}

/**
 * A hop's span, child of the hand-off's `parent` context. Without one (a message from before
 * tracing was on) it starts in the message's own trace, with no parent.
 */
export function startHopSpan(name: string, parent: string | undefined, rootId: string, attrs: Attributes, startTime?: number): Span {
  const ctx = contextOf(parent);
  if (ctx) return tracer!.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attrs, startTime }, ctx);
  next.traceId = traceIdOf(rootId);
  try {
    return tracer!.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attrs, startTime, root: true });
  } finally {
    next.traceId = undefined;
  }
}

/**
 * End a span with the hop's outcome (`delivered`, `discarded`, `failed`, `expired`, `queued`…);
 * an error adds its stable code (its message may quote the input, so it stays out).
 */
export function endSpan(span: Span, outcome: string, err?: { code?: string }): void {
  span.setAttribute('hie.outcome', outcome);
  if (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.code });
    if (err.code) span.setAttribute('hie.error.code', err.code);
  }
  span.end();
}

/** When a message waited since, as epoch milliseconds, from a `performance.now()` reading. */
export function epochMs(perfNow: number): number {
  return performance.timeOrigin + perfNow;
}
