import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badRequestProblems, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let analyst: ApiClient;
let viewer: ApiClient;
let workspaceId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ analyst, viewer, workspaceId } = await h.team('Routing'));
});
afterAll(async () => {
  await h?.close();
});

describe('routing truth at save', () => {
  it('refuses a router rule that sends to an item the router has no connection to, with the rule target’s path', async () => {
    const p = await analyst.api.projects.create.mutate({ workspaceId, name: 'routing' });
    const base = sampleSpec('routing');
    const items = [...base.items!];
    items[1] = { name: 'Route', type: 'hl7.router', settings: { rules: [{ name: 'adt', then: { action: 'send', to: ['Files', 'Archive'] } }] } };
    items.push({ name: 'Archive', type: 'file.out', settings: { directory: './archive' } });
    const spec = { ...base, items, connections: [...base.connections!] };
    const problems = await badRequestProblems(analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec }));
    expect(problems.map((x) => [x.pathText, x.code])).toEqual([['items[1].settings.rules[0].then.to[1]', 'rule_target_not_connected']]);
    expect((await viewer.api.versions.list.query({ projectId: p.id })).map((v) => v.version)).toEqual([1]);
    // Drawn on the canvas, it saves.
    spec.connections.push({ from: 'Route', to: 'Archive' });
    const saved = await analyst.api.projects.save.mutate({ id: p.id, baseVersion: 1, spec });
    expect(saved.version).toBe(2);
  });
});
