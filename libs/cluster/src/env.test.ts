import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clusterEnvShape, clusterFromEnv } from './env';

const parse = (env: Record<string, string>) => z.object({ DATABASE_URL: z.string().optional(), ...clusterEnvShape }).parse(env);

describe('cluster environment', () => {
  it('is off without REDIS_URL and ETCD_ENDPOINTS, even with DATABASE_URL', () => {
    expect(clusterFromEnv(parse({}))).toBeUndefined();
    expect(clusterFromEnv(parse({ DATABASE_URL: 'postgres://x/db' }))).toBeUndefined();
  });

  it('is on with all three, endpoints split on commas, prefix defaulted', () => {
    expect(clusterFromEnv(parse({ DATABASE_URL: 'postgres://x/db', REDIS_URL: 'redis://r:6379', ETCD_ENDPOINTS: 'http://a:2379, http://b:2379', HIE_NODE_ID: 'n-1' }))).toEqual({
      databaseUrl: 'postgres://x/db',
      redisUrl: 'redis://r:6379',
      etcdEndpoints: ['http://a:2379', 'http://b:2379'],
      nodeId: 'n-1',
      prefix: 'hie',
    });
  });

  it('names what is missing when only some are set, and refuses bad values', () => {
    expect(() => clusterFromEnv(parse({ ETCD_ENDPOINTS: 'http://a:2379' }))).toThrow('missing: DATABASE_URL, REDIS_URL');
    expect(() => parse({ ETCD_ENDPOINTS: 'a:2379' })).toThrow('is not an http(s)://host:port etcd endpoint');
    expect(() => parse({ HIE_NODE_ID: 'no spaces' })).toThrow();
  });
});
