/**
 * `hie engine` as a user meets it: its help documents the cluster variables, and without them it
 * refuses to start with a clear message instead of running a node nobody can reach.
 */
import { describe, expect, it } from 'vitest';
import { hieExec } from './testing/helpers';

describe('hie engine', () => {
  it('--help documents DATABASE_URL, REDIS_URL, ETCD_ENDPOINTS and HIE_NODE_ID', async () => {
    const r = await hieExec(['engine', '--help']);
    expect(r.code).toBe(0);
    for (const v of ['DATABASE_URL', 'REDIS_URL', 'ETCD_ENDPOINTS', 'HIE_NODE_ID', 'HIE_CLUSTER_PREFIX', 'hie start --no-engine']) expect(r.output).toContain(v);
  }, 60_000);

  it('exits 2 naming the variables when cluster mode is not configured, and names the missing one when half is', async () => {
    const none = await hieExec(['engine'], { env: { DATABASE_URL: '', REDIS_URL: '', ETCD_ENDPOINTS: '' } });
    expect(none.code).toBe(2);
    expect(none.output).toContain('set DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS');
    const half = await hieExec(['engine'], { env: { DATABASE_URL: 'postgres://127.0.0.1/x', REDIS_URL: '', ETCD_ENDPOINTS: 'http://127.0.0.1:1' } });
    expect(half.code).toBe(1);
    expect(half.output).toContain('missing: REDIS_URL');
  }, 60_000);
});
