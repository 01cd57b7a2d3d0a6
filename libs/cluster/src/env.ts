import { z } from 'zod';

/**
 * The cluster's environment variables, for each app's `env.ts` to extend its schema with, so the
 * manager and the engine read them alike. Cluster mode is on when DATABASE_URL, REDIS_URL and
 * ETCD_ENDPOINTS are all set.
 */
export const clusterEnvShape = {
  /** `redis://…` of the cluster bus (Redis Streams) and jobs. */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' }).optional(),
  /** Comma-separated etcd client URLs, e.g. `http://127.0.0.1:2379`. */
  ETCD_ENDPOINTS: z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean))
    .superRefine((list, ctx) => {
      for (const e of list) if (!/^https?:\/\/[^/]+\/?$/.test(e)) ctx.addIssue({ code: 'custom', message: `"${e}" is not an http(s)://host:port etcd endpoint` });
    }),
  /** This engine node's id in the cluster. Unset: host name + a random suffix. */
  HIE_NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'letters, digits, . _ - (at most 64)' }).optional(),
  /** Prefix of the cluster's etcd keys and Redis keys (several clusters may share etcd and Redis). */
  HIE_CLUSTER_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'letters, digits, . _ - (at most 64)' }).default('hie'),
};

export interface ClusterEnv {
  DATABASE_URL?: string;
  REDIS_URL?: string;
  ETCD_ENDPOINTS: string[];
  HIE_NODE_ID?: string;
  HIE_CLUSTER_PREFIX: string;
}

export interface ClusterSettings {
  databaseUrl: string;
  redisUrl: string;
  etcdEndpoints: string[];
  nodeId?: string;
  prefix: string;
}

/**
 * The cluster settings when all three of DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS are set;
 * undefined when none of REDIS_URL and ETCD_ENDPOINTS is (single node, as without a cluster).
 * @throws Error naming the missing variables when only some are set.
 */
export function clusterFromEnv(env: ClusterEnv): ClusterSettings | undefined {
  const set = { DATABASE_URL: !!env.DATABASE_URL, REDIS_URL: !!env.REDIS_URL, ETCD_ENDPOINTS: env.ETCD_ENDPOINTS.length > 0 };
  if (!set.REDIS_URL && !set.ETCD_ENDPOINTS) return undefined;
  const missing = Object.entries(set).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0) throw new Error(`cluster mode needs DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS; missing: ${missing.join(', ')}`);
  return { databaseUrl: env.DATABASE_URL!, redisUrl: env.REDIS_URL!, etcdEndpoints: env.ETCD_ENDPOINTS, nodeId: env.HIE_NODE_ID, prefix: env.HIE_CLUSTER_PREFIX };
}
