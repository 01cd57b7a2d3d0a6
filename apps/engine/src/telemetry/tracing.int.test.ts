import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageEnvelope, rootSpanIdOf, traceIdOf, uuidv7 } from '@hie/envelope';
import { InProcessCoordinator } from '@hie/cluster';
import { storedEnvelope } from '../runtime/envelopes';
import { manualServices, sink, sinks, testItemTypes } from '../testing/test-items';
import { EngineNode } from '../node';
import { redisStreamsBusFor } from '../runtime/cluster-bus';
import { MemoryTracker } from '../runtime/tracker';
import { createEngine } from '../engine-node';
import type { ProductionEngine } from '../runtime/production-engine';
import { connectMllp } from '../testing/mllp-client';
import { MllpDownstream } from '../testing/mllp-downstream';
import { freePort, testPolicy, until } from '../testing/helpers';
import { startTracing, type TracingHandle } from './tracing';

/** An OTLP span as the OTLP/HTTP JSON export writes it. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: number } }[];
  links?: { traceId: string; spanId: string }[];
}

/** A collector on a real socket: keeps every export's raw text and its spans. */
class OtlpReceiver {
  readonly bodies: string[] = [];
  readonly spans: OtlpSpan[] = [];
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const text = body.toString('utf8');
        this.bodies.push(text);
        const json = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of json.resourceSpans) for (const ss of rs.scopeSpans) this.spans.push(...ss.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue;
};

const log = pino({ level: 'silent' });
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const receiver = new OtlpReceiver();
let tracing: TracingHandle;
let engine: ProductionEngine | undefined;

