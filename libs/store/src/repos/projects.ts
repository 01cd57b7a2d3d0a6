import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { StoreDb } from '../db.js';
import { StoreError, toStoreError } from '../errors.js';
import { configVersions, deployments, projects, type DesiredState } from '../schema.js';

export type Project = typeof projects.$inferSelect;
export interface NewProject {
  workspaceId: string;
  name: string;
  description?: string;
}

/** A project that has not been deleted: every read and write of this repo goes through it. */
const live = isNull(projects.deletedAt);

/**
 * Projects. Deleting one is soft (`deleted_at` is set): its config versions stay, as the history
 * of what ran, and its name is free again; a deleted project is invisible to every method here.
 */
export class ProjectsRepo {
  constructor(private readonly db: StoreDb) {}

  /** @throws StoreError `store.conflict` when the workspace has a project of that name. */
  async create(input: NewProject): Promise<Project> {
    try {
      const [row] = await this.db.insert(projects).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'projects.create');
    }
  }

  async get(id: string): Promise<Project | undefined> {
    const [row] = await this.db
      .select()
      .from(projects)
      .where(and(eq(projects.id, id), live));
    return row;
  }

  async getByName(workspaceId: string, name: string): Promise<Project | undefined> {
    const [row] = await this.db
      .select()
      .from(projects)
      .where(and(eq(projects.workspaceId, workspaceId), eq(projects.name, name), live));
    return row;
  }

  async list(workspaceId: string): Promise<Project[]> {
    return this.db
      .select()
      .from(projects)
      .where(and(eq(projects.workspaceId, workspaceId), live))
      .orderBy(asc(projects.name));
  }

  /** @throws StoreError `store.not_found`, `store.conflict` */
  async update(id: string, patch: { name?: string; description?: string }): Promise<Project> {
    try {
      const [row] = await this.db
        .update(projects)
        .set({ ...patch, updatedAt: sql`now()` })
        .where(and(eq(projects.id, id), live))
        .returning();
      if (!row) throw new StoreError('store.not_found', `project ${id} not found`, { details: { id } });
      return row;
    } catch (e) {
      throw toStoreError(e, 'projects.update');
    }
  }

  /**
   * Soft-deletes the project: marks it deleted and removes its deployment (nothing should run
   * it any more); its config versions stay. False when there is no such live project.
   */
  async delete(id: string): Promise<boolean> {
    try {
      return await this.db.transaction(async (tx) => {
        const rows = await tx
          .update(projects)
          .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(eq(projects.id, id), live))
          .returning({ id: projects.id });
        if (rows.length === 0) return false;
        await tx.delete(deployments).where(eq(deployments.projectId, id));
        return true;
      });
    } catch (e) {
      throw toStoreError(e, 'projects.delete');
    }
  }
}

export type ConfigVersion = typeof configVersions.$inferSelect;
export type ConfigVersionInfo = Omit<ConfigVersion, 'spec'>;

/**
 * Append-only config versions. A version is never updated (a database trigger refuses it with
 * `store.immutable`); a deleted project keeps its versions (no new ones are saved).
 */
export class ConfigVersionsRepo {
  constructor(private readonly db: StoreDb) {}

  /**
   * Saves `spec` as the project's next version (1, 2, 3…) and makes it the project's
   * `current_version`. The project row is locked for the transaction, so concurrent saves get
   * consecutive numbers instead of a conflict.
   * @throws StoreError `store.not_found` when the project does not exist.
   */
  async create(projectId: string, spec: unknown, authorId: string | null, comment = ''): Promise<ConfigVersion> {
    try {
      return await this.db.transaction(async (tx) => {
        const [project] = await tx
          .select({ currentVersion: projects.currentVersion })
          .from(projects)
          .where(and(eq(projects.id, projectId), live))
          .for('update');
        if (!project) throw new StoreError('store.not_found', `project ${projectId} not found`, { details: { projectId } });
        const version = project.currentVersion + 1;
        const [row] = await tx.insert(configVersions).values({ projectId, version, spec, authorId, comment }).returning();
        await tx.update(projects).set({ currentVersion: version, updatedAt: sql`now()` }).where(eq(projects.id, projectId));
        return row;
      });
    } catch (e) {
      throw toStoreError(e, 'configVersions.create');
    }
  }

  /** Newest first, without the specs. */
  async list(projectId: string): Promise<ConfigVersionInfo[]> {
    return this.db
      .select({
        id: configVersions.id,
        projectId: configVersions.projectId,
        version: configVersions.version,
        authorId: configVersions.authorId,
        comment: configVersions.comment,
        createdAt: configVersions.createdAt,
      })
      .from(configVersions)
      .where(eq(configVersions.projectId, projectId))
      .orderBy(desc(configVersions.version));
  }

  async get(projectId: string, version: number): Promise<ConfigVersion | undefined> {
    const [row] = await this.db
      .select()
      .from(configVersions)
      .where(and(eq(configVersions.projectId, projectId), eq(configVersions.version, version)));
    return row;
  }

  async latest(projectId: string): Promise<ConfigVersion | undefined> {
    const [row] = await this.db
      .select()
      .from(configVersions)
      .where(eq(configVersions.projectId, projectId))
      .orderBy(desc(configVersions.version))
      .limit(1);
    return row;
  }
}

export type Deployment = typeof deployments.$inferSelect;

/** The desired state of each project: which version runs, started or stopped. */
export class DeploymentsRepo {
  constructor(private readonly db: StoreDb) {}

  /**
   * Sets the desired state (insert or update).
   * @throws StoreError `store.not_found` when that version of the project does not exist.
   */
  async upsert(
    projectId: string,
    input: { version: number; desiredState: DesiredState; updatedBy?: string | null; environmentId?: string | null },
  ): Promise<Deployment> {
    try {
      return await this.db.transaction(async (tx) => {
        // A deleted project keeps its versions but is never deployed again.
        const [exists] = await tx
          .select({ id: configVersions.id })
          .from(configVersions)
          .innerJoin(projects, and(eq(projects.id, configVersions.projectId), live))
          .where(and(eq(configVersions.projectId, projectId), eq(configVersions.version, input.version)));
        if (!exists) {
          throw new StoreError('store.not_found', `project ${projectId} has no version ${input.version}`, {
            details: { projectId, version: input.version },
          });
        }
        const values = {
          version: input.version,
          desiredState: input.desiredState,
          updatedBy: input.updatedBy ?? null,
          // Undefined keeps the environment the project runs in (start, stop).
          ...(input.environmentId !== undefined ? { environmentId: input.environmentId } : {}),
        };
        const [row] = await tx
          .insert(deployments)
          .values({ projectId, ...values })
          .onConflictDoUpdate({ target: deployments.projectId, set: { ...values, updatedAt: sql`now()` } })
          .returning();
        return row;
      });
    } catch (e) {
      throw toStoreError(e, 'deployments.upsert');
    }
  }

  async get(projectId: string): Promise<Deployment | undefined> {
    const [row] = await this.db.select().from(deployments).where(eq(deployments.projectId, projectId));
    return row;
  }

  async list(): Promise<Deployment[]> {
    return this.db.select().from(deployments).orderBy(asc(deployments.projectId));
  }

  async delete(projectId: string): Promise<boolean> {
    const rows = await this.db
      .delete(deployments)
      .where(eq(deployments.projectId, projectId))
      .returning({ projectId: deployments.projectId });
    return rows.length > 0;
  }
}
