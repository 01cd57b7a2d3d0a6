import { z } from 'zod';

/**
 * The shortest password accepted anywhere (new users, password changes, `HIE_ADMIN_PASSWORD`):
 * length is what makes a password hard to guess (NIST SP 800-63B). Shared so the portal's forms
 * state the same rule the manager enforces.
 */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted (bcrypt reads 72 bytes; the cap bounds hashing work). */
export const MAX_PASSWORD_LENGTH = 1000;

/** The rule in words, for forms. */
export const PASSWORD_RULE = `At least ${MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good one.`;

/** A new password: at least {@link MIN_PASSWORD_LENGTH} characters, at most {@link MAX_PASSWORD_LENGTH}. */
export const newPasswordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, { message: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
  .max(MAX_PASSWORD_LENGTH);
