import { and, desc, eq, lt } from 'drizzle-orm';
import type { StoreDb } from '../db.js';
import { StoreError, toStoreError } from '../errors.js';
import { alertHistory, alertRules, alertState, type AlertEventName } from '../schema.js';

export type AlertRule = typeof alertRules.$inferSelect;
export type AlertStateRow = typeof alertState.$inferSelect;
export type AlertHistoryEntry = typeof alertHistory.$inferSelect;
export interface NewAlertRule {
  workspaceId: string;
  projectId: string;
  name: string;
  condition: string;
  params: Record<string, unknown>;
  channels: Record<string, unknown>[];
  repeatMinutes?: number;
  enabled?: boolean;
}
export type AlertRulePatch = Partial<Pick<NewAlertRule, 'name' | 'condition' | 'params' | 'channels' | 'repeatMinutes' | 'enabled'>>;
export interface NewAlertHistory {
  ruleId: string;
  projectId: string;
  workspaceId: string;
  subject: string;
  event: AlertEventName;
  at?: Date;
  details: Record<string, unknown>;
}

/** Alert rules, the evaluator's state per rule and subject, and the history of notices. */
export class AlertsRepo {
  constructor(private readonly db: StoreDb) {}

  async create(input: NewAlertRule): Promise<AlertRule> {
    try {
      const [row] = await this.db.insert(alertRules).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'alerts.create');
    }
  }

  /** A rule of the project (undefined when it does not exist or belongs to another project). */
  async get(projectId: string, id: string): Promise<AlertRule | undefined> {
    const [row] = await this.db
      .select()
      .from(alertRules)
      .where(and(eq(alertRules.id, id), eq(alertRules.projectId, projectId)));
    return row;
  }

  async list(projectId: string): Promise<AlertRule[]> {
    return this.db.select().from(alertRules).where(eq(alertRules.projectId, projectId)).orderBy(alertRules.name, alertRules.id);
  }

  /** Every enabled rule of every project: what the evaluator walks. */
  async listEnabled(): Promise<AlertRule[]> {
    return this.db.select().from(alertRules).where(eq(alertRules.enabled, true));
  }

  /** @throws StoreError `store.not_found` */
  async update(projectId: string, id: string, patch: AlertRulePatch): Promise<AlertRule> {
    try {
      const [row] = await this.db
        .update(alertRules)
        .set({ ...patch, updatedAt: new Date() })
        .where(and(eq(alertRules.id, id), eq(alertRules.projectId, projectId)))
        .returning();
      if (!row) throw new StoreError('store.not_found', `alert rule ${id} not found`, { details: { id } });
      // A changed rule starts afresh: its old breaches and firing state no longer apply.
      await this.db.delete(alertState).where(eq(alertState.ruleId, id));
      return row;
    } catch (e) {
      throw toStoreError(e, 'alerts.update');
    }
  }

  /** @returns false when there was no such rule in the project. */
  async delete(projectId: string, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(alertRules)
      .where(and(eq(alertRules.id, id), eq(alertRules.projectId, projectId)))
      .returning({ id: alertRules.id });
    return rows.length > 0;
  }

  async states(ruleId: string): Promise<AlertStateRow[]> {
    return this.db.select().from(alertState).where(eq(alertState.ruleId, ruleId));
  }

  async putState(row: AlertStateRow): Promise<void> {
    const { ruleId: _r, subject: _s, ...rest } = row;
    await this.db
      .insert(alertState)
      .values(row)
      .onConflictDoUpdate({ target: [alertState.ruleId, alertState.subject], set: rest });
  }

  async deleteState(ruleId: string, subject: string): Promise<void> {
    await this.db.delete(alertState).where(and(eq(alertState.ruleId, ruleId), eq(alertState.subject, subject)));
  }

  async addHistory(entry: NewAlertHistory): Promise<AlertHistoryEntry> {
    const [row] = await this.db.insert(alertHistory).values(entry).returning();
    return row;
  }

  /** The project's notices, newest first; `before`: an id to page from. */
  async history(projectId: string, opts: { ruleId?: string; before?: number; limit?: number } = {}): Promise<AlertHistoryEntry[]> {
    const conds = [eq(alertHistory.projectId, projectId)];
    if (opts.ruleId) conds.push(eq(alertHistory.ruleId, opts.ruleId));
    if (opts.before !== undefined) conds.push(lt(alertHistory.id, opts.before));
    return this.db
      .select()
      .from(alertHistory)
      .where(and(...conds))
      .orderBy(desc(alertHistory.id))
      .limit(opts.limit ?? 100);
  }
}
