/**
 * FALLBACK API CONTRACT — a type-only stand-in for the manager's `AppRouter`, written from
 * apps/manager/API.md. It is only ever imported with `import type`, so nothing here is bundled.
 *
 * When `@hie/manager` exports `AppRouter` (apps/manager/src/index.ts), switch the one import in
 * `./trpc.ts` to `import type { AppRouter } from '@hie/manager'` and delete this file.
 */
import { initTRPC } from '@trpc/server';
import { z } from 'zod';

/** One problem in a spec, as returned in BAD_REQUEST `data.problems`. */
export interface ApiProblem {
  path: (string | number)[];
  pathText: string;
  code?: string;
  message: string;
}

export type Role = 'admin' | 'analyst' | 'viewer';

export interface User {
  id: string;
  username: string;
  displayName: string;
  isAdmin: boolean;
  disabled?: boolean;
  createdAt?: string;
}

export interface ItemStatus {
  name: string;
  type: string;
  kind: 'service' | 'process' | 'operation';
  state: string;
  enabled: boolean;
  queueDepth: number;
  inFlight: number;
  processed: number;
  errors: number;
  discarded: number;
  restarts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  throughputPerSec: number;
  breaker: string;
  lastError?: string;
  details?: Record<string, unknown>;
}

export interface DeploymentState {
  version: number;
  state: string;
}

export interface MessageSummary {
  id: string;
  receivedAt: string | number;
  item: string;
  status: string;
  messageType?: string | null;
  controlId?: string | null;
  patientId?: string | null;
  size?: number;
  correlationId?: string | null;
}

export interface TraceEvent {
  at: string | number;
  item: string;
  event: string;
  messageId?: string;
  detail?: string | null;
}

export interface MessageDetail extends MessageSummary {
  raw: string;
  contentType?: string;
  header?: Record<string, unknown>;
  trace: TraceEvent[];
}

export interface AuditEntry {
  id: string;
  at: string | number;
  actor: string;
  workspaceId?: string | null;
  entityType: string;
  entityId: string;
  action: string;
  before?: unknown;
  after?: unknown;
}

export interface ItemTypeInfo {
  type: string;
  kind: 'service' | 'process' | 'operation';
  description: string;
  settingsSchema: Record<string, unknown>;
  commonSchema?: Record<string, unknown>;
}

const t = initTRPC.create({
  errorFormatter({ shape }) {
    return { ...shape, data: { ...shape.data, problems: undefined as ApiProblem[] | undefined } };
  },
});

function stub<T>(): T {
  throw new Error('type-only contract');
}

const id = z.string();
const spec = z.record(z.string(), z.unknown());
const ok = t.procedure;

const auth = t.router({
  login: ok.input(z.object({ username: z.string(), password: z.string() })).mutation((): { user: User } => stub()),
  logout: ok.mutation((): { ok: true } => stub()),
  me: ok.query(
    (): { user: User; memberships: { workspaceId: string; workspaceName: string; role: Role }[] } => stub(),
  ),
});

const users = t.router({
  list: ok.query((): User[] => stub()),
  create: ok
    .input(z.object({ username: z.string(), password: z.string(), displayName: z.string().optional(), isAdmin: z.boolean().optional() }))
    .mutation((): User => stub()),
  update: ok
    .input(
      z.object({
        id,
        displayName: z.string().optional(),
        password: z.string().optional(),
        isAdmin: z.boolean().optional(),
        disabled: z.boolean().optional(),
      }),
    )
    .mutation((): User => stub()),
});

const workspaces = t.router({
  list: ok.query((): { id: string; name: string; description: string | null; role: Role }[] => stub()),
  create: ok.input(z.object({ name: z.string(), description: z.string().optional() })).mutation((): { id: string; name: string } => stub()),
  update: ok.input(z.object({ id, name: z.string().optional(), description: z.string().optional() })).mutation((): { id: string } => stub()),
  delete: ok.input(z.object({ id })).mutation((): { ok: true } => stub()),
  members: ok
    .input(z.object({ workspaceId: id }))
    .query((): { userId: string; username: string; displayName: string; role: Role }[] => stub()),
  setMember: ok
    .input(z.object({ workspaceId: id, username: z.string(), role: z.enum(['admin', 'analyst', 'viewer']) }))
    .mutation((): { ok: true } => stub()),
  removeMember: ok.input(z.object({ workspaceId: id, userId: id })).mutation((): { ok: true } => stub()),
});

interface ProjectRow {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  currentVersion: number;
  updatedAt: string | number;
  deployment?: DeploymentState | null;
}

interface VersionRow {
  version: number;
  comment: string | null;
  author: string | null;
  createdAt: string | number;
}

