import type { Ctx } from './trpc.js';

/** One audit entry, as a procedure describes it; who and from where come from the context. */
export interface AuditInput {
  /** Dotted: `project.create`, `config.save`, `deployment.deploy`, `message.view`… */
  action: string;
  entityType: string;
  entityId?: string | null;
  /** The entity's name now (a project's, a user's…), so the audit page can show names. */
  entityName?: string | null;
  workspaceId?: string | null;
  /** JSON state before (never a password, token or message body). */
  before?: unknown;
  after?: unknown;
  /** Who, when not the signed-in user (a login, the system). */
  actor?: { id: string | null; name: string | null };
}

/** Appends an audit entry: actor, action, entity, before/after, source address. */
export async function audit(ctx: Ctx, entry: AuditInput): Promise<void> {
  const { actor, ...rest } = entry;
  await ctx.store.audit.append({
    actorId: actor ? actor.id : (ctx.user?.id ?? null),
    actorName: actor ? actor.name : (ctx.user?.username ?? null),
    sourceAddress: ctx.sourceAddress,
    ...rest,
  });
}
