import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Assignments, DesiredState } from './coordinator';
import { EtcdCoordinator } from './etcd-coordinator';
import { etcdCipher } from './sealed';
import { startEtcd, type TestEtcd } from './testing/etcd';

let etcd: TestEtcd;
const open: EtcdCoordinator[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
}, 30_000);
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  for (const ch of children.splice(0)) ch.kill('SIGKILL');
});
afterAll(async () => {
  await etcd?.stop();
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const isSingleton = (type: string) => type.startsWith('svc.');

async function control(prefix: string): Promise<EtcdCoordinator> {
  const c = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix });
  open.push(c);
  await c.start();
  return c;
}

async function node(prefix: string, nodeId: string): Promise<EtcdCoordinator> {
  const c = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix, node: { nodeId, isSingleton, ttlSec: 2 } });
  open.push(c);
  await c.start();
  return c;
}

/** A node in its own process, to be killed with SIGKILL (no lease revoke, no resign). */
async function nodeProcess(prefix: string, nodeId: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./testing/etcd-node.ts', import.meta.url).pathname, etcd.endpoint, prefix, nodeId], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`node ${nodeId} exited ${code}`)));
  });
  return child;
}

function desired(projectId: string, items: { name: string; type: string; queue?: { type: string } }[], version = 1): DesiredState {
  return { projectId, workspaceId: 'w', production: projectId, version, state: 'running', spec: { name: projectId, items, connections: [] }, updatedAt: Date.now() };
}

const spec3 = [
  { name: 'In A', type: 'svc.listen' },
  { name: 'In B', type: 'svc.listen' },
  { name: 'In C', type: 'svc.poll' },
  { name: 'Route', type: 'proc.route', queue: { type: 'fifo' } },
  { name: 'Out', type: 'op.send', queue: { type: 'unordered' } },
];

