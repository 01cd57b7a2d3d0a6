/**
 * Failed messages as an operator's queue (issue 10, point 2): search by status, suspended counts
 * per item, resend (alone or in bulk) to the item where the message failed, never to a service.
 * A stand-in engine node answers the inject commands over the real in-process coordinator.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '@hie/cluster';
import { errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
/** Admin of another workspace, member of nothing here. */
let outsider: ApiClient;
let workspaceId: string;
let projectId: string;
/** Failed at Files (2), at Route (1), at the service ADT In (1), then one delivered. */
const failed: { files: string[]; route: string; service: string; delivered: string } = { files: [], route: '', service: '', delivered: '' };
let seen: Command[] = [];
let offNode: () => void;

const adt = (i: number) => `MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|20240501120000||ADT^A01|OP${i}|P|2.5.1\rPID|1||PAT${i}^^^ROYAL^MR||SMITH^JOHN\r`;

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, outsider, workspaceId } = await h.team('Operators'));
  projectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'adt', spec: sampleSpec('adt') })).id;
  await analyst.api.production.deploy.mutate({ projectId });

  const writer = h.store.messages.writer();
  const scope = { production: 'adt', projectId, workspaceId };
  const store = async (i: number, failedAt: string | null) => {
    const id = randomUUID();
    const t0 = Date.now() - (100 - i) * 1000;
    await writer.received({ id, ...scope, item: 'ADT In', receivedAt: t0, messageType: 'ADT^A01', controlId: `OP${i}`, patientId: `PAT${i}`, contentType: 'application/hl7-v2+er7', header: {}, raw: new TextEncoder().encode(adt(i)) });
    if (failedAt === null) {
      await writer.event({ messageId: id, ...scope, item: 'Files', event: 'delivered', at: t0 + 2 });
    } else {
      await writer.event({ messageId: id, ...scope, item: failedAt, event: 'failed', at: t0 + 2, detail: { code: 'net.refused' } });
      await writer.event({ messageId: id, ...scope, item: failedAt, event: 'completed', at: t0 + 3 });
    }
    return id;
  };
  failed.files.push(await store(1, 'Files'), await store(2, 'Files'));
  failed.route = await store(3, 'Route');
  failed.service = await store(4, 'ADT In');
  failed.delivered = await store(5, null);
  await writer.close();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  seen = [];
  offNode?.();
  offNode = h.coordinator.onCommand(async (c) => {
    seen.push(c);
    return { ok: true, nodeId: 'n1' };
  });
});

