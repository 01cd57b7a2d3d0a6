import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { readTelemetryEnv } from '../env';
import { EngineMetrics, serveMetrics } from './metrics';
import { startTracing } from './tracing';

/** A process's telemetry: what the engine records into, and its shutdown. */
export interface NodeTelemetry {
  /** Undefined when nothing would read them (`hie run` / `hie engine` without HIE_METRICS_PORT). */
  metrics?: EngineMetrics;
  /** The port `/metrics` is served on (HIE_METRICS_PORT; 0 picks a free one). */
  metricsPort?: number;
  tracing: boolean;
  /** Flush the spans still buffered and close the metrics server. */
  stop(): Promise<void>;
}

/**
 * Tracing (OTEL_* variables) and metrics for one process. `registry`: record into that one (the
 * manager's, served at its `/metrics`: single node); else a registry of this node's own, served
 * on HIE_METRICS_PORT when it is set (a cluster's `hie engine`, `hie run`).
 */
export async function startNodeTelemetry(env: ReturnType<typeof readTelemetryEnv>, log: Logger, registry?: Registry): Promise<NodeTelemetry> {
  const traces = startTracing(env);
  if (traces) log.info({ endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'OpenTelemetry tracing on');
  let server: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  let metrics: EngineMetrics | undefined;
  if (registry) metrics = EngineMetrics.of(registry);
  else if (env.HIE_METRICS_PORT !== undefined) {
    const own = new Registry();
    collectDefaultMetrics({ register: own });
    metrics = new EngineMetrics(own);
    server = await serveMetrics(own, env.HIE_METRICS_PORT);
    log.info({ port: server.port }, 'Prometheus metrics at /metrics');
  }
  return {
    metrics,
    metricsPort: server?.port,
    tracing: traces !== undefined,
    async stop() {
      await traces?.shutdown();
      if (server) await new Promise<void>((r) => server!.close(() => r()));
    },
  };
}
