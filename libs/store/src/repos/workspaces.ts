import { and, asc, eq, sql } from 'drizzle-orm';
import type { StoreDb } from '../db.js';
import { StoreError, toStoreError } from '../errors.js';
import { memberships, projects, workspaces, type MembershipRole } from '../schema.js';

export type Workspace = typeof workspaces.$inferSelect;
export interface NewWorkspace {
  name: string;
  description?: string;
}

export class WorkspacesRepo {
  constructor(private readonly db: StoreDb) {}

  /** @throws StoreError `store.conflict` when the name is taken. */
  async create(input: NewWorkspace): Promise<Workspace> {
    try {
      const [row] = await this.db.insert(workspaces).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'workspaces.create');
    }
  }

  async get(id: string): Promise<Workspace | undefined> {
    const [row] = await this.db.select().from(workspaces).where(eq(workspaces.id, id));
    return row;
  }

  async getByName(name: string): Promise<Workspace | undefined> {
    const [row] = await this.db.select().from(workspaces).where(eq(workspaces.name, name));
    return row;
  }

  async list(): Promise<Workspace[]> {
    return this.db.select().from(workspaces).orderBy(asc(workspaces.name));
  }

  /** The workspaces a user is a member of, with the role. */
  async listForUser(userId: string): Promise<(Workspace & { role: MembershipRole })[]> {
    const rows = await this.db
      .select({ workspace: workspaces, role: memberships.role })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(eq(memberships.userId, userId))
      .orderBy(asc(workspaces.name));
    return rows.map((r) => ({ ...r.workspace, role: r.role }));
  }

  /** @throws StoreError `store.not_found`, `store.conflict` */
  async update(id: string, patch: Partial<NewWorkspace>): Promise<Workspace> {
    try {
      const [row] = await this.db.update(workspaces).set(patch).where(eq(workspaces.id, id)).returning();
      if (!row) throw new StoreError('store.not_found', `workspace ${id} not found`, { details: { id } });
      return row;
    } catch (e) {
      throw toStoreError(e, 'workspaces.update');
    }
  }

  /** Deletes the workspace with its memberships, projects, versions and deployments (cascade). */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(workspaces).where(eq(workspaces.id, id)).returning({ id: workspaces.id });
    return rows.length > 0;
  }

  async projectCount(id: string): Promise<number> {
    return this.db.$count(projects, eq(projects.workspaceId, id));
  }
}

export type Membership = typeof memberships.$inferSelect;

export class MembershipsRepo {
  constructor(private readonly db: StoreDb) {}

  /**
   * Adds the user to the workspace, or changes their role (and, when given, the PHI reader flag:
   * may a viewer read message bodies).
   */
  async set(userId: string, workspaceId: string, role: MembershipRole, opts: { phiReader?: boolean } = {}): Promise<Membership> {
    try {
      const [row] = await this.db
        .insert(memberships)
        .values({ userId, workspaceId, role, phiReader: opts.phiReader ?? false })
        .onConflictDoUpdate({
          target: [memberships.userId, memberships.workspaceId],
          set: opts.phiReader === undefined ? { role: sql`excluded.role` } : { role: sql`excluded.role`, phiReader: sql`excluded.phi_reader` },
        })
        .returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'memberships.set');
    }
  }

  async get(userId: string, workspaceId: string): Promise<Membership | undefined> {
    const [row] = await this.db
      .select()
      .from(memberships)
      .where(and(eq(memberships.userId, userId), eq(memberships.workspaceId, workspaceId)));
    return row;
  }

  async remove(userId: string, workspaceId: string): Promise<boolean> {
    const rows = await this.db
      .delete(memberships)
      .where(and(eq(memberships.userId, userId), eq(memberships.workspaceId, workspaceId)))
      .returning({ userId: memberships.userId });
    return rows.length > 0;
  }

  async listForWorkspace(workspaceId: string): Promise<Membership[]> {
    return this.db.select().from(memberships).where(eq(memberships.workspaceId, workspaceId)).orderBy(asc(memberships.userId));
  }

  async listForUser(userId: string): Promise<Membership[]> {
    return this.db.select().from(memberships).where(eq(memberships.userId, userId)).orderBy(asc(memberships.workspaceId));
  }
}
