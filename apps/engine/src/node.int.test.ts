/**
 * EngineNode against an in-process coordinator, with real sockets: what a node reports when a
 * production's listener cannot bind.
 */
import net from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessCoordinator, type ReportedProduction } from '@hie/cluster';
import { EngineNode } from './node';

const coordinator = new InProcessCoordinator();
const node = new EngineNode({ coordinator, log: pino({ level: 'silent' }), nodeId: 'n1', reportEveryMs: 100 });
node.start();
afterAll(async () => {
  await node.stop();
  await coordinator.close();
});

async function reported(projectId: string, until: (p: ReportedProduction) => boolean): Promise<ReportedProduction> {
  for (let i = 0; ; i++) {
    const p = (await coordinator.listStatus()).flatMap((n) => n.productions).find((x) => x.projectId === projectId);
    if (p && until(p)) return p;
    if (i > 300) throw new Error(`production ${projectId} never reached the expected state; last: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('EngineNode status', () => {
  it('a production whose MLLP listener cannot bind (EADDRINUSE) is reported failed with the bind error, then running once the port is free', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as net.AddressInfo).port;
    await coordinator.setDesired({
      projectId: 'p-bind',
      workspaceId: 'w',
      production: 'bind-feed',
      version: 1,
      state: 'running',
      // No restart back-off to wait through once the port is free.
      spec: { name: 'bind-feed', items: [{ name: 'In', type: 'hl7.mllp.in', settings: { host: '127.0.0.1', port }, restart: { delayMs: 50, maxRestarts: 1000 } }] },
      updatedAt: Date.now(),
    });
    const failed = await reported('p-bind', (p) => p.state === 'failed' || p.state === 'running');
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('EADDRINUSE');
    expect(failed.error?.message).toContain('item "In" is down');
    expect(failed.error?.message).toContain(String(port));

    await new Promise<void>((r) => squatter.close(() => r()));
    const running = await reported('p-bind', (p) => p.state === 'running');
    expect(running.error).toBeUndefined();
    expect(running.items.find((i) => i.name === 'In')?.state).toBe('running');
  });
});
