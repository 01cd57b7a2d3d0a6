import { z } from 'zod';

/**
 * The shortest password accepted anywhere (new users, password changes, `HIE_ADMIN_PASSWORD`):
 * length is what makes a password hard to guess (NIST SP 800-63B).
 */
export const MIN_PASSWORD_LENGTH = 12;

/** A new password: at least {@link MIN_PASSWORD_LENGTH} characters, at most 1000 (bcrypt reads 72 bytes). */
export const newPasswordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { message: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(1000);
