/**
 * The one Drizzle schema for HIE's durable store. It runs unchanged on PostgreSQL (node-postgres)
 * and on the embedded PGlite; drizzle-kit generates the SQL migrations in `libs/store/drizzle/`
 * from this file (`npx drizzle-kit generate --config libs/store/drizzle.config.ts`).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * `bytea` as `Uint8Array` on both drivers (node-postgres returns a `Buffer`, itself a `Uint8Array`;
 * PGlite returns a plain `Uint8Array`).
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)),
});

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const uuidId = () => text('id').primaryKey().$defaultFn(() => randomUUID());

// ── control plane ────────────────────────────────────────────────────────────────────────────

export const users = pgTable('users', {
  id: uuidId(),
  username: text('username').notNull().unique('users_username_unique'),
  passwordHash: text('password_hash').notNull(),
  displayName: text('display_name').notNull().default(''),
  isAdmin: boolean('is_admin').notNull().default(false),
  createdAt: createdAt(),
  disabled: boolean('disabled').notNull().default(false),
});

export const sessions = pgTable(
  'sessions',
  {
    /** A hash of the session token, never the token itself. */
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: createdAt(),
    sourceAddress: text('source_address'),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);

export const workspaces = pgTable('workspaces', {
  id: uuidId(),
  name: text('name').notNull().unique('workspaces_name_unique'),
  description: text('description').notNull().default(''),
  createdAt: createdAt(),
});

export const membershipRoles = ['admin', 'analyst', 'viewer'] as const;
export type MembershipRole = (typeof membershipRoles)[number];

export const memberships = pgTable(
  'memberships',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    role: text('role').$type<MembershipRole>().notNull(),
    /**
     * May read message bodies (raw and parsed) with a `viewer` role; analysts and admins always
     * may. Metadata and traces need no flag.
     */
    phiReader: boolean('phi_reader').notNull().default(false),
  },
  (t) => [
    primaryKey({ name: 'memberships_pk', columns: [t.userId, t.workspaceId] }),
    index('memberships_workspace_idx').on(t.workspaceId),
    check('memberships_role_check', sql`${t.role} in ('admin', 'analyst', 'viewer')`),
  ],
);

