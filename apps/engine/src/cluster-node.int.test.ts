/**
 * EngineNodes on a real etcd (EtcdCoordinator), in one process: a listener runs on the one node the
 * leader assigns it to and stands by on the others; when its node leaves, another takes it over.
 * Killing node processes (-9) is in cluster.int.test.ts.
 */
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCoordinator, startEtcd, type ReportedProduction, type TestEtcd } from '@hie/cluster';
import { EngineNode } from './node';
import { createRegistry } from './engine-node';
import { accepts, freePort, testPolicy, until, waitForPort } from './testing/helpers';
import { MllpDownstream } from './testing/mllp-downstream';

let etcd: TestEtcd;
const registry = createRegistry();
const isSingleton = (type: string) => registry.get(type)?.kind === 'service';
const log = pino({ level: 'silent' });

beforeAll(async () => {
  etcd = await startEtcd();
}, 30_000);
afterAll(async () => {
  await etcd?.stop();
});

async function clusterNode(prefix: string, nodeId: string): Promise<{ node: EngineNode; coordinator: EtcdCoordinator; stop: () => Promise<void> }> {
  const coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix, node: { nodeId, isSingleton, ttlSec: 2 } });
  await coordinator.start();
  const node = new EngineNode({ coordinator, log, nodeId, policy: testPolicy(), reportEveryMs: 100 });
  node.start();
  return {
    node,
    coordinator,
    stop: async () => {
      await node.stop();
      await coordinator.close();
    },
  };
}

describe('EngineNode in a cluster', () => {
  it('runs a listener on its assigned node only (standby elsewhere) and moves it when that node leaves', async () => {
    const prefix = `test-${randomUUID()}`;
    const [listen, sinkPort] = [await freePort(), await freePort()];
    const sink = new MllpDownstream(sinkPort);
    await sink.up();
    const nodes = [await clusterNode(prefix, 'n1'), await clusterNode(prefix, 'n2')];
    const control = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix });
    await control.start();
    try {
      await control.setDesired({
        projectId: 'p1',
        workspaceId: 'w',
        production: 'feed',
        version: 1,
        state: 'running',
        spec: {
          name: 'feed',
          items: [
            { name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: listen } },
            { name: 'Out', type: 'hl7.mllp.out', settings: { host: '127.0.0.1', port: sinkPort } },
          ],
          connections: [{ from: 'In', to: 'Out' }],
        },
        updatedAt: Date.now(),
      });
      const productions = async () => (await control.listStatus()).map((s) => ({ node: s.nodeId, p: s.productions.find((x) => x.projectId === 'p1') }));
      const item = (p: ReportedProduction | undefined, name: string) => p?.items.find((i) => i.name === name);
      await until(async () => {
        const ps = await productions();
        return ps.length === 2 && ps.every((x) => x.p?.state === 'running') && ps.filter((x) => item(x.p, 'In')?.state === 'running').length === 1;
      }, 20_000);
      const ps = await productions();
      const owner = ps.find((x) => item(x.p, 'In')?.state === 'running')!.node;
      const other = ps.find((x) => x.node !== owner)!;
      expect(control.currentAssignments()?.singletons.p1?.In ?? (await nodes[0]!.coordinator.currentAssignments())?.singletons.p1?.In).toBe(owner);
      expect(item(other.p, 'In')?.state).toBe('standby');
      expect(item(ps.find((x) => x.node === owner)!.p, 'In')?.nodes).toEqual([owner]);
      // The scalable operation runs on both nodes.
      expect(ps.every((x) => item(x.p, 'Out')?.state === 'running')).toBe(true);

      // The owner leaves: the other node takes the listener over and serves its port.
      const leaving = nodes.find((n) => n.node.nodeId === owner)!;
      await leaving.stop();
      nodes.splice(nodes.indexOf(leaving), 1);
      await until(async () => (await productions()).some((x) => x.node === other.node && item(x.p, 'In')?.state === 'running'), 15_000);
      await waitForPort(listen, 5000);
    } finally {
      for (const n of nodes) await n.stop();
      await control.close();
      await sink.down();
    }
  });

  it('a node that loses etcd stops its listener before its lease can expire (another node may take it over)', async () => {
    const own = await startEtcd();
    const listen = await freePort();
    const coordinator = new EtcdCoordinator({ endpoints: [own.endpoint], prefix: 'p', node: { nodeId: 'alone', isSingleton, ttlSec: 2 } });
    await coordinator.start();
    const node = new EngineNode({ coordinator, log, nodeId: 'alone', policy: testPolicy(), reportEveryMs: 100 });
    node.start();
    try {
      await coordinator.setDesired({
        projectId: 'p1',
        workspaceId: 'w',
        production: 'feed',
        version: 1,
        state: 'running',
        spec: { name: 'feed', items: [{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port: listen } }], connections: [] },
        updatedAt: Date.now(),
      });
      await waitForPort(listen, 15_000);
      await own.stop();
      await until(async () => !(await accepts(listen)), 5_000);
      expect(coordinator.clustered).toBe(false);
      expect(node.engine('p1')?.host('In')).toBeUndefined();
    } finally {
      await node.stop();
      await coordinator.close();
      await own.stop();
    }
  });
});