describe('the operator’s queue of failed messages', () => {
  it('search by status finds the failed ones; suspended counts group them by the item where they failed', async () => {
    const found = await viewer.api.messages.search.query({ projectId, status: 'failed' });
    expect(found.items.map((m) => m.id).sort()).toEqual([...failed.files, failed.route, failed.service].sort());
    expect((await viewer.api.messages.search.query({ projectId, suspended: true })).items).toHaveLength(4);
    expect(await viewer.api.messages.suspendedCounts.query({ projectId })).toEqual({
      items: [
        { item: 'ADT In', count: 1 },
        { item: 'Files', count: 2 },
        { item: 'Route', count: 1 },
      ],
      total: 4,
    });
    expect(await errorCode(h.caller(null).messages.suspendedCounts({ projectId }))).toBe('UNAUTHORIZED');
  });

  it('resend defaults to the item where the message failed, and refuses an inbound service', async () => {
    const r = await analyst.api.messages.resend.mutate({ projectId, id: failed.files[0] });
    expect(r).toMatchObject({ toItem: 'Files', injected: true });
    expect(seen.map((c) => c.kind === 'message.inject' && c.item)).toEqual(['Files']);

    // A service reads its socket, not its queue: the copy would wait forever. Refused, nothing stored.
    const before = (await analyst.api.messages.get.query({ projectId, id: failed.route })).resends;
    await expect(analyst.api.messages.resend.mutate({ projectId, id: failed.route, toItem: 'ADT In' })).rejects.toThrow(/inbound service/);
    expect(await errorCode(analyst.api.messages.resend.mutate({ projectId, id: failed.route, toItem: 'ADT In' }))).toBe('BAD_REQUEST');
    expect((await analyst.api.messages.get.query({ projectId, id: failed.route })).resends).toEqual(before);
    expect(seen).toHaveLength(1);

    // Failed at the service itself (its hand-off): the service's one connection takes it.
    expect(await analyst.api.messages.resend.mutate({ projectId, id: failed.service })).toMatchObject({ toItem: 'Route', injected: true });
    // Never failed: it runs again from the receiving service's one connection, or where the operator says.
    expect(await analyst.api.messages.resend.mutate({ projectId, id: failed.delivered })).toMatchObject({ toItem: 'Route' });
    expect(await analyst.api.messages.resend.mutate({ projectId, id: failed.delivered, toItem: 'Files' })).toMatchObject({ toItem: 'Files' });
  });

  it('resendMany: a search result, each to the item where it failed, each audited; the counts go down', async () => {
    const r = await analyst.api.messages.resendMany.mutate({ projectId, filter: { status: 'failed' } });
    expect(r).toMatchObject({ selected: 4, resent: 4, injected: 4, failed: 0, truncated: false });
    const to = Object.fromEntries(r.results.map((x) => [x.id, x.toItem]));
    expect(to).toEqual({ [failed.files[0]]: 'Files', [failed.files[1]]: 'Files', [failed.route]: 'Route', [failed.service]: 'Route' });
    expect(seen.map((c) => c.kind === 'message.inject' && c.item).sort()).toEqual(['Files', 'Files', 'Route', 'Route']);
    expect(await viewer.api.messages.suspendedCounts.query({ projectId })).toEqual({ items: [], total: 0 });
    // Still failed (their copies carry on), but no longer suspended: a second "resend all suspended" resends nothing.
    expect((await viewer.api.messages.search.query({ projectId, status: 'failed' })).items).toHaveLength(4);
    expect((await viewer.api.messages.search.query({ projectId, suspended: true })).items).toHaveLength(0);

    const perMessage = await admin.api.audit.list.query({ workspaceId, action: 'message.resend', limit: 100 });
    for (const id of [...failed.files, failed.route, failed.service]) expect(perMessage.items.some((a) => a.entityId === id && a.actorName === 'alice')).toBe(true);
    const summary = await admin.api.audit.list.query({ workspaceId, action: 'message.resend_many' });
    expect(summary.items[0]).toMatchObject({ actorName: 'alice', entityId: projectId, after: { filter: { status: 'failed' }, selected: 4, resent: 4, injected: 4 } });
    expect(await analyst.api.messages.resendMany.mutate({ projectId, filter: { suspended: true } })).toMatchObject({ selected: 0, resent: 0 });
  });

  it('resendMany: a selection of ids to a chosen item; a bad id fails alone; services, viewers and empty selections refused', async () => {
    const missing = randomUUID();
    const r = await analyst.api.messages.resendMany.mutate({ projectId, ids: [failed.files[0], missing, failed.route], toItem: 'Files' });
    expect(r).toMatchObject({ selected: 3, resent: 2, injected: 2, failed: 1 });
    expect(r.results.find((x) => x.id === missing)).toMatchObject({ injected: false, error: { code: 'NOT_FOUND' } });
    expect(seen.map((c) => c.kind === 'message.inject' && c.item)).toEqual(['Files', 'Files']);

    expect(await errorCode(analyst.api.messages.resendMany.mutate({ projectId, ids: [failed.route], toItem: 'ADT In' }))).toBe('BAD_REQUEST');
    expect(await errorCode(viewer.api.messages.resendMany.mutate({ projectId, ids: [failed.route] }))).toBe('FORBIDDEN');
    expect(await errorCode(analyst.api.messages.resendMany.mutate({ projectId }))).toBe('BAD_REQUEST');
    expect(await errorCode(analyst.api.messages.resendMany.mutate({ projectId, ids: [failed.route], filter: { status: 'failed' } }))).toBe('BAD_REQUEST');
    expect(await errorCode(analyst.api.messages.resendMany.mutate({ projectId, ids: Array.from({ length: 1001 }, () => randomUUID()) }))).toBe('BAD_REQUEST');
    // Searching text to pick messages reads bodies: the same rule as search.
    expect(await errorCode(viewer.api.messages.resendMany.mutate({ projectId, filter: { text: 'smith' } }))).toBe('FORBIDDEN');
    expect(seen).toHaveLength(2);
  });

  it('another workspace’s admin reaches none of it: not by project id, not by message id, not through the audit or the membership', async () => {
    const other = (await admin.api.workspaces.create.mutate({ name: 'Elsewhere' })).id;
    await admin.api.workspaces.setMember.mutate({ workspaceId: other, username: 'otto', role: 'admin' });
    const own = (await outsider.api.projects.create.mutate({ workspaceId: other, name: 'own', spec: sampleSpec('own') })).id;

    expect(await errorCode(outsider.api.messages.suspendedCounts.query({ projectId }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.messages.resendMany.mutate({ projectId, filter: { status: 'failed' } }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.messages.resend.mutate({ projectId: own, id: failed.route, toItem: 'Files' }))).toBe('NOT_FOUND');
    // Another project's message ids under one's own project: each one not found, nothing resent.
    const r = await outsider.api.messages.resendMany.mutate({ projectId: own, ids: [failed.route, failed.files[0]!], toItem: 'Files' });
    expect(r).toMatchObject({ selected: 2, resent: 0, injected: 0 });
    expect(r.results.map((x) => x.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(seen).toHaveLength(0);

    expect(await errorCode(outsider.api.versions.diff.query({ projectId, from: 1, to: 1 }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.items.list.query({ projectId }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.projects.clone.mutate({ id: projectId, name: 'stolen' }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.production.status.query({ projectId }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.audit.list.query({ workspaceId }))).toBe('NOT_FOUND');
    expect((await outsider.api.audit.list.query({ workspaceId: other, entityId: projectId })).items).toEqual([]);
    expect(await errorCode(outsider.api.workspaces.setMember.mutate({ workspaceId, username: 'otto', role: 'viewer', phiReader: true }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.messages.get.query({ projectId, id: failed.route }))).toBe('NOT_FOUND');
  });
});
