import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '@hie/cluster';
import { errorCode, sampleSpec, startHarness, type ApiClient, type Harness } from './testing/harness.js';

let h: Harness;
let admin: ApiClient;
let analyst: ApiClient;
let viewer: ApiClient;
let outsider: ApiClient;
let workspaceId: string;
let projectId: string;
const ids: string[] = [];

const adt = (i: number) =>
  `MSH|^~\\&|PAS|ROYAL|EPR|ROYAL|20240501120000||ADT^A01|CTRL${i}|P|2.5.1\rPID|1||PAT${i}^^^ROYAL^MR||SMITH^JOHN\r`;

beforeAll(async () => {
  h = await startHarness();
  ({ admin, analyst, viewer, outsider, workspaceId } = await h.team('Messages'));
  projectId = (await analyst.api.projects.create.mutate({ workspaceId, name: 'adt', spec: sampleSpec('adt') })).id;
  await analyst.api.production.deploy.mutate({ projectId });

  // What an engine's tracker would have stored: 3 messages of this production, 1 of another.
  const writer = h.store.messages.writer();
  const enc = new TextEncoder();
  for (let i = 0; i < 4; i++) {
    const id = randomUUID();
    ids.push(id);
    await writer.received({
      id,
      // The fourth belongs to another project whose production has the same name.
      production: 'adt',
      projectId: i === 3 ? 'someone-else' : projectId,
      workspaceId: i === 3 ? 'another-workspace' : workspaceId,
      item: 'ADT In',
      receivedAt: Date.now() - (10 - i) * 1000,
      messageType: 'ADT^A01',
      controlId: `CTRL${i}`,
      patientId: `PAT${i}`,
      contentType: 'application/hl7-v2+er7',
      header: { source: 'PAS' },
      raw: enc.encode(adt(i)),
    });
    await writer.event({ messageId: id, production: 'adt', projectId: i === 3 ? 'someone-else' : projectId, workspaceId: i === 3 ? 'another-workspace' : workspaceId, item: 'Files', event: i === 1 ? 'failed' : 'delivered', detail: i === 1 ? { code: 'file.io', message: 'disk full' } : null });
  }
  await writer.close();
});
afterAll(async () => {
  await h?.close();
});

