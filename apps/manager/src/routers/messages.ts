import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { parseFhirJson, validateFhir, type FhirIssue } from '@hie/fhir';
import { failedItemOf, messageStatuses, type MessageDetail, type MessageSummary, type Project } from '@hie/store';
import { audit, forbidden } from '../audit.js';
import { canReadBodies, requireProject, type Role } from '../authz.js';
import { listItemTypes } from '../item-types.js';
import { asSpec, getVersion, type Spec } from '../spec.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';
import { iso } from '../views.js';

const projectId = z.string().min(1);
/** ISO 8601 text or epoch milliseconds. */
const instant = z
  .union([z.number(), z.string().min(1)])
  .transform((v) => new Date(v))
  .refine((d) => !Number.isNaN(d.getTime()), { message: 'not a date (use ISO 8601 or epoch ms)' });

/**
 * The message's OpenTelemetry trace: the trace its stored header names (`customProperties.traceparent`,
 * e.g. an `http.in` caller's trace it continued), else the one derived from its id (see the engine's
 * tracing); and the link to it when HIE_TRACE_URL is configured.
 */
export function traceLink(id: string, header: unknown, template: string | undefined): { traceId: string | null; traceUrl: string | null } {
  const tp = (header as { customProperties?: Record<string, unknown> } | null)?.customProperties?.['traceparent'];
  const carried = typeof tp === 'string' ? /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(tp)?.[1] : undefined;
  const own = id.replace(/-/g, '').toLowerCase();
  const traceId = carried ?? (/^[0-9a-f]{32}$/.test(own) ? own : null);
  return { traceId, traceUrl: traceId && template ? template.replaceAll('{traceId}', traceId) : null };
}

/** What `messages.search` filters on (also the selection of `messages.resendMany`). */
const searchFilter = z.object({
  item: z.string().min(1).optional(),
  status: z.union([z.enum(messageStatuses), z.array(z.enum(messageStatuses)).min(1)]).optional(),
  suspended: z.boolean().optional().describe('only suspended messages: failed, and not resent since (replaces status)'),
  from: instant.optional(),
  to: instant.optional(),
  messageType: z.string().min(1).optional(),
  controlId: z.string().min(1).optional(),
  patientId: z.string().min(1).optional(),
  text: z.string().min(1).max(200).optional(),
});

/** Most messages one `messages.resendMany` call resends (a larger selection is cut, and says so). */
export const RESEND_MANY_MAX = 1000;

function summaryView(m: MessageSummary) {
  return { ...m, receivedAt: iso(m.receivedAt), finishedAt: m.finishedAt ? iso(m.finishedAt) : null };
}

/**
 * The R4 validation issues of a FHIR body (`application/fhir+json`), each at its FHIRPath, for
 * the viewer to show beside the elements; `null` for other content types. A body that is not
 * FHIR JSON at all gives one issue at the root.
 */
function fhirProblems(contentType: string, text: string): FhirIssue[] | null {
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/fhir+json') return null;
  try {
    return validateFhir(parseFhirJson(text));
  } catch (e) {
    return [{ severity: 'error', code: 'structure', path: '', message: e instanceof Error ? e.message : String(e) }];
  }
}

/** A message's body as text: UTF-8 when it is valid UTF-8, else Latin-1 (common in HL7 v2). */
export function bodyText(raw: Uint8Array): { text: string; encoding: 'utf-8' | 'latin1' } {
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
export async function requireBodies(ctx: AuthedCtx, project: Project, role: Role, what: string): Promise<void> {
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

/** The deployed production's items (the current version if never deployed), with their kinds. */
interface DeployedItems {
  spec: Spec;
  kind: Map<string, 'service' | 'process' | 'operation' | undefined>;
}

async function deployedItems(ctx: AuthedCtx, project: Project): Promise<DeployedItems> {
  const dep = await ctx.store.deployments.get(project.id);
  const spec = asSpec((await getVersion(ctx, project, dep?.version)).spec);
  const kinds = new Map((await listItemTypes(ctx)).map((t) => [t.type, t.kind]));
  return { spec, kind: new Map((spec.items ?? []).map((i) => [i.name, kinds.get(i.type)])) };
}

/**
 * NOT_FOUND for an item the deployed production does not have; BAD_REQUEST for an inbound
 * service: a service reads from outside (a socket, a folder), never from its queue, so a message
 * injected there would wait forever.
 */
function checkTarget(deployed: DeployedItems, toItem: string): void {
  if (!deployed.kind.has(toItem)) throw new TRPCError({ code: 'NOT_FOUND', message: `no item named "${toItem}" in the deployed production` });
  if (deployed.kind.get(toItem) === 'service') {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `"${toItem}" is an inbound service: it never reads resent messages. Resend to a process or an operation (by default, the item where the message failed).`,
    });
  }
}

