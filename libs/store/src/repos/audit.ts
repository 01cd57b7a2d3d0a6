import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { StoreDb } from '../db.js';
import { toStoreError } from '../errors.js';
import { auditLog } from '../schema.js';

export type AuditEntry = typeof auditLog.$inferSelect;
export interface NewAuditEntry {
  /** @defaultValue now */
  at?: Date;
  actorId?: string | null;
  actorName?: string | null;
  /** What happened, dotted: `project.create`, `deployment.start`, `message.resend`… */
  action: string;
  entityType: string;
  entityId?: string | null;
  entityName?: string | null;
  workspaceId?: string | null;
  before?: unknown;
  after?: unknown;
  sourceAddress?: string | null;
}
export interface AuditFilter {
  workspaceId?: string;
  actorId?: string;
  action?: string;
  entityType?: string;
  entityId?: string;
  from?: Date;
  to?: Date;
  /** @defaultValue 50 (at most 500) */
  limit?: number;
}

/** The audit trail: append-only, newest first, keyset-paginated on id. */
export class AuditRepo {
  constructor(private readonly db: StoreDb) {}

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    try {
      const [row] = await this.db
        .insert(auditLog)
        .values({ ...entry, before: entry.before ?? null, after: entry.after ?? null })
        .returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'audit.append');
    }
  }

  async query(filter: AuditFilter = {}, cursor?: string): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
    const limit = Math.min(500, Math.max(1, Math.floor(filter.limit ?? 50)));
    const conds: SQL[] = [];
    if (filter.workspaceId !== undefined) conds.push(eq(auditLog.workspaceId, filter.workspaceId));
    if (filter.actorId !== undefined) conds.push(eq(auditLog.actorId, filter.actorId));
    if (filter.action !== undefined) conds.push(eq(auditLog.action, filter.action));
    if (filter.entityType !== undefined) conds.push(eq(auditLog.entityType, filter.entityType));
    if (filter.entityId !== undefined) conds.push(eq(auditLog.entityId, filter.entityId));
    if (filter.from !== undefined) conds.push(gte(auditLog.at, filter.from));
    if (filter.to !== undefined) conds.push(lt(auditLog.at, filter.to));
    if (cursor !== undefined) conds.push(lt(auditLog.id, decodeCursor(cursor, ['number'] as const)[0]));
    try {
      const rows = await this.db
        .select()
        .from(auditLog)
        .where(conds.length > 0 ? and(...conds) : undefined)
        .orderBy(desc(auditLog.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit);
      return rows.length > limit ? { items, nextCursor: encodeCursor([items[items.length - 1].id]) } : { items };
    } catch (e) {
      throw toStoreError(e, 'audit.query');
    }
  }
}
