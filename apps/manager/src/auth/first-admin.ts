import { randomBytes } from 'node:crypto';
import { HieError } from '@hie/config';
import type { Store } from '@hie/store';
import { hashPassword } from './password.js';
import { MIN_PASSWORD_LENGTH } from './password-policy.js';

/** What {@link ensureFirstAdmin} did. */
export interface FirstAdminResult {
  /** True when this call created the admin user. */
  created: boolean;
  username: string;
  /**
   * The random one-time password, when no password was given and the user was created. The caller
   * prints it once; it is stored only as a bcrypt hash and never logged.
   */
  generatedPassword?: string;
}

/**
 * Creates the global admin `admin` when the store has no users yet, with `password` (e.g.
 * `HIE_ADMIN_PASSWORD`) or a random one returned to the caller. Does nothing when any user
 * exists (an existing admin's password is never reset from here).
 * @throws HieError `config.invalid` when it would create the admin with a password shorter than
 *   {@link MIN_PASSWORD_LENGTH} characters (the message never holds the password).
 */
export async function ensureFirstAdmin(store: Store, password?: string): Promise<FirstAdminResult> {
  const username = 'admin';
  if ((await store.users.count()) > 0) return { created: false, username };
  if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
    throw new HieError('config.invalid', `HIE_ADMIN_PASSWORD must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const generated = password ? undefined : randomBytes(15).toString('base64url');
  const passwordHash = await hashPassword(password ?? generated!);
  try {
    const user = await store.users.create({ username, passwordHash, displayName: 'Administrator', isAdmin: true });
    await store.audit.append({
      actorName: 'system',
      action: 'user.create',
      entityType: 'user',
      entityId: user.id,
      after: { username, isAdmin: true, firstAdmin: true },
    });
  } catch (e) {
    // Another manager process created it first.
    if (typeof e === 'object' && e !== null && Reflect.get(e, 'code') === 'store.conflict') return { created: false, username };
    throw e;
  }
  return generated ? { created: true, username, generatedPassword: generated } : { created: true, username };
}