/**
 * Where a resend goes: `toItem` when given (checked by {@link checkTarget}); else the item where
 * the message failed (from its trace); else, for a message that failed at (or was received by) a
 * service, that service's only connection. Otherwise BAD_REQUEST: the operator must choose.
 */
function resendTarget(msg: MessageDetail, deployed: DeployedItems, toItem: string | undefined): string {
  if (toItem !== undefined) {
    checkTarget(deployed, toItem);
    return toItem;
  }
  const failedAt = failedItemOf(msg.events);
  const usable = (name: string | undefined) => name !== undefined && deployed.kind.has(name) && deployed.kind.get(name) !== 'service';
  if (usable(failedAt)) return failedAt!;
  const from = failedAt ?? msg.item;
  const next = (deployed.spec.connections ?? []).filter((c) => c.from === from).map((c) => c.to);
  if (next.length === 1 && usable(next[0])) return next[0];
  throw new TRPCError({
    code: 'BAD_REQUEST',
    message: `message ${msg.id}: no default target (${failedAt ? `it failed at "${failedAt}"` : 'it never failed'} and "${from}" has ${next.length} connections); choose toItem`,
  });
}

/** Stores the copy, hands it to the engine and audits it; the engine's refusal is returned, not thrown. */
async function resendOne(ctx: AuthedCtx, project: Project, orig: MessageDetail, toItem: string, raw: Uint8Array | undefined) {
  const copy = await ctx.store.messages.resend(project.id, orig.id, { toItem, raw, actor: ctx.user.username });
  let injected = false;
  let error: { code: string; message: string } | undefined;
  try {
    const r = await ctx.coordinator.sendCommand({
      kind: 'message.inject',
      projectId: project.id,
      item: toItem,
      messageId: copy.newId,
      raw: Buffer.from(copy.raw.buffer, copy.raw.byteOffset, copy.raw.byteLength).toString('base64'),
      contentType: copy.contentType,
      parentId: copy.parentId,
    });
    injected = r.ok;
    error = r.error;
  } catch (e) {
    error = errorOf(e);
  }
  await audit(ctx, {
    action: 'message.resend',
    entityType: 'message',
    entityId: orig.id,
    entityName: orig.controlId,
    workspaceId: project.workspaceId,
    after: { newId: copy.newId, toItem, edited: raw !== undefined, injected },
  });
  return { newId: copy.newId, injected, error };
}

/** A stable code and a message from anything thrown (tRPC, store, cluster errors). */
function errorOf(e: unknown): { code: string; message: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = Reflect.get(err, 'code');
  return { code: typeof code === 'string' ? code : 'engine.unexpected', message: err.message };
}

/** The ids a search finds, newest first, at most {@link RESEND_MANY_MAX}. */
async function searchIds(ctx: AuthedCtx, projectId: string, filter: z.output<typeof searchFilter>) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.store.messages.search(projectId, { ...filter, limit: 500, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
  } while (cursor && ids.length <= RESEND_MANY_MAX);
  return { ids: ids.slice(0, RESEND_MANY_MAX), truncated: ids.length > RESEND_MANY_MAX || (ids.length === RESEND_MANY_MAX && cursor !== undefined) };
}

