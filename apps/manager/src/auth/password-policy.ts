/** The password rule lives in @hie/config so the portal's forms state the rule the manager enforces. */
export { MIN_PASSWORD_LENGTH, newPasswordSchema } from '@hie/config';
