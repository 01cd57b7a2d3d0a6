import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { messageStatuses, type MessageSummary, type Project } from '@hie/store';
import { audit, forbidden } from '../audit.js';
import { canReadBodies, requireProject, type Role } from '../authz.js';
import { asSpec, getVersion } from '../spec.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { iso } from '../views.js';

const projectId = z.string().min(1);
/** ISO 8601 text or epoch milliseconds. */
const instant = z
  .union([z.number(), z.string().min(1)])
  .transform((v) => new Date(v))
  .refine((d) => !Number.isNaN(d.getTime()), { message: 'not a date (use ISO 8601 or epoch ms)' });

function summaryView(m: MessageSummary) {
  return { ...m, receivedAt: iso(m.receivedAt), finishedAt: m.finishedAt ? iso(m.finishedAt) : null };
}

/** A message's body as text: UTF-8 when it is valid UTF-8, else Latin-1 (common in HL7 v2). */
function bodyText(raw: Uint8Array): { text: string; encoding: 'utf-8' | 'latin1' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(raw), encoding: 'utf-8' };
  } catch {
    return { text: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1'), encoding: 'latin1' };
  }
}

/**
 * The message, if it belongs to the project (by project id: never by the production's name,
 * which another workspace may use too); NOT_FOUND otherwise.
 */
async function messageOf(ctx: AuthedCtx, project: Project, id: string, includeBody: boolean) {
  const msg = await ctx.store.messages.get(project.id, id, { includeBody });
  if (!msg) throw new TRPCError({ code: 'NOT_FOUND', message: 'message not found' });
  return msg;
}

/** FORBIDDEN unless the caller may read message bodies in the project's workspace. */
async function requireBodies(ctx: AuthedCtx, project: Project, role: Role, what: string): Promise<void> {
  if (await canReadBodies(ctx, project.workspaceId, role)) return;
  // Audited as access.denied by the tRPC middleware, with this scope.
  throw forbidden(`${what} needs the analyst role or the PHI reader flag in this workspace`, {
    entityType: 'project',
    entityId: project.id,
    entityName: project.name,
    workspaceId: project.workspaceId,
    detail: { what, role },
  });
}

export const messagesRouter = router({
  /** Newest first; `nextCursor` fetches the next page. */
  search: authedProcedure
    .input(
      z.object({
        projectId,
        item: z.string().min(1).optional(),
        status: z.union([z.enum(messageStatuses), z.array(z.enum(messageStatuses)).min(1)]).optional(),
        from: instant.optional(),
        to: instant.optional(),
        messageType: z.string().min(1).optional(),
        controlId: z.string().min(1).optional(),
        patientId: z.string().min(1).optional(),
        text: z.string().min(1).max(200).optional(),
        limit: z.int().min(1).max(500).optional(),
        cursor: z.string().min(1).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { project, role } = await requireProject(ctx, input.projectId, 'viewer');
      const { projectId: _p, ...filter } = input;
      // Searching body text is reading bodies (a match is an answer about their content).
      if (filter.text !== undefined) await requireBodies(ctx, project, role, 'searching message text');
      const result = await ctx.store.messages.search(project.id, filter);
      // A search is a view of patient data: audited with its filters, in the owner's workspace.
      await audit(ctx, {
        action: 'message.search',
        entityType: 'project',
        entityId: project.id,
        entityName: project.name,
        workspaceId: project.workspaceId,
        after: { filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() }, results: result.items.length },
      });
      return { items: result.items.map(summaryView), ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) };
    }),

  /**
   * One message with its full trace, and its body (`raw`) for callers who may read bodies
   * (analyst, admin, or a viewer with the PHI reader flag); `bodyHidden` tells a viewer why there
   * is none. Audited in the owning workspace, as a body view when the body was returned.
   */
  get: authedProcedure.input(z.object({ projectId, id: z.string().min(1) })).query(async ({ ctx, input }) => {
    const { project, role } = await requireProject(ctx, input.projectId, 'viewer');
    const withBody = await canReadBodies(ctx, project.workspaceId, role);
    const msg = await messageOf(ctx, project, input.id, withBody);
    await audit(ctx, {
      action: withBody ? 'message.view' : 'message.view_metadata',
      entityType: 'message',
      entityId: msg.id,
      entityName: msg.controlId,
      workspaceId: project.workspaceId,
      after: { projectId: project.id, production: msg.production, item: msg.item, body: withBody },
    });
    const { raw, events, ...summary } = msg;
    const body = raw ? bodyText(raw) : undefined;
    return {
      ...summaryView(summary),
      header: msg.header,
      raw: body?.text ?? null,
      rawEncoding: body?.encoding ?? null,
      bodyHidden: !withBody,
      trace: events.map((e) => ({ id: e.id, item: e.item, event: e.event, at: iso(e.at), detail: e.detail })),
      resends: msg.resends,
    };
  }),

  /**
   * Stores a copy (or an edited body, `raw`) as a new message and hands it to the engine at
   * `toItem`. `injected` is false when no engine took it (it stays unfinished and is resumed
   * when the production next starts).
   */
  resend: authedProcedure
    .input(
      z.object({
        projectId,
        id: z.string().min(1),
        toItem: z.string().min(1),
        raw: z.string().min(1).optional(),
        rawEncoding: z.enum(['utf-8', 'latin1']).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.projectId, 'analyst');
      const orig = await messageOf(ctx, project, input.id, false);
      const dep = await ctx.store.deployments.get(project.id);
      const spec = asSpec((await getVersion(ctx, project, dep?.version)).spec);
      if (!(spec.items ?? []).some((i) => i.name === input.toItem)) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `no item named "${input.toItem}" in the deployed production` });
      }
      const raw = input.raw === undefined ? undefined : Uint8Array.from(Buffer.from(input.raw, input.rawEncoding === 'latin1' ? 'latin1' : 'utf8'));
      const copy = await ctx.store.messages.resend(project.id, orig.id, { toItem: input.toItem, raw, actor: ctx.user.username });
      let injected = false;
      let error: { code: string; message: string } | undefined;
      try {
        const r = await ctx.coordinator.sendCommand({
          kind: 'message.inject',
          projectId: project.id,
          item: input.toItem,
          messageId: copy.newId,
          raw: Buffer.from(copy.raw.buffer, copy.raw.byteOffset, copy.raw.byteLength).toString('base64'),
          contentType: copy.contentType,
          parentId: copy.parentId,
        });
        injected = r.ok;
        error = r.error;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const code = Reflect.get(err, 'code');
        error = { code: typeof code === 'string' ? code : 'engine.unexpected', message: err.message };
      }
      await audit(ctx, {
        action: 'message.resend',
        entityType: 'message',
        entityId: orig.id,
        entityName: orig.controlId,
        workspaceId: project.workspaceId,
        after: { newId: copy.newId, toItem: input.toItem, edited: raw !== undefined, injected },
      });
      return { newId: copy.newId, injected, ...(error ? { error } : {}) };
    }),
});
