import { z } from 'zod';
import { clusterEnvShape } from '@hie/cluster';
import { hostPolicyEnvShape } from '@hie/policy';
import { MIN_PASSWORD_LENGTH } from './auth/password-policy.js';

/** The manager's environment: read once here, validated, failing at start with a clear message. */
const envSchema = z.object({
  /** `postgres://…`: PostgreSQL. Without it, the embedded PGlite in `HIE_DATA_DIR`. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\//, { message: 'must be a postgres:// URL' })
    .optional(),
  HIE_DATA_DIR: z.string().min(1).default('./.hie/data'),
  HIE_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HIE_HOST: z.string().min(1).default('0.0.0.0'),
  /** PEM certificate (chain) file: with HIE_TLS_KEY, `hie start` serves HTTPS (cookies `Secure`, HSTS). */
  HIE_TLS_CERT: z.string().min(1).optional(),
  /** PEM private key file of HIE_TLS_CERT. */
  HIE_TLS_KEY: z.string().min(1).optional(),
  /**
   * Link from the message viewer to a message's trace in your tracing UI: `{traceId}` is replaced,
   * e.g. `http://jaeger:16686/trace/{traceId}`. Unset: the viewer shows the trace id only.
   */
  HIE_TRACE_URL: z
    .string()
    .regex(/^https?:\/\/\S*\{traceId\}\S*$/, { message: 'must be an http(s) URL containing {traceId}' })
    .optional(),
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. */
  HIE_METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  /** Password of the first admin user; a random one-time password is printed when unset. */
  HIE_ADMIN_PASSWORD: z.string().min(MIN_PASSWORD_LENGTH, { message: `must be at least ${MIN_PASSWORD_LENGTH} characters` }).optional(),
  /** Idle session lifetime: a session used at least every this many hours stays signed in. */
  HIE_SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 365).default(12),
  /** `1`: any signed-in user may create a workspace (and becomes its admin). Off: only global admins. */
  HIE_SELF_SERVICE_WORKSPACES: z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true'),
  /** Seed and deploy the demo project (MLLP in on 127.0.0.1:2575) on first start; `0` for servers and clusters. */
  HIE_DEMO: z.enum(['0', '1', 'true', 'false']).default('1').transform((v) => v === '1' || v === 'true'),
  /** Absolute session lifetime: after this long from sign-in, however active, sign in again. */
  HIE_SESSION_MAX_HOURS: z.coerce.number().positive().max(24 * 365).default(168),
  /**
   * Proxies in front of the manager whose `X-Forwarded-For` gives the client's address (sign-in
   * limits, audit): `false`/`0` (default: the socket's address), `true` (one proxy) or a count.
   */
  HIE_TRUST_PROXY: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(true|false|on|off|yes|no|[0-9])$/, { message: 'must be true, false or a number of proxy hops (0-9)' })
    .transform((v) => (['true', 'on', 'yes'].includes(v) ? 1 : ['false', 'off', 'no'].includes(v) ? 0 : Number(v)))
    .default(0),
  /**
   * Key of the secret settings at rest: 32 bytes as 64 hex digits or base64. Unset: generated
   * into `<HIE_DATA_DIR>/secret.key` on the first start. Set it (the same everywhere) in a cluster.
   */
  HIE_SECRET_KEY: z.string().min(1).optional(),
  HIE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...hostPolicyEnvShape,
  /** REDIS_URL, ETCD_ENDPOINTS (with DATABASE_URL: cluster mode), HIE_NODE_ID, HIE_CLUSTER_PREFIX. */
  ...clusterEnvShape,
  /** Commits the message writer overlaps on PostgreSQL (`writerPipelines`, as for `hie run`/`hie engine`); unset: the store's default. */
  HIE_STORE_PIPELINES: z.coerce.number().int().min(1).max(32).optional(),
  /** How often the control plane evaluates alert rules, in ms; `0`: this process evaluates none. */
  HIE_ALERT_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
}).refine((e) => !e.HIE_TLS_CERT === !e.HIE_TLS_KEY, { path: ['HIE_TLS_KEY'], message: 'set both HIE_TLS_CERT and HIE_TLS_KEY, or neither' });

export type ManagerEnv = z.output<typeof envSchema>;

/**
 * Parses the manager's environment.
 * @throws Error listing every invalid variable (never echoing their values: one may be a password).
 */
export function readEnv(source: Record<string, string | undefined> = process.env): ManagerEnv {
  // An empty variable (`DATABASE_URL=` in a compose file) means unset.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const r = envSchema.safeParse(present);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid environment:\n${lines}`);
  }
  return r.data;
}

/** The sign-in and session settings of {@link ManagerEnv}, as `createManagerServer` takes them. */
export function sessionSettings(env: ManagerEnv): { sessionTtlHours: number; sessionMaxHours: number; trustProxy: number } {
  return { sessionTtlHours: env.HIE_SESSION_TTL_HOURS, sessionMaxHours: env.HIE_SESSION_MAX_HOURS, trustProxy: env.HIE_TRUST_PROXY };
}
