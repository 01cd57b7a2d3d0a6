import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { alertRuleInputSchema, type AlertChannel } from '@hie/config';
import type { AlertRule } from '@hie/store';
import { alertSecretAad, channelsOf, conditionOf } from '../alerts/evaluator.js';
import { audit } from '../audit.js';
import { requireProject } from '../authz.js';
import { authedProcedure, router, type AuthedCtx } from '../trpc.js';

const projectId = z.string().min(1);
const ruleRef = z.object({ projectId, id: z.string().min(1).max(100) });

/** A channel as the API shows it: an e-mail password only as `hasPassword`. */
function channelView(ch: AlertChannel) {
  if (ch.kind === 'webhook') return ch;
  const { password, ...rest } = ch;
  return { ...rest, hasPassword: Boolean(password) };
}

function ruleView(rule: AlertRule) {
  const condition = conditionOf(rule);
  return {
    id: rule.id,
    projectId: rule.projectId,
    name: rule.name,
    condition: condition ?? { kind: rule.condition },
    channels: channelsOf(rule).map(channelView),
    repeatMinutes: rule.repeatMinutes,
    enabled: rule.enabled,
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
  };
}

/** What the audit log keeps of a rule: no password, sealed or not. */
function auditView(rule: AlertRule) {
  const { id: _i, projectId: _p, createdAt: _c, updatedAt: _u, ...rest } = ruleView(rule);
  return rest;
}

/**
 * Channels to store: e-mail passwords sealed for this project. On update, a channel at the same
 * position whose password is omitted keeps the saved one (write-only: the portal never has it);
 * `null` removes it.
 */
function sealChannels(ctx: AuthedCtx, projectId: string, channels: AlertChannel[], saved: AlertChannel[] = []): Record<string, unknown>[] {
  return channels.map((ch, i) => {
    if (ch.kind !== 'email') return ch;
    const { password, ...rest } = ch;
    const before = saved[i];
    if (password === null) return rest;
    if (password === undefined) return before?.kind === 'email' && before.password ? { ...rest, password: before.password } : rest;
    return { ...rest, password: ctx.secrets.seal(password, alertSecretAad(projectId)) };
  });
}

async function ruleOf(ctx: AuthedCtx, projectId: string, id: string): Promise<AlertRule> {
  const rule = await ctx.store.alerts.get(projectId, id);
  if (!rule) throw new TRPCError({ code: 'NOT_FOUND', message: 'alert rule not found' });
  return rule;
}

/**
 * Alert rules of a project (issue 13 point 3): viewers read rules and history, analysts and admins
 * change them and send test notices. Every change is audited; SMTP passwords are write-only.
 */
export const alertsRouter = router({
  list: authedProcedure.input(z.object({ projectId })).query(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'viewer');
    return (await ctx.store.alerts.list(project.id)).map(ruleView);
  }),

  create: authedProcedure.input(alertRuleInputSchema.extend({ projectId })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const { kind, ...params } = input.condition;
    const rule = await ctx.store.alerts.create({
      workspaceId: project.workspaceId,
      projectId: project.id,
      name: input.name,
      condition: kind,
      params,
      channels: sealChannels(ctx, project.id, input.channels),
      repeatMinutes: input.repeatMinutes,
      enabled: input.enabled,
    });
    await audit(ctx, { action: 'alert.create', entityType: 'alert', entityId: rule.id, entityName: `${project.name}/${rule.name}`, workspaceId: project.workspaceId, after: auditView(rule) });
    return ruleView(rule);
  }),

  update: authedProcedure.input(alertRuleInputSchema.extend({ projectId, id: z.string().min(1).max(100) })).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const before = await ruleOf(ctx, project.id, input.id);
    const { kind, ...params } = input.condition;
    const rule = await ctx.store.alerts.update(project.id, input.id, {
      name: input.name,
      condition: kind,
      params,
      channels: sealChannels(ctx, project.id, input.channels, channelsOf(before)),
      repeatMinutes: input.repeatMinutes,
      enabled: input.enabled,
    });
    await audit(ctx, { action: 'alert.update', entityType: 'alert', entityId: rule.id, entityName: `${project.name}/${rule.name}`, workspaceId: project.workspaceId, before: auditView(before), after: auditView(rule) });
    return ruleView(rule);
  }),

  delete: authedProcedure.input(ruleRef).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const before = await ruleOf(ctx, project.id, input.id);
    await ctx.store.alerts.delete(project.id, input.id);
    await audit(ctx, { action: 'alert.delete', entityType: 'alert', entityId: before.id, entityName: `${project.name}/${before.name}`, workspaceId: project.workspaceId, before: auditView(before) });
    return { ok: true as const };
  }),

  /** Notices sent (fired, repeated, resolved, test), newest first. */
  history: authedProcedure
    .input(z.object({ projectId, ruleId: z.string().min(1).max(100).optional(), before: z.int().min(1).optional(), limit: z.int().min(1).max(500).optional() }))
    .query(async ({ ctx, input }) => {
      const { project } = await requireProject(ctx, input.projectId, 'viewer');
      const rows = await ctx.store.alerts.history(project.id, { ruleId: input.ruleId, before: input.before, limit: input.limit });
      const names = new Map((await ctx.store.alerts.list(project.id)).map((r) => [r.id, r.name]));
      return rows.map((r) => ({ id: r.id, ruleId: r.ruleId, ruleName: names.get(r.ruleId) ?? null, subject: r.subject, event: r.event, at: r.at.toISOString(), details: r.details }));
    }),

  /** Sends a test notice to the rule's channels now; answers each channel's outcome. */
  test: authedProcedure.input(ruleRef).mutation(async ({ ctx, input }) => {
    const { project } = await requireProject(ctx, input.projectId, 'analyst');
    const rule = await ruleOf(ctx, project.id, input.id);
    if (!ctx.alerts) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'alerts are not evaluated by this process' });
    const outcomes = await ctx.alerts.test(rule, project.name);
    await audit(ctx, { action: 'alert.test', entityType: 'alert', entityId: rule.id, entityName: `${project.name}/${rule.name}`, workspaceId: project.workspaceId, after: { outcomes } });
    return { outcomes };
  }),
});