describe('EtcdCoordinator on a real etcd', () => {
  it('keeps desired state in etcd: get, list, and watch gives the current states then each change', async () => {
    const prefix = `test-${randomUUID()}`;
    const a = await control(prefix);
    const b = await control(prefix);
    await a.setDesired(desired('p1', spec3));
    expect((await b.getDesired('p1'))?.spec).toEqual({ name: 'p1', items: spec3, connections: [] });
    expect(await b.getDesired('nope')).toBeUndefined();
    const seen: number[] = [];
    const stop = b.watchDesired((d) => seen.push(d.version));
    await until(() => seen.length === 1);
    await a.setDesired(desired('p1', spec3, 2));
    await until(() => seen.length === 2);
    expect(seen).toEqual([1, 2]);
    stop();
    expect((await a.listDesired()).map((d) => d.projectId)).toEqual(['p1']);
    // Another prefix (another cluster, another test) sees none of it.
    expect(await (await control(`test-${randomUUID()}`)).listDesired()).toEqual([]);
  });

  it('seals desired state in etcd with HIE_SECRET_KEY: no secret in clear, readable by the processes holding the key only', async () => {
    const prefix = `test-${randomUUID()}`;
    const secret = 'b'.repeat(64);
    const sealed = async (cipher?: ReturnType<typeof etcdCipher>) => {
      const c = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix, cipher });
      open.push(c);
      await c.start();
      return c;
    };
    const writer = await sealed(etcdCipher(secret));
    const reader = await sealed(etcdCipher(secret));
    const seen: DesiredState[] = [];
    reader.watchDesired((d) => seen.push(d));
    const state = desired('p1', [{ name: 'Out', type: 'op.send', settings: { password: 'hunter2-secret' } } as never]);
    await writer.setDesired(state);
    await until(() => seen.length === 1);
    expect(seen[0]!.spec).toEqual(state.spec);
    expect(await reader.getDesired('p1')).toEqual(state);
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      const stored = (await raw.get(`${prefix}/desired/p1`).string())!;
      expect(stored).not.toContain('hunter2-secret');
      expect(stored.startsWith('hie:etcd:v1:')).toBe(true);
    } finally {
      raw.close();
    }
    // Without the key, or with another one, nothing is read (and nothing runs).
    expect(await (await sealed()).listDesired()).toEqual([]);
    expect(await (await sealed(etcdCipher('c'.repeat(64)))).getDesired('p1')).toBeUndefined();
  });

  it('registers nodes under a lease; a node killed with -9 leaves the cluster and its status goes with its lease', async () => {
    const prefix = `test-${randomUUID()}`;
    const n1 = await node(prefix, 'n1');
    const child = await nodeProcess(prefix, 'n2');
    const c = await control(prefix);
    expect(await c.listNodes()).toEqual(['n1', 'n2']);
    expect(n1.clustered).toBe(true);
    await n1.reportStatus({ nodeId: 'n1', startedAt: 1, heartbeatAt: 2, productions: [], itemTypes: [] });
    expect((await c.listStatus()).map((s) => s.nodeId)).toEqual(['n1']);
    child.kill('SIGKILL');
    await until(async () => (await c.listNodes()).length === 1);
    expect(await c.listNodes()).toEqual(['n1']);
    await n1.close();
    await until(async () => (await c.listStatus()).length === 0 && (await c.listNodes()).length === 0);
  });

  it('elects one leader, which spreads singletons over the live nodes and partitions of fifo items', async () => {
    const prefix = `test-${randomUUID()}`;
    const nodes = [await node(prefix, 'n1'), await node(prefix, 'n2'), await node(prefix, 'n3')];
    await (await control(prefix)).setDesired(desired('p1', spec3));
    let a: Assignments | undefined;
    nodes[2]!.watchAssignments((x) => (a = x));
    await until(() => Object.keys(a?.singletons.p1 ?? {}).length === 3);
    expect(nodes.filter((n) => n.leading)).toHaveLength(1);
    expect(a!.leaderNodeId).toBe(nodes.find((n) => n.leading)!.nodeId);
    // Three singletons on three nodes: one each.
    expect(new Set(Object.values(a!.singletons.p1!))).toEqual(new Set(['n1', 'n2', 'n3']));
    // The fifo process is partitioned over all nodes; the unordered operation is not partitioned.
    expect(Object.keys(a!.partitions.p1!)).toEqual(['Route']);
    expect(new Set(Object.values(a!.partitions.p1!.Route!))).toEqual(new Set(['n1', 'n2', 'n3']));
    expect(Object.keys(a!.partitions.p1!.Route!)).toHaveLength(16);
  });

  it("moves a killed node's singletons to live nodes once its lease expires, keeping the others where they were", async () => {
    const prefix = `test-${randomUUID()}`;
    const n1 = await node(prefix, 'n1');
    await node(prefix, 'n2');
    const child = await nodeProcess(prefix, 'n3');
    await (await control(prefix)).setDesired(desired('p1', spec3));
    let a: Assignments | undefined;
    n1.watchAssignments((x) => (a = x));
    await until(() => new Set(Object.values(a?.singletons.p1 ?? {})).size === 3);
    const before = { ...a!.singletons.p1! };
    const onDead = Object.entries(before).find(([, n]) => n === 'n3')![0];
    child.kill('SIGKILL');
    await until(() => a!.singletons.p1![onDead] !== 'n3');
    expect(['n1', 'n2']).toContain(a!.singletons.p1![onDead]);
    for (const [item, owner] of Object.entries(before)) if (owner !== 'n3') expect(a!.singletons.p1![item]).toBe(owner);
    expect(Object.values(a!.partitions.p1!.Route!)).not.toContain('n3');
  });

  it('a new leader takes over when the leader dies, and keeps the live singletons where they are', async () => {
    const prefix = `test-${randomUUID()}`;
    const leader = await nodeProcess(prefix, 'a-first'); // campaigns first: the leader
    const n2 = await node(prefix, 'n2');
    const n3 = await node(prefix, 'n3');
    await (await control(prefix)).setDesired(desired('p1', spec3));
    let a: Assignments | undefined;
    n2.watchAssignments((x) => (a = x));
    await until(() => new Set(Object.values(a?.singletons.p1 ?? {})).size === 3);
    expect(a!.leaderNodeId).toBe('a-first');
    const kept = Object.entries(a!.singletons.p1!).filter(([, n]) => n !== 'a-first');
    leader.kill('SIGKILL');
    await until(() => a!.leaderNodeId !== 'a-first' && !Object.values(a!.singletons.p1!).includes('a-first'));
    expect([n2, n3].filter((n) => n.leading).map((n) => n.nodeId)).toEqual([a!.leaderNodeId]);
    for (const [item, owner] of kept) expect(a!.singletons.p1![item]).toBe(owner);
    // Every singleton has exactly one owner, a live one.
    expect(Object.values(a!.singletons.p1!).every((n) => n === 'n2' || n === 'n3')).toBe(true);
  });

  it('fences a deposed leader: once its election key is gone its writes fail and it steps down', async () => {
    const prefix = `test-${randomUUID()}`;
    const n1 = await node(prefix, 'n1');
    const n2 = await node(prefix, 'n2');
    const c = await control(prefix);
    await c.setDesired(desired('p1', spec3));
    await until(() => n1.leading && n1.currentAssignments()?.leaderNodeId === 'n1');
    // Depose n1 behind its back: delete its election key (as etcd does when its lease expires).
    const raw = new Etcd3({ hosts: [etcd.endpoint] });
    try {
      await raw.delete().prefix(`${prefix}/election/leader/`).exec();
      // n2 is not campaigning on a key any more either: it re-campaigns only on its own error,
      // so the write below comes from n1 alone, and must not land.
      await c.setDesired(desired('p2', [{ name: 'X', type: 'svc.listen' }]));
      await until(() => !n1.leading);
      const stored = JSON.parse((await raw.get(`${prefix}/assignments`).string())!) as Assignments;
      expect(stored.singletons.p2).toBeUndefined();
    } finally {
      raw.close();
    }
    void n2;
  });

  it('a node that cannot reach etcd within its lease TTL reports clustered=false to its assignment listeners', async () => {
    const local = await startEtcd();
    try {
      const n = new EtcdCoordinator({ endpoints: [local.endpoint], prefix: 'p', node: { nodeId: 'lonely', isSingleton, ttlSec: 2 } });
      open.push(n);
      await n.start();
      const states: boolean[] = [];
      n.watchAssignments(() => states.push(n.clustered));
      await until(() => n.clustered);
      expect(states).not.toContain(false);
      await local.stop();
      await until(() => states.includes(false), 5000);
      expect(n.clustered).toBe(false);
    } finally {
      await local.stop();
    }
  });

  it('delivers commands to the nodes running a project and returns their answers', async () => {
    const prefix = `test-${randomUUID()}`;
    const n1 = await node(prefix, 'n1');
    const n2 = await node(prefix, 'n2');
    const got: string[] = [];
    for (const n of [n1, n2]) {
      n.onCommand(async (cmd) => {
        got.push(`${n.nodeId}:${cmd.kind}`);
        return cmd.item === 'bad' ? { ok: false, error: { code: 'engine.not_found', message: 'no item' }, nodeId: n.nodeId } : { ok: true, nodeId: n.nodeId };
      });
      await n.reportStatus({ nodeId: n.nodeId!, startedAt: 1, heartbeatAt: 2, productions: [{ projectId: 'p1', production: 'p1', version: 1, state: 'running', items: [] }], itemTypes: [] });
    }
    const c = await control(prefix);
    await new Promise((r) => setTimeout(r, 200)); // the nodes' command watches are set up asynchronously
    expect(await c.sendCommand({ kind: 'item.restart', projectId: 'p1', item: 'Route' }, 5000)).toMatchObject({ ok: true });
    expect(got.sort()).toEqual(['n1:item.restart', 'n2:item.restart']);
    got.length = 0;
    // A resend runs once, on one node.
    expect(await c.sendCommand({ kind: 'message.inject', projectId: 'p1', item: 'Route', messageId: 'm', raw: '', contentType: 'x' }, 5000)).toMatchObject({ ok: true });
    expect(got).toHaveLength(1);
    expect(await c.sendCommand({ kind: 'item.stop', projectId: 'p1', item: 'bad' }, 5000)).toMatchObject({ ok: false, error: { code: 'engine.not_found' } });
    await expect(c.sendCommand({ kind: 'item.stop', projectId: 'nope', item: 'x' }, 1000)).rejects.toMatchObject({ code: 'cluster.no_node' });
  });
});
