/**
 * API tokens for CI (`hie apply`, pipelines): `Authorization: Bearer hie_…`. A token acts for
 * its user, within its scope: one workspace, a role no higher than the user's there (checked
 * again on every call: lowering the user's role lowers the token's), optionally one project.
 * Stored as a sha256 hash; shown once at creation; expiring; revocable.
 */
import { randomBytes } from 'node:crypto';
import type { MembershipRole } from '@hie/store';
import type { ManagerServices, SessionUser } from '../trpc.js';
import { hashSessionToken } from './session.js';

/** Every API token starts with this (so secret scanners and logs can spot one). */
export const API_TOKEN_PREFIX = 'hie_';

/** What a token allows, as procedures see it (`ctx.token`). */
export interface TokenScope {
  id: string;
  workspaceId: string;
  role: MembershipRole;
  projectId: string | null;
  /** The user is a global admin: admin in the token's workspace (never beyond it). */
  userIsAdmin: boolean;
}

export function newApiToken(): string {
  return `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The token of an `Authorization: Bearer hie_…` header, if it holds one. */
export function bearerApiToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(hie_[A-Za-z0-9_-]{20,200})\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** Last-used times are written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The user and scope behind a token: undefined when it does not exist, was revoked, has
 * expired, or its user is disabled. The user's `isAdmin` is off (a token never manages users or
 * other workspaces).
 */
export async function loadApiToken(services: ManagerServices, token: string, now = Date.now()): Promise<{ user: SessionUser; scope: TokenScope } | undefined> {
  const row = await services.store.apiTokens.getByHash(hashSessionToken(token));
  if (!row || row.revokedAt || row.expiresAt.getTime() <= now) return undefined;
  const user = await services.store.users.get(row.userId);
  if (!user || user.disabled) return undefined;
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) await services.store.apiTokens.touch(row.id);
  return {
    user: { id: user.id, username: user.username, displayName: user.displayName, isAdmin: false },
    scope: { id: row.id, workspaceId: row.workspaceId, role: row.role, projectId: row.projectId, userIsAdmin: user.isAdmin },
  };
}
