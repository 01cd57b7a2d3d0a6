/**
 * For integration tests (ours and the manager's/engine's): a store on a fresh, uniquely named
 * PostgreSQL database `hie_test_<random>` — dropped by `cleanup()` — or on PGlite in memory.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreBackend } from './store.js';

export interface TestStore {
  store: Store;
  /** The PostgreSQL URL of the test database (undefined on PGlite). */
  databaseUrl?: string;
  /** Closes the store and drops the test database. */
  cleanup(): Promise<void>;
}

/**
 * @param opts.adminUrl a database to run CREATE/DROP DATABASE from
 *   (default `postgres://postgres@127.0.0.1:5432/postgres`: trust auth, as in CI and dev).
 */
export async function openTestStore(
  backend: StoreBackend,
  opts: { adminUrl?: string; migrate?: boolean; /** @defaultValue 'hie_test' */ prefix?: string } = {},
): Promise<TestStore> {
  if (backend === 'pglite') {
    const store = await openStore({ memory: true, migrate: opts.migrate });
    return { store, cleanup: () => store.close() };
  }
  const adminUrl = opts.adminUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const prefix = opts.prefix ?? 'hie_test';
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new TypeError(`bad database name prefix: ${prefix}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  let store: Store;
  try {
    store = await openStore({ databaseUrl, migrate: opts.migrate });
  } catch (e) {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    throw e;
  }
  return {
    store,
    databaseUrl,
    async cleanup() {
      await store.close();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
