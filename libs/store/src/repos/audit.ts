import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { queryRows, toNumber, type StoreDb } from '../db.js';
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

/**
 * The result of {@link AuditRepo.verify}: `rows` entries checked; when broken, the id of the
 * first entry whose stored hash is missing or differs from the one recomputed from its content
 * and its predecessor's hash (an edited row breaks itself; a removed one breaks its successor).
 */
export type AuditVerification = { ok: true; rows: number } | { ok: false; firstBrokenId: number; rows: number };

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

  /**
   * Checks the hash chain in one query: every row's hash is recomputed by the same SQL function
   * the insert trigger uses (`hie_audit_hash`), linked to the stored hash of the row before it in
   * id order. Removing the newest rows cannot be seen from the chain alone.
   */
  async verify(): Promise<AuditVerification> {
    try {
      const [row] = await queryRows<{ rows: unknown; first_broken: unknown }>(
        this.db,
        sql`WITH chain AS (
              SELECT a.id, a.hash, hie_audit_hash(lag(a.hash) OVER (ORDER BY a.id), a) AS expected FROM audit_log a
            )
            SELECT count(*) AS rows, min(id) FILTER (WHERE hash IS NULL OR hash <> expected) AS first_broken FROM chain`,
      );
      const rows = row ? toNumber(row.rows) : 0;
      if (row?.first_broken === null || row?.first_broken === undefined) return { ok: true, rows };
      return { ok: false, firstBrokenId: toNumber(row.first_broken), rows };
    } catch (e) {
      throw toStoreError(e, 'audit.verify');
    }
  }
}
