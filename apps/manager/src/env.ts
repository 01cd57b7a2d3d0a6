import { z } from 'zod';
import { hostPolicyEnvShape } from '@hie/policy';

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
  /** Password of the first admin user; a random one-time password is printed when unset. */
  HIE_ADMIN_PASSWORD: z.string().min(1).optional(),
  HIE_SESSION_TTL_HOURS: z.coerce.number().positive().max(24 * 365).default(12),
  HIE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...hostPolicyEnvShape,
});

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