const projects = t.router({
  list: ok.input(z.object({ workspaceId: id })).query((): ProjectRow[] => stub()),
  get: ok
    .input(z.object({ id, version: z.number().optional() }))
    .query((): { project: ProjectRow; version: VersionRow & { spec: Record<string, unknown> }; deployment?: DeploymentState | null } => stub()),
  create: ok
    .input(z.object({ workspaceId: id, name: z.string(), description: z.string().optional(), spec: spec.optional() }))
    .mutation((): ProjectRow => stub()),
  update: ok.input(z.object({ id, name: z.string().optional(), description: z.string().optional() })).mutation((): ProjectRow => stub()),
  delete: ok.input(z.object({ id })).mutation((): { ok: true } => stub()),
  clone: ok.input(z.object({ id, name: z.string() })).mutation((): ProjectRow => stub()),
  export: ok.input(z.object({ id, version: z.number().optional() })).query((): Record<string, unknown> => stub()),
  import: ok.input(z.object({ workspaceId: id, name: z.string().optional(), spec })).mutation((): ProjectRow => stub()),
  save: ok
    .input(z.object({ id, spec, comment: z.string().optional(), baseVersion: z.number() }))
    .mutation((): { version: number; warnings: { cycles: string[][] } } => stub()),
});

const versions = t.router({
  list: ok.input(z.object({ projectId: id })).query((): VersionRow[] => stub()),
  diff: ok.input(z.object({ projectId: id, from: z.number(), to: z.number() })).query(
    (): {
      added: string[];
      removed: string[];
      changed: { item: string; fields: { path: string; before: unknown; after: unknown }[] }[];
      connectionsAdded: { from: string; to: string }[];
      connectionsRemoved: { from: string; to: string }[];
    } => stub(),
  ),
  rollback: ok.input(z.object({ projectId: id, version: z.number() })).mutation((): { version: number } => stub()),
});

const projectInput = z.object({ projectId: id });
const itemInput = z.object({ projectId: id, item: z.string() });

const production = t.router({
  deploy: ok.input(z.object({ projectId: id, version: z.number().optional() })).mutation((): { ok: true } => stub()),
  start: ok.input(projectInput).mutation((): { ok: true } => stub()),
  stop: ok.input(projectInput).mutation((): { ok: true } => stub()),
  reload: ok.input(projectInput).mutation((): { ok: true } => stub()),
  status: ok.input(projectInput).query(
    (): {
      desired?: DeploymentState | null;
      running?: (DeploymentState & { error?: string | null; items: ItemStatus[] }) | null;
    } => stub(),
  ),
  itemStart: ok.input(itemInput).mutation((): { ok: true } => stub()),
  itemStop: ok.input(itemInput).mutation((): { ok: true } => stub()),
  itemRestart: ok.input(itemInput).mutation((): { ok: true } => stub()),
  live: ok.input(projectInput).subscription(async function* (): AsyncGenerator<{ at: string | number; items: ItemStatus[] }> {
    yield stub();
  }),
});

const itemTypes = t.router({
  list: ok.query((): { types: ItemTypeInfo[]; common: Record<string, unknown> } => stub()),
});

const messages = t.router({
  search: ok
    .input(
      z.object({
        projectId: id,
        item: z.string().optional(),
        status: z.string().optional(),
        from: z.string().optional(),
        to: z.string().optional(),
        messageType: z.string().optional(),
        controlId: z.string().optional(),
        patientId: z.string().optional(),
        text: z.string().optional(),
        limit: z.number().optional(),
        cursor: z.string().nullish(),
      }),
    )
    .query((): { items: MessageSummary[]; nextCursor?: string | null } => stub()),
  get: ok.input(z.object({ projectId: id, id })).query((): MessageDetail => stub()),
  resend: ok
    .input(z.object({ projectId: id, id, toItem: z.string(), raw: z.string().optional() }))
    .mutation((): { newId: string } => stub()),
});

const audit = t.router({
  list: ok
    .input(
      z.object({
        workspaceId: z.string().optional(),
        actor: z.string().optional(),
        entityType: z.string().optional(),
        action: z.string().optional(),
        from: z.string().optional(),
        to: z.string().optional(),
        limit: z.number().optional(),
        cursor: z.string().nullish(),
      }),
    )
    .query((): { items: AuditEntry[]; nextCursor?: string | null } => stub()),
});

const appRouter = t.router({
  auth,
  users,
  workspaces,
  projects,
  items: t.router({
    list: ok.input(projectInput).query((): Record<string, unknown>[] => stub()),
  }),
  versions,
  production,
  itemTypes,
  messages,
  audit,
  health: ok.query((): { ok: true } => stub()),
});

export type AppRouter = typeof appRouter;
