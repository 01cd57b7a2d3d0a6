import { and, asc, eq, lt, ne } from 'drizzle-orm';
import type { StoreDb } from '../db.js';
import { StoreError, toStoreError } from '../errors.js';
import { sessions, users } from '../schema.js';

export type User = typeof users.$inferSelect;
export interface NewUser {
  username: string;
  passwordHash: string;
  displayName?: string;
  isAdmin?: boolean;
  disabled?: boolean;
}
export type UserPatch = Partial<Omit<NewUser, 'username'>>;

export class UsersRepo {
  constructor(private readonly db: StoreDb) {}

  /** @throws StoreError `store.conflict` when the username is taken. */
  async create(input: NewUser): Promise<User> {
    try {
      const [row] = await this.db.insert(users).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'users.create');
    }
  }

  async get(id: string): Promise<User | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async getByUsername(username: string): Promise<User | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.username, username));
    return row;
  }

  async list(): Promise<User[]> {
    return this.db.select().from(users).orderBy(asc(users.username));
  }

  /** @throws StoreError `store.not_found` */
  async update(id: string, patch: UserPatch): Promise<User> {
    const [row] = await this.db.update(users).set(patch).where(eq(users.id, id)).returning();
    if (!row) throw new StoreError('store.not_found', `user ${id} not found`, { details: { id } });
    return row;
  }

  async count(): Promise<number> {
    return this.db.$count(users);
  }
}

export type Session = typeof sessions.$inferSelect;
export interface NewSession {
  /** A hash of the token (never the token). */
  id: string;
  userId: string;
  expiresAt: Date;
  sourceAddress?: string | null;
  /** When the user signed in (the absolute lifetime counts from it). @defaultValue now */
  createdAt?: Date;
}

export class SessionsRepo {
  constructor(private readonly db: StoreDb) {}

  async create(input: NewSession): Promise<Session> {
    try {
      const [row] = await this.db.insert(sessions).values(input).returning();
      return row;
    } catch (e) {
      throw toStoreError(e, 'sessions.create');
    }
  }

  /** The session and its user, if the session exists, has not expired and the user is enabled. */
  async getValid(id: string, now: Date = new Date()): Promise<{ session: Session; user: User } | undefined> {
    const [row] = await this.db
      .select({ session: sessions, user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.id, id));
    if (!row || row.session.expiresAt.getTime() <= now.getTime() || row.user.disabled) return undefined;
    return row;
  }

  /** Moves the expiry (sliding sessions). */
  async touch(id: string, expiresAt: Date): Promise<void> {
    await this.db.update(sessions).set({ expiresAt }).where(eq(sessions.id, id));
  }

  async delete(id: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.id, id));
  }

  async deleteForUser(userId: string): Promise<number> {
    const rows = await this.db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
    return rows.length;
  }

  /** Ends every session of the user but `keepId` (a password change keeps the session that made it). */
  async deleteOthersOfUser(userId: string, keepId: string): Promise<string[]> {
    const rows = await this.db
      .delete(sessions)
      .where(and(eq(sessions.userId, userId), ne(sessions.id, keepId)))
      .returning({ id: sessions.id });
    return rows.map((r) => r.id);
  }

  async deleteExpired(now: Date = new Date()): Promise<number> {
    const rows = await this.db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
    return rows.length;
  }
}