beforeAll(async () => {
  await receiver.start();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${receiver.port}`;
  process.env.OTEL_SERVICE_NAME = 'hie-trace-test';
  tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT })!;
});

afterAll(async () => {
  await tracing.shutdown();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_SERVICE_NAME;
  await receiver.stop();
});

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  sinks.clear();
  manualServices.clear();
});

/** The spans of one trace, by name (each name once). */
function traceOf(traceId: string): Map<string, OtlpSpan> {
  return new Map(receiver.spans.filter((s) => s.traceId === traceId).map((s) => [s.name, s]));
}

describe('OpenTelemetry traces', () => {
  it('one message across MLLP in → router (multiprocess) → MLLP out is one trace: a span per hop, linked parent to child, no patient data', async () => {
    const downstream = new MllpDownstream(await freePort());
    await downstream.up();
    engine = createEngine({ log, policy: testPolicy(), project: 'proj-trace' }).engine;
    await engine.apply({
      name: 'traced',
      items: [
        { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: 0 } },
        { name: 'Route', type: 'hl7.router', execution: { mode: 'multiprocess', workers: 1 }, settings: { otherwise: 'send_all', rules: [] } },
        { name: 'Out', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: downstream.port } },
      ],
      connections: [
        { from: 'In', to: 'Route' },
        { from: 'Route', to: 'Out' },
      ],
    });
    const port = Number(engine.status().items.find((i) => i.name === 'In')!.details!.port);
    const client = await connectMllp(port);
    const message = 'MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ADT^A01|CTRL-7731|P|2.5\rPID|1||MRN778899^^^HOSP^MR||ZEBEDEE^QUENTIN||19700101|M\r';
    expect(await client.send(message)).toContain('MSA|AA|CTRL-7731');
    client.close();
    await until(() => downstream.received.length === 1);
    await engine.idle();
    await tracing.flush();
    await until(() => receiver.spans.some((s) => s.name === 'deliver Out'));

    const receive = receiver.spans.find((s) => s.name === 'receive In')!;
    const messageId = String(attr(receive, 'hie.message.id'));
    // The trace id is the message id (and the root span id its last 16 hex digits): the viewer links it.
    expect(receive.traceId).toBe(traceIdOf(messageId));
    expect(receive.spanId).toBe(rootSpanIdOf(messageId));
    expect(receive.parentSpanId ?? '').toBe('');
    const spans = traceOf(receive.traceId);
    expect([...spans.keys()].sort()).toEqual(['deliver Out', 'process Route', 'queue Out', 'queue Route', 'receive In']);
    const parentOf = (name: string) => spans.get(name)!.parentSpanId;
    expect(parentOf('queue Route')).toBe(receive.spanId);
    expect(parentOf('process Route')).toBe(receive.spanId);
    expect(parentOf('queue Out')).toBe(spans.get('process Route')!.spanId);
    expect(parentOf('deliver Out')).toBe(spans.get('process Route')!.spanId);
    for (const [name, s] of spans) {
      expect(attr(s, 'hie.message.id'), name).toBe(messageId);
      expect(attr(s, 'hie.message.control_id'), name).toBe('CTRL-7731');
      expect(attr(s, 'hie.message.type'), name).toBe('ADT^A01');
      expect(attr(s, 'hie.project'), name).toBe('proj-trace');
      expect(attr(s, 'hie.item'), name).toBe(name.split(' ')[1]);
    }
    expect(attr(spans.get('receive In')!, 'hie.outcome')).toBe('queued');
    expect(attr(spans.get('process Route')!, 'hie.outcome')).toBe('delivered');
    expect(attr(spans.get('deliver Out')!, 'hie.outcome')).toBe('delivered');
    // No patient data anywhere in what was exported: not the name, not the MRN, not the body.
    const exported = receiver.bodies.join('\n');
    for (const phi of ['ZEBEDEE', 'QUENTIN', 'MRN778899', '19700101', 'PID|']) expect(exported).not.toContain(phi);
    await downstream.down();
  });

  it('a resent message starts its own trace, linked to the original message’s trace', async () => {
    engine = createEngine({ log, plugins: testItemTypes, policy: testPolicy(), project: 'proj-resend' }).engine;
    await engine.apply({ name: 'resend', items: [{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect' }], connections: [{ from: 'In', to: 'Out' }] });
    const original = uuidv7();
    const copy = storedEnvelope(uuidv7(), new TextEncoder().encode('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|RS1|P|2.5\r'), 'application/hl7-v2+er7', 'resend');
    copy.header.parentId = original;
    await engine.inject('Out', copy);
    await engine.idle();
    await tracing.flush();
    const traceId = traceIdOf(copy.header.messageId)!;
    await until(() => receiver.spans.some((s) => s.traceId === traceId && s.name === 'deliver Out'));
    const spans = traceOf(traceId);
    const resend = spans.get('resend Out')!;
    expect(resend.links?.map((l) => [l.traceId, l.spanId])).toEqual([[traceIdOf(original), rootSpanIdOf(original)]]);
    expect(spans.get('deliver Out')!.parentSpanId).toBe(resend.spanId);
  });

  it('the context crosses the Redis Streams bus (cluster mode): the consuming hop is the child of the sender’s span', async () => {
    const prefix = `test-${randomUUID()}`;
    const coordinator = new InProcessCoordinator();
    const node = new EngineNode({
      coordinator,
      log,
      nodeId: 'n1',
      plugins: testItemTypes,
      policy: testPolicy(),
      trackerFor: () => new MemoryTracker(),
      busFor: redisStreamsBusFor({ redis: REDIS_URL, clusterPrefix: prefix, blockMs: 100 }),
    });
    node.start();
    const admin = new Redis(REDIS_URL);
    try {
      await coordinator.setDesired({
        projectId: 'proj-bus',
        workspaceId: 'w',
        production: 'bus',
        version: 1,
        state: 'running',
        spec: { name: 'bus', items: [{ name: 'In', type: 'test.manual_in' }, { name: 'Out', type: 'test.collect' }], connections: [{ from: 'In', to: 'Out' }] },
        updatedAt: Date.now(),
      });
      await until(() => manualServices.has('In'));
      const env = MessageEnvelope.createHl7('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|BUS1|P|2.5\rPID|1||MRN55^^^H||DOE^J\r', { source: 'In' });
      const { messageId } = await manualServices.get('In')!.submit(env);
      await until(() => sink('Out').length === 1);
      // The hand-off went through a stream entry carrying the sender's context in its `tp` field.
      const keys = await admin.keys(`${prefix}:*Out*`);
      const entries = (await Promise.all(keys.filter((k) => !k.endsWith(':dead')).map(async (k) => ((await admin.type(k)) === 'stream' ? ((await admin.xrange(k, '-', '+')) as [string, string[]][]) : [])))).flat();
      expect(entries.some(([, f]) => f.includes('tp'))).toBe(true);
      await tracing.flush();
      const traceId = traceIdOf(messageId)!;
      await until(() => receiver.spans.some((s) => s.traceId === traceId && s.name === 'deliver Out'));
      const spans = traceOf(traceId);
      expect(spans.get('deliver Out')!.parentSpanId).toBe(spans.get('receive In')!.spanId);
      expect(spans.get('queue Out')!.parentSpanId).toBe(spans.get('receive In')!.spanId);
      expect(attr(spans.get('deliver Out')!, 'hie.project')).toBe('proj-bus');
    } finally {
      await node.stop();
      await coordinator.close();
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length) await admin.del(...keys);
      await admin.quit();
      sinks.clear();
      manualServices.clear();
    }
  });

  it('http.in continues an incoming traceparent, and http.out (in a worker thread) sends the context of its own span', async () => {
    const seen: (string | undefined)[] = [];
    const target = http.createServer((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const targetPort = (target.address() as { port: number }).port;
    engine = createEngine({ log, policy: testPolicy({ egressAllow: ['127.0.0.1'] }), project: 'proj-http' }).engine;
    await engine.apply({
      name: 'http-traced',
      items: [
        { name: 'Web', type: 'http.in', settings: { host: '127.0.0.1', port: 0 } },
        { name: 'Post', type: 'http.out', execution: { mode: 'multiprocess', workers: 1 }, settings: { url: `http://127.0.0.1:${targetPort}/in` } },
      ],
      connections: [{ from: 'Web', to: 'Post' }],
    });
    const port = Number(engine.status().items.find((i) => i.name === 'Web')!.details!.port);
    const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const incomingSpan = '00f067aa0ba902b7';
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'text/plain', traceparent: `00-${incomingTrace}-${incomingSpan}-01` }, body: 'hello' });
    expect(res.status).toBe(202);
    await until(() => seen.length === 1);
    await engine.idle();
    await tracing.flush();
    await until(() => receiver.spans.some((s) => s.name === 'deliver Post' && s.traceId === incomingTrace));
    const spans = traceOf(incomingTrace);
    expect(spans.get('receive Web')!.parentSpanId).toBe(incomingSpan);
    expect(spans.get('deliver Post')!.parentSpanId).toBe(spans.get('receive Web')!.spanId);
    // The downstream request carries the deliver span's context, set inside the worker thread.
    expect(seen[0]).toBe(`00-${incomingTrace}-${spans.get('deliver Post')!.spanId}-01`);
    await new Promise<void>((r) => target.close(() => r()));
  });
});