export const projects = pgTable(
  'projects',
  {
    id: uuidId(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** The latest saved config version (0 until the first save). */
    currentVersion: integer('current_version').notNull().default(0),
    /** Set when the project is deleted: it disappears from the API, its config history stays. */
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('projects_workspace_name_unique').on(t.workspaceId, t.name).where(sql`${t.deletedAt} is null`)],
);

export const configVersions = pgTable(
  'config_versions',
  {
    id: uuidId(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** The production spec as saved: immutable once written. */
    spec: jsonb('spec').$type<unknown>().notNull(),
    authorId: text('author_id').references(() => users.id, { onDelete: 'set null' }),
    comment: text('comment').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('config_versions_project_version_unique').on(t.projectId, t.version)],
);

export const desiredStates = ['running', 'stopped'] as const;
export type DesiredState = (typeof desiredStates)[number];

export const deployments = pgTable(
  'deployments',
  {
    projectId: text('project_id')
      .primaryKey()
      .references(() => projects.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    desiredState: text('desired_state').$type<DesiredState>().notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedBy: text('updated_by').references(() => users.id, { onDelete: 'set null' }),
    /** The environment whose variables the running spec was resolved with (none: no references). */
    environmentId: text('environment_id').references(() => environments.id, { onDelete: 'no action' }),
  },
  (t) => [check('deployments_desired_state_check', sql`${t.desiredState} in ('running', 'stopped')`)],
);

/**
 * A workspace's deployment targets (dev, test, prod): the values `${NAME}` and `${secret:NAME}`
 * in item settings resolve to when a version is deployed there.
 */
export const environments = pgTable(
  'environments',
  {
    id: uuidId(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('environments_workspace_name_unique').on(t.workspaceId, t.name)],
);

export const environmentVariables = pgTable(
  'environment_variables',
  {
    environmentId: text('environment_id')
      .notNull()
      .references(() => environments.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** A secret's value is sealed (`hie:enc:v1:…`, bound to environment and name) and never read back. */
    secret: boolean('secret').notNull().default(false),
    value: text('value').notNull(),
    /** A secret's allowed destinations (`lab.example.org`, `*.example.org`, `host:port`): it is refused at deploy anywhere else. */
    hosts: text('hosts').array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedBy: text('updated_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [primaryKey({ name: 'environment_variables_pk', columns: [t.environmentId, t.secret, t.name] })],
);

/**
 * API tokens for CI (`Authorization: Bearer hie_…`): per user, scoped to one workspace with a role
 * no higher than the user's (optionally one project), expiring, revocable. Only a hash is kept.
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuidId(),
    /** sha256 of the token, never the token. */
    tokenHash: text('token_hash').notNull().unique('api_tokens_hash_unique'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    role: text('role').$type<MembershipRole>().notNull(),
    projectId: text('project_id').references(() => projects.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId), check('api_tokens_role_check', sql`${t.role} in ('admin', 'analyst', 'viewer')`)],
);

/** What a saved test case expects: per operation the bytes it would send (text), and the items visited. */
export interface TestCaseExpected {
  /** Operation name → what it would send, one entry per arrival, in order. */
  outputs: Record<string, string[]>;
  /** The item names the message visited, in order; unchecked when absent. */
  path?: string[];
}

/** A project's saved sandbox test cases (golden messages): run on every save. */
export const testCases = pgTable(
  'test_cases',
  {
    id: uuidId(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The sample message, as text. */
    raw: text('raw').notNull(),
    contentType: text('content_type').notNull().default('application/hl7-v2+er7'),
    /** Item the message enters at; NULL: the first enabled service. */
    startItem: text('start_item'),
    expected: jsonb('expected').$type<TestCaseExpected>().notNull(),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('test_cases_project_name_unique').on(t.projectId, t.name)],
);

/** The outcome of a test case on a config version (written when the version is saved, or on a run). */
export const testCaseRuns = pgTable(
  'test_case_runs',
  {
    caseId: text('case_id')
      .notNull()
      .references(() => testCases.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    passed: boolean('passed').notNull(),
    /** Why it failed (one line per difference; no message bodies). */
    failures: jsonb('failures').$type<string[]>().notNull(),
    ranAt: timestamp('ran_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.version] }), index('test_case_runs_project_version_idx').on(t.projectId, t.version)],
);

// ── data plane: messages ─────────────────────────────────────────────────────────────────────

/** `refused`: bytes a service could not take as a message (not HL7, too large, cut off), kept for the viewer, never routed. */
export const messageStatuses = ['received', 'queued', 'processing', 'delivered', 'failed', 'discarded', 'refused', 'expired'] as const;
/** The latest known state of a message, as kept in `message_status.status`. */
export type MessageStatus = (typeof messageStatuses)[number];

export const messageEventNames = [
  'received',
  'queued',
  'processing',
  'delivered',
  'failed',
  'discarded',
  'resent',
  'completed',
  'refused',
  /** Its time to live ran out while it waited in a queue: never processed there (finishing). */
  'expired',
] as const;
export type MessageEventName = (typeof messageEventNames)[number];

/**
 * The four per-message tables (`messages`, `message_status`, `message_text` by `received_at`,
 * `message_events` by `at`) are partitioned by UTC day with PostgreSQL's native range partitioning
 * (migration 0005: drizzle-kit cannot express it, so the partitions and the DEFAULT partition are
 * made in SQL by `hie_ensure_day_partitions`). A partitioned table's keys must hold the partition
 * key, hence the composite primary keys below; retention drops whole day partitions
 * (see `MessageStore.retain`).
 */
export const messages = pgTable(
  'messages',
  {
    id: text('id').notNull(),
    /** The project the message belongs to: every query of the message viewer is scoped by it. */
    projectId: text('project_id').notNull(),
    /** The project's workspace (the data owner), kept beside it for audit and retention. */
    workspaceId: text('workspace_id').notNull(),
    /** The production's name at the time (display only: never a key). */
    production: text('production').notNull(),
    /** The service that received it (or the item a resend was injected into). */
    item: text('item').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    messageType: text('message_type'),
    controlId: text('control_id'),
    patientId: text('patient_id'),
    contentType: text('content_type').notNull(),
    header: jsonb('header').$type<Record<string, unknown>>().notNull(),
    /** The bytes as received; NULL when the storage mode is `metadata`. */
    raw: bytea('raw'),
    size: integer('size').notNull(),
    /** The message this one was resent from. */
    parentId: text('parent_id'),
    correlationId: text('correlation_id'),
  },
  (t) => [
    primaryKey({ name: 'messages_pkey', columns: [t.id, t.receivedAt] }),
    index('messages_project_received_idx').on(t.projectId, t.receivedAt, t.id),
    index('messages_received_idx').on(t.receivedAt, t.id),
    index('messages_control_id_idx').on(t.controlId),
    index('messages_patient_id_idx').on(t.patientId, t.receivedAt, t.id),
    index('messages_message_type_idx').on(t.messageType, t.receivedAt, t.id),
    index('messages_parent_idx').on(t.parentId).where(sql`${t.parentId} is not null`),
  ],
);

/**
 * Text search over message bodies, kept out of the `messages` row so trigram indexing can be
 * written off the ACK path (the engine's lazier events writer) instead of delaying the raw-first
 * commit. `body` is encode(raw, 'escape'): never fails on non-UTF-8 bytes (HL7 is often Latin-1).
 */
export const messageText = pgTable(
  'message_text',
  {
    messageId: text('message_id').notNull(),
    projectId: text('project_id').notNull(),
    workspaceId: text('workspace_id').notNull(),
    production: text('production').notNull(),
    body: text('body').notNull(),
    /** A copy of messages.received_at: the partition key, so the row goes with its message's day. */
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ name: 'message_text_pkey', columns: [t.messageId, t.receivedAt] }), index('message_text_body_trgm_idx').using('gin', sql`${t.body} gin_trgm_ops`)],
);

/**
 * The mutable part of a message, kept apart from the wide, immutable `messages` row: updating a
 * row there would rewrite its body and every index entry (the trigram index above included) on
 * each state change. One narrow row per message, written with it, updated by the writer's batch.
 */
export const messageStatus = pgTable(
  'message_status',
  {
    messageId: text('message_id').notNull(),
    projectId: text('project_id').notNull(),
    workspaceId: text('workspace_id').notNull(),
    production: text('production').notNull(),
    /** A copy of messages.received_at, for ordering status searches and recovery. */
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** The latest known status. */
    status: text('status').$type<MessageStatus>().notNull(),
    /** Set by the first `completed` or `discarded` event: the message needs no recovery. */
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ name: 'message_status_pkey', columns: [t.messageId, t.receivedAt] }),
    index('message_status_project_idx').on(t.projectId, t.status, t.receivedAt, t.messageId),
    index('message_status_status_idx').on(t.status, t.receivedAt, t.messageId),
    // Recovery reads only the open messages: a small partial index, not a scan of the table.
    index('message_status_unfinished_idx').on(t.projectId, t.receivedAt, t.messageId).where(sql`${t.finishedAt} is null`),
  ],
);

export const messageEvents = pgTable(
  'message_events',
  {
    id: bigserial('id', { mode: 'number' }).notNull(),
    // No foreign key on purpose: the hot path stays one cheap insert, and an event for an unknown
    // message must never fail a whole batch. `purge` deletes events together with their message.
    messageId: text('message_id').notNull(),
    projectId: text('project_id').notNull(),
    workspaceId: text('workspace_id').notNull(),
    production: text('production').notNull(),
    item: text('item').notNull(),
    event: text('event').$type<MessageEventName>().notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ name: 'message_events_pkey', columns: [t.id, t.at] }), index('message_events_message_idx').on(t.messageId, t.at, t.id)],
);

// ── audit ─────────────────────────────────────────────────────────────────────────────────────

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    actorId: text('actor_id'),
    actorName: text('actor_name'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    /** The entity's name when the entry was written (the audit page shows names, not ids). */
    entityName: text('entity_name'),
    workspaceId: text('workspace_id'),
    before: jsonb('before').$type<unknown>(),
    after: jsonb('after').$type<unknown>(),
    sourceAddress: text('source_address'),
    /**
     * sha256 (hex) of the previous row's hash and this row's content, set by a trigger: the log is
     * a hash chain (`hie audit verify` reports the first broken link). UPDATE and DELETE are refused.
     */
    hash: text('hash'),
  },
  (t) => [
    index('audit_log_at_idx').on(t.at, t.id),
    index('audit_log_workspace_idx').on(t.workspaceId, t.id),
    index('audit_log_entity_idx').on(t.entityType, t.entityId, t.id),
    index('audit_log_actor_idx').on(t.actorId, t.id),
  ],
);

// ── alerts ───────────────────────────────────────────────────────────────────────────────────

/**
 * An alert rule of a project: a condition (`kind` + `params`, data checked by the manager's zod
 * schema, never code) and the channels it notifies. E-mail passwords are sealed (SecretBox) inside
 * `channels`, never stored or returned in clear.
 */
export const alertRules = pgTable(
  'alert_rules',
  {
    id: uuidId(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    condition: text('condition').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    channels: jsonb('channels').$type<Record<string, unknown>[]>().notNull(),
    /** Minutes between repeats while it keeps firing (0: never repeat). */
    repeatMinutes: integer('repeat_minutes').notNull().default(60),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('alert_rules_project_idx').on(t.projectId)],
);

/** The evaluator's memory per rule and subject (an item, the store): breaching since, firing since, last notice. */
export const alertState = pgTable(
  'alert_state',
  {
    ruleId: text('rule_id')
      .notNull()
      .references(() => alertRules.id, { onDelete: 'cascade' }),
    /** What the condition is about: an item's name, or `store`. */
    subject: text('subject').notNull(),
    breachSince: timestamp('breach_since', { withTimezone: true, mode: 'date' }),
    firingSince: timestamp('firing_since', { withTimezone: true, mode: 'date' }),
    lastNotifiedAt: timestamp('last_notified_at', { withTimezone: true, mode: 'date' }),
    details: jsonb('details').$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ name: 'alert_state_pkey', columns: [t.ruleId, t.subject] })],
);

export const alertEvents = ['fired', 'repeated', 'resolved', 'test'] as const;
export type AlertEventName = (typeof alertEvents)[number];

/** Every notice sent (or tried): the alert history page. */
export const alertHistory = pgTable(
  'alert_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ruleId: text('rule_id')
      .notNull()
      .references(() => alertRules.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    workspaceId: text('workspace_id').notNull(),
    subject: text('subject').notNull(),
    event: text('event', { enum: alertEvents }).notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** What was seen (figures, never message content) and each channel's outcome. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('alert_history_project_idx').on(t.projectId, t.at, t.id), index('alert_history_rule_idx').on(t.ruleId, t.at)],
);

/** Every table, for `drizzle(client, { schema })`. */
export const schema = {
  users,
  sessions,
  workspaces,
  memberships,
  projects,
  configVersions,
  deployments,
  environments,
  environmentVariables,
  apiTokens,
  testCases,
  testCaseRuns,
  messages,
  messageStatus,
  messageEvents,
  auditLog,
  alertRules,
  alertState,
  alertHistory,
};
export type Schema = typeof schema;
