import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '@hie/store';
import { ensureFirstAdmin } from './first-admin.js';

let db: TestStore;
beforeAll(async () => {
  db = await openTestStore('postgres', { prefix: 'hie_test_admin' });
});
afterAll(async () => {
  await db?.cleanup();
});

describe('ensureFirstAdmin', () => {
  it('refuses a HIE_ADMIN_PASSWORD under 12 characters with a clear error (never the password), creating nobody', async () => {
    const err = await ensureFirstAdmin(db.store, 'admin-pw-11').then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(err).toMatchObject({ code: 'config.invalid', message: 'HIE_ADMIN_PASSWORD must be at least 12 characters' });
    expect(await db.store.users.count()).toBe(0);
    expect(await ensureFirstAdmin(db.store, 'admin-pw-twelve')).toEqual({ created: true, username: 'admin' });
  });
});
