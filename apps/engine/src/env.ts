import { z } from 'zod';
import { clusterEnvShape } from '@hie/cluster';
import { hostPolicyEnvShape } from '@hie/policy';

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
