/**
 * Opening the store: PostgreSQL through node-postgres when a `databaseUrl` is given, the embedded
 * PGlite (PostgreSQL in WebAssembly, same SQL) otherwise. Both give a Drizzle `PgDatabase` over
 * the one schema; every query in this lib is written once against it.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { RunStatement, StoreDb } from './db.js';
import { StoreError, toStoreError } from './errors.js';
import { MessageStore } from './messages.js';
import { AuditRepo } from './repos/audit.js';
import { ConfigVersionsRepo, DeploymentsRepo, ProjectsRepo } from './repos/projects.js';
import { SessionsRepo, UsersRepo } from './repos/users.js';
import { MembershipsRepo, WorkspacesRepo } from './repos/workspaces.js';
import { schema } from './schema.js';

export interface OpenStoreOptions {
  /** `postgres://…`: use PostgreSQL. Without it, the embedded PGlite. */
  databaseUrl?: string;
  /** PGlite's data directory. @defaultValue './.hie/data' */
  dataDir?: string;
  /** PGlite in memory (tests, `hie run`). */
  memory?: boolean;
  /** Apply the migrations on open. @defaultValue true */
  migrate?: boolean;
  /** PostgreSQL pool size. @defaultValue 10 */
  poolSize?: number;
}

export type StoreBackend = 'postgres' | 'pglite';

export interface Store {
  readonly backend: StoreBackend;
  /** The Drizzle database (same type on both backends), for queries this API lacks. */
  readonly db: StoreDb;
  readonly messages: MessageStore;
  readonly users: UsersRepo;
  readonly sessions: SessionsRepo;
  readonly workspaces: WorkspacesRepo;
  readonly memberships: MembershipsRepo;
  readonly projects: ProjectsRepo;
  readonly configVersions: ConfigVersionsRepo;
  readonly deployments: DeploymentsRepo;
  readonly audit: AuditRepo;
  /** Applies pending migrations (see {@link migrateStore}). */
  migrate(): Promise<void>;
  /** Flushes and closes the message writers, then the database. */
  close(): Promise<void>;
}

/** The committed drizzle-kit migrations, next to `src/`. */
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

// Any constant: serialises migrations of several processes sharing one PostgreSQL database.
const MIGRATION_LOCK = 7_434_221_901;

type Driver = { kind: 'postgres'; pool: pg.Pool } | { kind: 'pglite'; client: PGlite };

class StoreImpl implements Store {
  readonly backend: StoreBackend;
  readonly messages: MessageStore;
  readonly users: UsersRepo;
  readonly sessions: SessionsRepo;
  readonly workspaces: WorkspacesRepo;
  readonly memberships: MembershipsRepo;
  readonly projects: ProjectsRepo;
  readonly configVersions: ConfigVersionsRepo;
  readonly deployments: DeploymentsRepo;
  readonly audit: AuditRepo;
  private closed = false;

  constructor(
    readonly db: StoreDb,
    private readonly driver: Driver,
  ) {
    this.backend = driver.kind;
    const run: RunStatement =
      driver.kind === 'postgres'
        ? async (name, text, values) => void (await driver.pool.query({ name, text, values }))
        : async (_name, text, values) => void (await driver.client.query(text, values));
    this.messages = new MessageStore(db, run, driver.kind === 'postgres' ? 2 : 1);
    this.users = new UsersRepo(db);
    this.sessions = new SessionsRepo(db);
    this.workspaces = new WorkspacesRepo(db);
    this.memberships = new MembershipsRepo(db);
    this.projects = new ProjectsRepo(db);
    this.configVersions = new ConfigVersionsRepo(db);
    this.deployments = new DeploymentsRepo(db);
    this.audit = new AuditRepo(db);
  }

  async migrate(): Promise<void> {
    const config = { migrationsFolder };
    try {
      if (this.driver.kind === 'pglite') {
        await migratePglite(drizzlePglite({ client: this.driver.client, schema }), config);
        return;
      }
      const lock = await this.driver.pool.connect();
      try {
        await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migrateNodePg(drizzleNodePg({ client: this.driver.pool, schema }), config);
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        lock.release();
      }
    } catch (e) {
      throw toStoreError(e, 'migrate');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.messages.closeWriters();
    if (this.driver.kind === 'pglite') await this.driver.client.close();
    else await this.driver.pool.end();
  }
}

/**
 * Opens the store and (by default) applies the migrations.
 * @throws StoreError `store.unavailable` when the database cannot be reached or opened.
 */
export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  let store: StoreImpl;
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw unavailable(e, 'postgres');
    }
    store = new StoreImpl(drizzleNodePg({ client: pool, schema }), { kind: 'postgres', pool });
  } else {
    let client: PGlite;
    try {
      let dataDir = 'memory://';
      if (!opts.memory) {
        dataDir = resolve(opts.dataDir ?? './.hie/data');
        // The database holds patient data: only this user may enter its folder (and any parent we create).
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        chmodSync(dataDir, 0o700);
      }
      client = await PGlite.create({ dataDir, extensions: { pg_trgm } });
    } catch (e) {
      throw unavailable(e, 'pglite');
    }
    store = new StoreImpl(drizzlePglite({ client, schema }), { kind: 'pglite', client });
  }
  if (opts.migrate ?? true) {
    try {
      await store.migrate();
      // Day partitions for the days ahead (the retention run keeps them coming).
      await store.messages.ensurePartitions();
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
  }
  return store;
}

/** Applies the committed migrations (idempotent; serialised across processes on PostgreSQL). */
export async function migrateStore(store: Store): Promise<void> {
  await store.migrate();
}

function unavailable(e: unknown, backend: StoreBackend): StoreError {
  const inner = toStoreError(e, 'open');
  return new StoreError('store.unavailable', `cannot open the ${backend} store: ${inner.message}`, {
    details: { ...inner.details, backend },
    cause: inner,
  });
}
