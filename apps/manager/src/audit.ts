import { TRPCError } from '@trpc/server';
import { ensureError } from '@hie/store';
import type { SpecDiff } from './diff.js';
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

// ── refused attempts ─────────────────────────────────────────────────────────────────────────

/** What a refusal was about, for its `access.denied` audit entry. */
export interface DeniedScope {
  entityType?: string;
  entityId?: string | null;
  entityName?: string | null;
  /** The workspace whose audit trail gets the entry (only from a checked entity, never from raw input). */
  workspaceId?: string | null;
  /** Extra facts for the entry's `after` (the role held, the role needed…). */
  detail?: Record<string, unknown>;
}

/**
 * The `cause` of a FORBIDDEN that says what was refused. It has no `code`, so it never shows in
 * the client's `data.hieCode`.
 */
export class AccessDenied extends Error {
  override readonly name = 'AccessDenied';
  constructor(
    message: string,
    readonly scope: DeniedScope,
  ) {
    super(message);
  }
}

/** A FORBIDDEN error that the audit middleware records with `scope`. */
export function forbidden(message: string, scope: DeniedScope = {}): TRPCError {
  return new TRPCError({ code: 'FORBIDDEN', message, cause: new AccessDenied(message, scope) });
}

/**
 * Records a refused call as `access.denied` (called by the tRPC middleware for every FORBIDDEN,
 * so no procedure can forget). A failure to write is logged, never turned into another error:
 * the caller is refused either way.
 */
export async function recordDenial(ctx: Ctx, procedure: string, error: TRPCError): Promise<void> {
  const scope = error.cause instanceof AccessDenied ? error.cause.scope : {};
  try {
    let entityName = scope.entityName ?? null;
    if (entityName === null && scope.entityType === 'workspace' && scope.entityId) {
      entityName = (await ctx.store.workspaces.get(scope.entityId))?.name ?? null;
    }
    await audit(ctx, {
      action: 'access.denied',
      entityType: scope.entityType ?? 'procedure',
      entityId: scope.entityId ?? null,
      entityName: entityName ?? (scope.entityType === undefined ? procedure : null),
      workspaceId: scope.workspaceId ?? null,
      after: { procedure, reason: error.message, ...scope.detail },
    });
  } catch (e) {
    ctx.log.error({ err: ensureError(e), procedure }, 'could not record a refused call in the audit log');
  }
}

// ── what a config save changed ───────────────────────────────────────────────────────────────

/**
 * A config change as the audit trail keeps it: names and setting paths, never values (a value
 * may be a secret or patient data).
 */
export interface ChangeSummary {
  itemsAdded?: string[];
  itemsRemoved?: string[];
  /** Per changed item, the paths that differ (`settings.port`, `queue.size`). */
  itemsChanged?: { item: string; paths: string[] }[];
  /** `from → to` */
  connectionsAdded?: string[];
  connectionsRemoved?: string[];
  /** Production-wide paths that differ (`description`, `retentionDays`). */
  production?: string[];
}

/** Paths kept per item: enough to read, bounded for a pathological save. */
const MAX_PATHS = 50;

function capped(paths: string[]): string[] {
  return paths.length <= MAX_PATHS ? paths : [...paths.slice(0, MAX_PATHS), `… ${paths.length - MAX_PATHS} more`];
}

/** The audit form of a spec diff: empty lists are left out. */
export function changeSummary(diff: SpecDiff): ChangeSummary {
  const arrow = (c: { from: string; to: string }) => `${c.from} → ${c.to}`;
  const out: ChangeSummary = {};
  if (diff.added.length > 0) out.itemsAdded = diff.added;
  if (diff.removed.length > 0) out.itemsRemoved = diff.removed;
  if (diff.changed.length > 0) out.itemsChanged = diff.changed.map((c) => ({ item: c.item, paths: capped(c.fields.map((f) => f.path)) }));
  if (diff.connectionsAdded.length > 0) out.connectionsAdded = diff.connectionsAdded.map(arrow);
  if (diff.connectionsRemoved.length > 0) out.connectionsRemoved = diff.connectionsRemoved.map(arrow);
  if (diff.production.length > 0) out.production = capped(diff.production.map((f) => f.path));
  return out;
}
