/**
 * What the API answers with: plain JSON, dates as ISO strings (no transformer), never a password
 * hash. One mapper per entity so every router shows an entity the same way.
 */
import type { AuditEntry, Deployment, Project, User } from '@hie/store';

export function iso(d: Date): string {
  return d.toISOString();
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: string;
}

export function userView(u: User): UserView {
  return { id: u.id, username: u.username, displayName: u.displayName, isAdmin: u.isAdmin, disabled: u.disabled, createdAt: iso(u.createdAt) };
}

export interface DeploymentView {
  version: number;
  state: 'running' | 'stopped';
  updatedAt: string;
  updatedBy: string | null;
  /** The environment its references were resolved in (null: none). */
  environmentId: string | null;
}

export function deploymentView(d: Deployment): DeploymentView {
  return { version: d.version, state: d.desiredState, updatedAt: iso(d.updatedAt), updatedBy: d.updatedBy, environmentId: d.environmentId };
}

export interface ProjectView {
  id: string;
  workspaceId: string;
  name: string;
  description: string;
  currentVersion: number;
  createdAt: string;
  updatedAt: string;
  deployment?: DeploymentView;
}

export function projectView(p: Project, deployment?: Deployment): ProjectView {
  return {
    id: p.id,
    workspaceId: p.workspaceId,
    name: p.name,
    description: p.description,
    currentVersion: p.currentVersion,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    ...(deployment ? { deployment: deploymentView(deployment) } : {}),
  };
}

export interface AuditEntryView {
  id: number;
  at: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  /** The entity's name when the entry was written. */
  entityName: string | null;
  workspaceId: string | null;
  before: unknown;
  after: unknown;
  sourceAddress: string | null;
}

export function auditView(a: AuditEntry): AuditEntryView {
  return {
    id: a.id,
    at: iso(a.at),
    actorId: a.actorId,
    actorName: a.actorName,
    action: a.action,
    entityType: a.entityType,
    entityId: a.entityId,
    entityName: a.entityName,
    workspaceId: a.workspaceId,
    before: a.before ?? null,
    after: a.after ?? null,
    sourceAddress: a.sourceAddress,
  };
}
