/**
 * @hie/store — Drizzle schema + SQL migrations; the raw-first batched message store; the
 * control-plane repositories (users, sessions, workspaces, memberships, projects, config
 * versions, deployments, audit). PostgreSQL (node-postgres) or embedded PGlite, one code path.
 */
export { openStore, migrateStore, migrationsFolder } from './store.js';
export type { OpenStoreOptions, Store, StoreBackend } from './store.js';
export type { StoreDb, StoreTx } from './db.js';
export { StoreError, ensureError, toStoreError } from './errors.js';
export type { StoreErrorCode, StoreErrorKind, StoreErrorJSON } from './errors.js';
export { MessageStore, failedItemOf } from './messages.js';
export { finishingEvents, statusOfEvent } from './message-writer.js';
export type * from './message-types.js';
export { localScope } from './message-types.js';
export * as tables from './schema.js';
export {
  membershipRoles,
  desiredStates,
  messageStatuses,
  messageEventNames,
  type MembershipRole,
  type DesiredState,
  type MessageStatus,
  type MessageEventName,
} from './schema.js';
export { UsersRepo, SessionsRepo } from './repos/users.js';
export type { User, NewUser, UserPatch, Session, NewSession } from './repos/users.js';
export { WorkspacesRepo, MembershipsRepo } from './repos/workspaces.js';
export type { Workspace, NewWorkspace, Membership } from './repos/workspaces.js';
export { ProjectsRepo, ConfigVersionsRepo, DeploymentsRepo } from './repos/projects.js';
export type { Project, NewProject, ConfigVersion, ConfigVersionInfo, Deployment } from './repos/projects.js';
export { EnvironmentsRepo, ApiTokensRepo } from './repos/environments.js';
export type { Environment, EnvironmentVariable, ApiToken } from './repos/environments.js';
export { AuditRepo } from './repos/audit.js';
export { TestCasesRepo } from './repos/test-cases.js';
export type { TestCase, TestCaseRun, TestCaseExpected, NewTestCase, TestCasePatch } from './repos/test-cases.js';
export type { AuditEntry, NewAuditEntry, AuditFilter, AuditVerification } from './repos/audit.js';
export { AlertsRepo } from './repos/alerts.js';
export type { AlertRule, AlertStateRow, AlertHistoryEntry, NewAlertRule, AlertRulePatch, NewAlertHistory } from './repos/alerts.js';
export { alertEvents, type AlertEventName } from './schema.js';
export { openTestStore, type TestStore } from './testing.js';
export { firstMigrations } from './test-migrations.js';
