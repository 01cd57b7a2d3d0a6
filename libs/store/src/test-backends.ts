/**
 * The set-up the store's integration tests share: a fresh store per backend for one `describe`.
 * Apart from testing.ts because it imports vitest, and testing.ts is exported by the lib's index.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Store, StoreBackend } from './store.js';
import { openTestStore, type TestStore } from './testing.js';

/** The backends every store integration test runs on, for `describe.each`. */
export const BACKENDS: readonly StoreBackend[] = ['postgres', 'pglite'];

/**
 * Opens a test store on `backend` before the enclosing `describe`'s tests and cleans it up after.
 * Read `store` and `databaseUrl` inside tests or hooks, never while the suite is being collected.
 */
export function useTestStore(backend: StoreBackend): { readonly store: Store; readonly databaseUrl: string | undefined } {
  let t: TestStore | undefined;
  beforeAll(async () => {
    t = await openTestStore(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  const opened = (): TestStore => {
    if (!t) throw new Error('the test store is opened in beforeAll: read it inside a test or hook');
    return t;
  };
  return {
    get store() {
      return opened().store;
    },
    get databaseUrl() {
      return opened().databaseUrl;
    },
  };
}
