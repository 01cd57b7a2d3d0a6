/**
 * Opening the store: PostgreSQL through node-postgres when a `databaseUrl` is given, the embedded
 * PGlite (PostgreSQL in WebAssembly, same SQL) otherwise. Both give a Drizzle `PgDatabase` over
 * the one schema; every query in this lib is written once against it.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// Types only: each driver (and its Drizzle adapter) is imported when a store opens on it, so a
// process on PostgreSQL never loads PGlite, and one without a store loads neither.
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { sql } from 'drizzle-orm';
import { queryRows, type RunStatement, type StoreDb } from './db.js';
import { StoreError, toStoreError } from './errors.js';
import { MessageStore } from './messages.js';
import { AlertsRepo } from './repos/alerts.js';
import { AuditRepo } from './repos/audit.js';
import { ApiTokensRepo, EnvironmentsRepo } from './repos/environments.js';
import { ConfigVersionsRepo, DeploymentsRepo, ProjectsRepo } from './repos/projects.js';
import { TestCasesRepo } from './repos/test-cases.js';
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
  /**
   * PostgreSQL pool size. @defaultValue `max(10, writerPipelines + 6)`: the writers' connections
   * plus room for the events writer, recovery, retention and the viewer's queries.
   */
  poolSize?: number;
  /**
   * How many batches a message writer commits at once on PostgreSQL (its `maxInFlight` default),
   * each on its own pool connection: commits overlap instead of queueing behind one. PGlite has one
   * connection and always uses 1.
   * @defaultValue 4
   */
  writerPipelines?: number;
}

/** The default of {@link OpenStoreOptions.writerPipelines}. */
export const DEFAULT_WRITER_PIPELINES = 4;

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
  readonly environments: EnvironmentsRepo;
  readonly apiTokens: ApiTokensRepo;
  /** Saved sandbox test cases and their outcome per config version. */
  readonly testCases: TestCasesRepo;
  readonly alerts: AlertsRepo;
  /** Applies pending migrations (see {@link migrateStore}). */
  migrate(): Promise<void>;
  /**
   * The committed migrations this database has not applied yet (their tags, oldest first): what
   * `/readyz` reports. Another process of a newer release may be about to apply them.
   * @throws StoreError when the database cannot be reached.
   */
  pendingMigrations(): Promise<string[]>;
  /**
   * Runs `fn` only if no other process holds `name` (a PostgreSQL advisory lock held on its own
   * connection for the run); resolves undefined without running it otherwise. Several control
   * planes of one cluster use it so one of them does a periodic task at a time. On the embedded
   * store (one process) it always runs.
   */
  runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
  /** Flushes and closes the message writers, then the database. */
  close(): Promise<void>;
}

/** The committed drizzle-kit migrations, next to `src/`. */
export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

/**
 * postgresql.conf of the embedded store (PGlite rewrites the file on each open). PostgreSQL's
 * default 128 MB of shared buffers is memory the WebAssembly heap touches and never returns: a
 * single-node store reads through the OS page cache as well, and 16 MB cut the idle process by
 * about 125 MB (`npm run bench -- footprint`).
 */
export const EMBEDDED_POSTGRESQL_CONF = ['shared_buffers = 16MB'];

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
  readonly environments: EnvironmentsRepo;
  readonly apiTokens: ApiTokensRepo;
  readonly testCases: TestCasesRepo;
  readonly alerts: AlertsRepo;
  private closed = false;

  constructor(
    readonly db: StoreDb,
    private readonly driver: Driver,
    writerPipelines = DEFAULT_WRITER_PIPELINES,
  ) {
    this.backend = driver.kind;
    const run: RunStatement =
      driver.kind === 'postgres'
        ? async (name, text, values) => void (await driver.pool.query({ name, text, values }))
        : async (_name, text, values) => void (await driver.client.query(text, values));
    this.messages = new MessageStore(db, run, driver.kind === 'postgres' ? writerPipelines : 1);
    this.users = new UsersRepo(db);
    this.sessions = new SessionsRepo(db);
    this.workspaces = new WorkspacesRepo(db);
    this.memberships = new MembershipsRepo(db);
    this.projects = new ProjectsRepo(db);
    this.configVersions = new ConfigVersionsRepo(db);
    this.deployments = new DeploymentsRepo(db);
    this.audit = new AuditRepo(db);
    this.environments = new EnvironmentsRepo(db);
    this.apiTokens = new ApiTokensRepo(db);
    this.testCases = new TestCasesRepo(db);
    this.alerts = new AlertsRepo(db);
  }

  async migrate(): Promise<void> {
    const config = { migrationsFolder };
    try {
      if (this.driver.kind === 'pglite') {
        const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator')]);
        await migrate(drizzle({ client: this.driver.client, schema }), config);
        return;
      }
      const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/node-postgres'), import('drizzle-orm/node-postgres/migrator')]);
      const lock = await this.driver.pool.connect();
      try {
        await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migrate(drizzle({ client: this.driver.pool, schema }), config);
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        lock.release();
      }
    } catch (e) {
      throw toStoreError(e, 'migrate');
    }
  }

  async pendingMigrations(): Promise<string[]> {
    const journal = JSON.parse(readFileSync(resolve(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
    let last = -1;
    try {
      // Drizzle's own record (schema `drizzle`): a migration is applied when its `when` is at most the latest created_at.
      const exists = await queryRows<{ t: string | null }>(this.db, sql`SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`);
      if (exists[0]?.t) {
        const rows = await queryRows<{ at: unknown }>(this.db, sql`SELECT max(created_at) AS at FROM drizzle.__drizzle_migrations`);
        if (rows[0]?.at !== null && rows[0]?.at !== undefined) last = Number(rows[0].at);
      }
    } catch (e) {
      throw toStoreError(e, 'pendingMigrations');
    }
    return journal.entries.filter((e) => e.when > last).map((e) => e.tag);
  }

  async runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.driver.kind === 'pglite') return fn();
    const client = await this.driver.pool.connect();
    try {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [name]);
      if (!got.rows[0]?.ok) return undefined;
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => undefined);
      }
    } finally {
      client.release();
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
    const pipelines = Math.max(1, Math.floor(opts.writerPipelines ?? DEFAULT_WRITER_PIPELINES));
    const [{ default: pg }, { drizzle }] = await Promise.all([import('pg'), import('drizzle-orm/node-postgres')]);
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? Math.max(10, pipelines + 6) });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw unavailable(e, 'postgres');
    }
    store = new StoreImpl(drizzle({ client: pool, schema }), { kind: 'postgres', pool }, pipelines);
  } else {
    const [{ PGlite }, { pg_trgm }, { drizzle }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/contrib/pg_trgm'),
      import('drizzle-orm/pglite'),
    ]);
    let client: PGlite;
    try {
      let dataDir = 'memory://';
      if (!opts.memory) {
        dataDir = resolve(opts.dataDir ?? './.hie/data');
        // The database holds patient data: only this user may enter its folder (and any parent we create).
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        chmodSync(dataDir, 0o700);
      }
      client = await PGlite.create({ dataDir, extensions: { pg_trgm }, postgresqlconf: EMBEDDED_POSTGRESQL_CONF });
    } catch (e) {
      throw unavailable(e, 'pglite');
    }
    store = new StoreImpl(drizzle({ client, schema }), { kind: 'pglite', client });
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