describe('messages', () => {
  it('search: newest first, filters, pages; only the project’s production', async () => {
    const all = await viewer.api.messages.search.query({ projectId });
    expect(all.items.map((m) => m.controlId)).toEqual(['CTRL2', 'CTRL1', 'CTRL0']);
    expect(typeof all.items[0].receivedAt).toBe('string');
    expect((await viewer.api.messages.search.query({ projectId, status: 'failed' })).items.map((m) => m.controlId)).toEqual(['CTRL1']);
    expect((await viewer.api.messages.search.query({ projectId, patientId: 'PAT0' })).items).toHaveLength(1);
    expect((await analyst.api.messages.search.query({ projectId, text: 'smith^john' })).items).toHaveLength(3);
    // Text search reads bodies: a plain viewer may not.
    expect(await errorCode(viewer.api.messages.search.query({ projectId, text: 'smith^john' }))).toBe('FORBIDDEN');
    expect((await viewer.api.messages.search.query({ projectId, from: Date.now() - 8500 })).items.map((m) => m.controlId)).toEqual(['CTRL2']);
    const page1 = await viewer.api.messages.search.query({ projectId, limit: 2 });
    expect(page1.items).toHaveLength(2);
    const page2 = await viewer.api.messages.search.query({ projectId, limit: 2, cursor: page1.nextCursor });
    expect(page2.items.map((m) => m.controlId)).toEqual(['CTRL0']);
    expect(page2.nextCursor).toBeUndefined();
    expect(await errorCode(viewer.api.messages.search.query({ projectId, cursor: 'garbage' }))).toBe('BAD_REQUEST');
    expect(await errorCode(outsider.api.messages.search.query({ projectId }))).toBe('NOT_FOUND');
  });

  it('get: a viewer sees metadata and trace, not the body, unless she is a PHI reader', async () => {
    const meta = await viewer.api.messages.get.query({ projectId, id: ids[1] });
    expect(meta).toMatchObject({ raw: null, bodyHidden: true, controlId: 'CTRL1', status: 'failed' });
    expect(meta.trace.map((e) => e.event)).toEqual(['received', 'failed']);
    expect(JSON.stringify(meta)).not.toContain('SMITH');
    const viewed = await admin.api.audit.list.query({ workspaceId, action: 'message.view_metadata' });
    expect(viewed.items[0]).toMatchObject({ actorName: 'vera', entityId: ids[1] });
    const refused = await admin.api.audit.list.query({ workspaceId, action: 'access.denied' });
    expect(refused.items[0]).toMatchObject({ actorName: 'vera' });
    await admin.api.workspaces.setMember.mutate({ workspaceId, username: 'vera', role: 'viewer', phiReader: true });
    expect((await viewer.api.messages.get.query({ projectId, id: ids[1] })).raw).toBe(adt(1));
    await admin.api.workspaces.setMember.mutate({ workspaceId, username: 'vera', role: 'viewer', phiReader: false });
    expect((await viewer.api.messages.get.query({ projectId, id: ids[1] })).raw).toBeNull();
  });

  it('get: body and trace, audited as a view', async () => {
    const m = await analyst.api.messages.get.query({ projectId, id: ids[1] });
    expect(m.raw).toBe(adt(1));
    expect(m.rawEncoding).toBe('utf-8');
    expect(m.status).toBe('failed');
    expect(m.trace.map((e) => e.event)).toEqual(['received', 'failed']);
    expect(m.trace[1].detail).toEqual({ code: 'file.io', message: 'disk full' });
    // Another production's message is not visible through this project.
    expect(await errorCode(analyst.api.messages.get.query({ projectId, id: ids[3] }))).toBe('NOT_FOUND');
    expect(await errorCode(outsider.api.messages.get.query({ projectId, id: ids[1] }))).toBe('NOT_FOUND');

    const audit = await admin.api.audit.list.query({ workspaceId, action: 'message.view' });
    expect(audit.items.filter((a) => a.actorName === 'alice')).toHaveLength(1);
    expect(audit.items[0]).toMatchObject({ actorName: 'alice', entityType: 'message', entityId: ids[1] });
    // Searches are audited too, with their filters.
    const searches = await admin.api.audit.list.query({ workspaceId, action: 'message.search' });
    expect(searches.items.some((a) => JSON.stringify(a.after).includes('PAT0'))).toBe(true);
    expect(JSON.stringify(audit.items[0])).not.toContain('SMITH');
  });

  it('resend: records a copy and hands it to the engine; viewers may not', async () => {
    expect(await errorCode(viewer.api.messages.resend.mutate({ projectId, id: ids[1], toItem: 'Files' }))).toBe('FORBIDDEN');
    expect(await errorCode(analyst.api.messages.resend.mutate({ projectId, id: ids[1], toItem: 'Nowhere' }))).toBe('NOT_FOUND');

    // No engine connected: the copy is stored, not injected.
    const offline = await analyst.api.messages.resend.mutate({ projectId, id: ids[1], toItem: 'Files' });
    expect(offline).toMatchObject({ injected: false, error: { code: 'cluster.no_node' } });

    const seen: Command[] = [];
    const off = h.coordinator.onCommand(async (c) => {
      seen.push(c);
      return { ok: true, nodeId: 'n1' };
    });
    try {
      const edited = adt(1).replace('SMITH^JOHN', 'SMITH^JON');
      const r = await analyst.api.messages.resend.mutate({ projectId, id: ids[1], toItem: 'Route', raw: edited });
      expect(r).toEqual({ newId: expect.any(String), toItem: 'Route', injected: true });
      expect(seen).toEqual([
        {
          kind: 'message.inject',
          projectId,
          item: 'Route',
          messageId: r.newId,
          raw: Buffer.from(edited).toString('base64'),
          contentType: 'application/hl7-v2+er7',
          parentId: ids[1],
        },
      ]);
      const copy = await analyst.api.messages.get.query({ projectId, id: r.newId });
      expect(copy).toMatchObject({ raw: edited, parentId: ids[1], item: 'Route' });
      const orig = await analyst.api.messages.get.query({ projectId, id: ids[1] });
      expect(orig.resends).toEqual([offline.newId, r.newId]);
      expect(orig.trace.map((e) => e.event)).toContain('resent');
    } finally {
      off();
    }
    const audit = await admin.api.audit.list.query({ workspaceId, action: 'message.resend' });
    expect(audit.items).toHaveLength(2);
    expect(audit.items[0]).toMatchObject({ actorName: 'alice', after: { toItem: 'Route', edited: true, injected: true } });
  });
  it('search by status refused: bytes a service refused (not HL7) are listed, with their reason in the trace', async () => {
    const writer = h.store.messages.writer();
    const id = randomUUID();
    const scope = { production: 'adt', projectId, workspaceId };
    await writer.received({ id, ...scope, item: 'ADT In', receivedAt: Date.now(), contentType: 'application/octet-stream', header: { source: 'ADT In' }, raw: new TextEncoder().encode('this is not HL7') });
    await writer.event({ messageId: id, ...scope, item: 'ADT In', event: 'refused', detail: { reason: 'not_hl7', error: 'no MSH segment' } });
    await writer.close();
    const found = await viewer.api.messages.search.query({ projectId, status: 'refused' });
    expect(found.items.map((m) => ({ id: m.id, status: m.status }))).toEqual([{ id, status: 'refused' }]);
    expect((await viewer.api.messages.search.query({ projectId, status: ['failed', 'refused'] })).items.map((m) => m.status).sort()).toEqual(['failed', 'refused']);
    const m = await analyst.api.messages.get.query({ projectId, id });
    expect(m).toMatchObject({ status: 'refused', raw: 'this is not HL7' });
    expect(m.trace.map((e) => [e.event, e.detail])).toEqual([
      ['received', null],
      ['refused', { reason: 'not_hl7', error: 'no MSH segment' }],
    ]);
  });
});