export const messagesRouter = router({
  /** Newest first; `nextCursor` fetches the next page. */
  search: authedProcedure
    .input(
      searchFilter.extend({
        projectId,
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
      /** FHIR bodies: the R4 issues (FHIRPath locations); null for other content types or a hidden body. */
      problems: body ? fhirProblems(summary.contentType, body.text) : null,
      trace: events.map((e) => ({ id: e.id, item: e.item, event: e.event, at: iso(e.at), detail: e.detail })),
      resends: msg.resends,
      ...traceLink(msg.id, msg.header, ctx.traceUrl),
    };
  }),

  /**
   * Stores a copy (or an edited body, `raw`) as a new message and hands it to the engine at
   * `toItem` — by default the item where the message failed (see {@link resendTarget}); an inbound
   * service is refused (BAD_REQUEST): it reads nothing from its queue, the copy would wait forever.
   * `injected` is false when no engine took it (it stays unfinished and is resumed when the
   * production next starts).
   */
  resend: authedProcedure
    .input(
      z.object({
        projectId,
        id: z.string().min(1),
        toItem: z.string().min(1).optional(),
        raw: z.string().min(1).optional(),
        rawEncoding: z.enum(['utf-8', 'latin1']).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.projectId, 'analyst');
      const orig = await messageOf(ctx, project, input.id, false);
      const deployed = await deployedItems(ctx, project);
      const toItem = resendTarget(orig, deployed, input.toItem);
      const raw = input.raw === undefined ? undefined : Uint8Array.from(Buffer.from(input.raw, input.rawEncoding === 'latin1' ? 'latin1' : 'utf8'));
      const r = await resendOne(ctx, project, orig, toItem, raw);
      return { newId: r.newId, toItem, injected: r.injected, ...(r.error ? { error: r.error } : {}) };
    }),

  /**
   * Resends a selection (`ids`) or every message a search finds (`filter`, e.g. `status: 'failed'`),
   * each to `toItem` or, by default, to the item where it failed — at most {@link RESEND_MANY_MAX}
   * (`truncated` tells when the search found more). One message that cannot be resent (no body,
   * no target) does not stop the others: its error is in `results`. Each resend is audited, and
   * the whole request once more with its selection and counts.
   */
  resendMany: authedProcedure
    .input(
      z
        .object({
          projectId,
          ids: z.array(z.string().min(1)).min(1).max(RESEND_MANY_MAX).optional(),
          filter: searchFilter.optional(),
          toItem: z.string().min(1).optional(),
        })
        .refine((v) => (v.ids === undefined) !== (v.filter === undefined), { message: 'give either ids or filter', path: ['ids'] }),
    )
    .mutation(async ({ ctx, input }) => {
      const { project, role } = await requireProject(ctx, input.projectId, 'analyst');
      if (input.filter?.text !== undefined) await requireBodies(ctx, project, role, 'searching message text');
      const deployed = await deployedItems(ctx, project);
      // A named target is checked once, before anything is resent.
      if (input.toItem !== undefined) checkTarget(deployed, input.toItem);
      const { ids, truncated } = input.ids ? { ids: [...new Set(input.ids)], truncated: false } : await searchIds(ctx, project.id, input.filter ?? {});
      const results: { id: string; newId?: string; toItem?: string; injected: boolean; error?: { code: string; message: string } }[] = [];
      for (const id of ids) {
        try {
          const orig = await messageOf(ctx, project, id, false);
          const toItem = resendTarget(orig, deployed, input.toItem);
          const r = await resendOne(ctx, project, orig, toItem, undefined);
          results.push({ id, newId: r.newId, toItem, injected: r.injected, ...(r.error ? { error: r.error } : {}) });
        } catch (e) {
          results.push({ id, injected: false, error: errorOf(e) });
        }
      }
      const resent = results.filter((r) => r.newId !== undefined).length;
      const injected = results.filter((r) => r.injected).length;
      const filter = input.filter ? { ...input.filter, from: input.filter.from?.toISOString(), to: input.filter.to?.toISOString() } : undefined;
      await audit(ctx, {
        action: 'message.resend_many',
        entityType: 'project',
        entityId: project.id,
        entityName: project.name,
        workspaceId: project.workspaceId,
        after: { ...(filter ? { filter } : { ids: ids.length }), toItem: input.toItem ?? null, selected: ids.length, resent, injected, truncated },
      });
      return { selected: ids.length, resent, injected, failed: ids.length - resent, truncated, results };
    }),

  /**
   * Suspended messages (failed for good, not resent since) per item where they failed: the
   * operator's queue, shown on the dashboard and on the designer's nodes.
   */
  suspendedCounts: authedProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    const counts = await ctx.store.messages.suspendedCounts(project.id);
    return { items: counts, total: counts.reduce((a, c) => a + c.count, 0) };
  }),
});
