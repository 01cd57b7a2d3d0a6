import { z } from 'zod';
import { clusterEnvShape } from '@hie/cluster';
import { hostPolicyEnvShape } from '@hie/policy';

/**
 * Telemetry: OpenTelemetry traces go to the OTLP/HTTP endpoint when one is set (off otherwise);
 * the SDK reads the other standard OTEL_* variables itself (sampler, resource attributes,
 * headers). HIE_METRICS_PORT: `hie engine` / `hie run` serve Prometheus `/metrics` on that port.
 */
export const telemetryEnvShape = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  HIE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
};

/** The telemetry variables alone (for the composition root of `hie start`). */
export function readTelemetryEnv(source: NodeJS.ProcessEnv = process.env): z.output<z.ZodObject<typeof telemetryEnvShape>> {
  const r = z.object(telemetryEnvShape).safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== '')));
  if (!r.success) throw new Error(`invalid environment:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return r.data;
}

/** The engine's environment, read once here and validated. */
const envSchema = z.object({
  HIE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().optional(),
  HIE_DATA_DIR: z.string().default('./.hie/data'),
  HIE_STORE: z.enum(['auto', 'off']).default('auto'),
  /** Commits the message writer overlaps on PostgreSQL (see `writerPipelines` in @hie/store); unset: the store's default. */
  HIE_STORE_PIPELINES: z.coerce.number().int().min(1).max(32).optional(),
  ...hostPolicyEnvShape,
  ...clusterEnvShape,
  /** Item-type plugins to load: package names or paths, separated by commas or ':' (see plugins.ts). */
  HIE_PLUGINS: z.string().optional(),
  /** The optional configuration file (`plugins:`); default `./hie.config.yaml` when it exists. */
  HIE_CONFIG: z.string().optional(),
  /** `off`: do not load the plugins shipped in the repo's plugins/ folder (SFTP). */
  HIE_DEFAULT_PLUGINS: z.enum(['on', 'off']).default('on'),
  /** Cluster: the control plane's HIE_SECRET_KEY, to open the desired state sealed in etcd. */
  HIE_SECRET_KEY: z.string().min(1).optional(),
  ...telemetryEnvShape,
});

export type Env = z.output<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // An empty variable (`REDIS_URL=` in a compose file) means unset.
  const r = envSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== '')));
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid environment:\n${lines}`);
  }
  return r.data;
}
