import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { StoreDb } from '../db.js';
import { StoreError, toStoreError } from '../errors.js';
import { apiTokens, deployments, environments, environmentVariables, type MembershipRole } from '../schema.js';

export type Environment = typeof environments.$inferSelect;
export type EnvironmentVariable = typeof environmentVariables.$inferSelect;

/** A workspace's environments and their variables (secret values stay sealed: the manager opens them). */
export class EnvironmentsRepo {
  constructor(private readonly db: StoreDb) {}

  /** @throws StoreError `store.conflict` when the workspace has an environment of that name. */
  async create(input: { workspaceId: string; name: string; description?: string }): Promise<Environment> {
    try {
      const [row] = await this.db.insert(environments).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'environments.create');
    }
  }

  async get(id: string): Promise<Environment | undefined> {
    const [row] = await this.db.select().from(environments).where(eq(environments.id, id));
    return row;
  }

  async getByName(workspaceId: string, name: string): Promise<Environment | undefined> {
    const [row] = await this.db
      .select()
      .from(environments)
      .where(and(eq(environments.workspaceId, workspaceId), eq(environments.name, name)));
    return row;
  }

  async list(workspaceId: string): Promise<Environment[]> {
    return this.db.select().from(environments).where(eq(environments.workspaceId, workspaceId)).orderBy(asc(environments.name));
  }

  /** @throws StoreError `store.conflict` while a deployment runs with it. */
  async delete(id: string): Promise<boolean> {
    try {
      const rows = await this.db.delete(environments).where(eq(environments.id, id)).returning({ id: environments.id });
      return rows.length > 0;
    } catch (e) {
      throw toStoreError(e, 'environments.delete');
    }
  }

  async variables(environmentId: string): Promise<EnvironmentVariable[]> {
    return this.db
      .select()
      .from(environmentVariables)
      .where(eq(environmentVariables.environmentId, environmentId))
      .orderBy(asc(environmentVariables.secret), asc(environmentVariables.name));
  }

  /**
   * Sets a variable (insert or replace); a secret's `value` must already be sealed. `hosts`: a
   * secret's allowed destinations (undefined: kept on replace, none on insert).
   */
  async setVariable(input: { environmentId: string; name: string; secret: boolean; value: string; hosts?: string[]; updatedBy: string | null }): Promise<EnvironmentVariable> {
    try {
      const set = { value: input.value, updatedBy: input.updatedBy, updatedAt: sql`now()`, ...(input.hosts ? { hosts: input.hosts } : {}) };
      const [row] = await this.db
        .insert(environmentVariables)
        .values(input)
        .onConflictDoUpdate({ target: [environmentVariables.environmentId, environmentVariables.secret, environmentVariables.name], set })
        .returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'environments.setVariable');
    }
  }

  async deleteVariable(environmentId: string, name: string, secret: boolean): Promise<boolean> {
    const rows = await this.db
      .delete(environmentVariables)
      .where(and(eq(environmentVariables.environmentId, environmentId), eq(environmentVariables.name, name), eq(environmentVariables.secret, secret)))
      .returning({ name: environmentVariables.name });
    return rows.length > 0;
  }

  /** What each environment runs: the deployments resolved with it. */
  async deployments(environmentId: string): Promise<{ projectId: string; version: number; desiredState: string; updatedAt: Date }[]> {
    return this.db
      .select({ projectId: deployments.projectId, version: deployments.version, desiredState: deployments.desiredState, updatedAt: deployments.updatedAt })
      .from(deployments)
      .where(eq(deployments.environmentId, environmentId))
      .orderBy(asc(deployments.projectId));
  }
}

export type ApiToken = typeof apiTokens.$inferSelect;

/** API tokens (hashes only). */
export class ApiTokensRepo {
  constructor(private readonly db: StoreDb) {}

  async create(input: {
    tokenHash: string;
    userId: string;
    name: string;
    workspaceId: string;
    role: MembershipRole;
    projectId?: string | null;
    expiresAt: Date;
  }): Promise<ApiToken> {
    try {
      const [row] = await this.db.insert(apiTokens).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'apiTokens.create');
    }
  }

  async getByHash(tokenHash: string): Promise<ApiToken | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
    return row;
  }

  async listForUser(userId: string): Promise<ApiToken[]> {
    return this.db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(asc(apiTokens.createdAt));
  }

  /** @throws StoreError `store.not_found` when the user has no such live token. */
  async revoke(id: string, userId: string): Promise<ApiToken> {
    const [row] = await this.db
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .returning();
    if (!row) throw new StoreError('store.not_found', `token ${id} not found`, { details: { id } });
    return row;
  }

  async touch(id: string): Promise<void> {
    await this.db.update(apiTokens).set({ lastUsedAt: sql`now()` }).where(eq(apiTokens.id, id));
  }
}
