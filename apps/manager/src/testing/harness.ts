/**
 * Integration-test harness: a fresh PostgreSQL database (`hie_test_<random>`), an in-process
 * coordinator, the manager on a real HTTP server on port 0, and typed tRPC clients that carry
 * their own session cookie.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError, type TRPCClient } from '@trpc/client';
import pino from 'pino';
import { InProcessCoordinator } from '@hie/cluster';
import type { JobQueue } from '@hie/jobs';
import type { HostPolicy } from '@hie/policy';
import { openTestStore, type MembershipRole, type Store, type TestStore } from '@hie/store';
import { ensureFirstAdmin } from '../auth/first-admin.js';
import { hashPassword } from '../auth/password.js';
import { LoginRateLimiter } from '../auth/rate-limit.js';
import { createCaller, type AppRouter } from '../router.js';
import type { Sandbox } from '../sandbox.js';
import { createManagerServer, type ManagerServer } from '../server.js';
import { callerContext, type SessionUser } from '../trpc.js';
import { CookieJar } from './cookie-jar.js';
import { cookieEventSource } from './event-source.js';

export const ADMIN_PASSWORD = 'admin-password-1';

export interface ApiClient {
  api: TRPCClient<AppRouter>;
  jar: CookieJar;
}

export interface Harness {
  store: Store;
  coordinator: InProcessCoordinator;
  manager: ManagerServer;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** A client with no session. */
  anonymous(): ApiClient;
  /** A client signed in through `auth.login`. */
  login(username: string, password: string): Promise<ApiClient>;
  /** Creates a user (and optionally a membership) straight in the store. */
  user(username: string, opts?: { password?: string; isAdmin?: boolean; workspaceId?: string; role?: MembershipRole }): Promise<SessionUser>;
  /**
   * The usual cast, signed in: the global admin, a new workspace, alice (analyst) and vera
   * (viewer) in it, and otto, who belongs to no workspace.
   */
  team(workspaceName: string): Promise<{ admin: ApiClient; analyst: ApiClient; viewer: ApiClient; outsider: ApiClient; workspaceId: string }>;
  /** An in-process caller acting as `user` (no HTTP). */
  caller(user: SessionUser | null): ReturnType<typeof createCaller>;
  admin: SessionUser;
  close(): Promise<void>;
}

export async function startHarness(opts: { limiter?: LoginRateLimiter; policy?: HostPolicy; jobs?: JobQueue; sandbox?: Sandbox } = {}): Promise<Harness> {
  const testStore: TestStore = await openTestStore('postgres', { prefix: 'hie_test_mgr' });
  const { store } = testStore;
  const coordinator = new InProcessCoordinator();
  const log = pino({ level: 'silent' });
  const manager = createManagerServer({ store, coordinator, log, limiter: opts.limiter, policy: opts.policy, jobs: opts.jobs, sandbox: opts.sandbox });
  const http: Server = createServer((req, res) => {
    manager.handle(req, res).then(
      (handled) => {
        if (!handled) {
          res.statusCode = 404;
          res.end('not found');
        }
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const url = `${baseUrl}/api/trpc`;

  await ensureFirstAdmin(store, ADMIN_PASSWORD);
  const adminRow = (await store.users.getByUsername('admin'))!;
  const admin: SessionUser = { id: adminRow.id, username: 'admin', displayName: adminRow.displayName, isAdmin: true };

  function client(): ApiClient {
    const jar = new CookieJar();
    const api = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: httpSubscriptionLink({ url, EventSource: cookieEventSource(jar) }),
          false: httpBatchLink({ url, fetch: jar.fetch }),
        }),
      ],
    });
    return { api, jar };
  }

  return {
    store,
    coordinator,
    manager,
    baseUrl,
    admin,
    anonymous: client,
    async login(username, password) {
      const c = client();
      await c.api.auth.login.mutate({ username, password });
      return c;
    },
    async user(username, o = {}) {
      const row = await store.users.create({
        username,
        passwordHash: await hashPassword(o.password ?? `${username}-password`),
        displayName: username,
        isAdmin: o.isAdmin ?? false,
      });
      if (o.workspaceId) await store.memberships.set(row.id, o.workspaceId, o.role ?? 'viewer');
      return { id: row.id, username, displayName: row.displayName, isAdmin: row.isAdmin };
    },
    async team(this: Harness, workspaceName: string) {
      const admin = await this.login('admin', ADMIN_PASSWORD);
      const workspaceId = (await admin.api.workspaces.create.mutate({ name: workspaceName })).id;
      await this.user('alice', { workspaceId, role: 'analyst' });
      await this.user('vera', { workspaceId, role: 'viewer' });
      await this.user('otto');
      return {
        admin,
        workspaceId,
        analyst: await this.login('alice', 'alice-password'),
        viewer: await this.login('vera', 'vera-password'),
        outsider: await this.login('otto', 'otto-password'),
      };
    },
    caller(user) {
      return createCaller(callerContext(manager.services, user));
    },
    async close() {
      await manager.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await coordinator.close();
      await testStore.cleanup();
    },
  };
}

/** The tRPC code of an error thrown by HTTP client or createCaller. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TRPCClientError) return String((e as TRPCClientError<AppRouter>).data?.code);
    if (typeof e === 'object' && e !== null && typeof Reflect.get(e, 'code') === 'string') return String(Reflect.get(e, 'code'));
    throw e;
  }
  throw new Error('expected the call to fail');
}

/**
 * What a call over HTTP that must fail answered: its tRPC code, HIE code (`hieCode`), message and
 * problems (`data.problems`, with their paths).
 * @throws when the call succeeds or fails without an API answer.
 */
export async function apiFailure(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof TRPCClientError)) throw e;
    const err = e as TRPCClientError<AppRouter>;
    return { code: err.data?.code, hieCode: err.data?.hieCode, message: err.message, problems: err.data?.problems ?? [], data: err.data };
  }
  throw new Error('expected the call to fail');
}

/**
 * The problems of a call that must fail with BAD_REQUEST (`data.problems`, with their paths).
 * @throws when the call succeeds or fails otherwise.
 */
export async function badRequestProblems(p: Promise<unknown>): Promise<{ path: (string | number)[]; pathText: string; code: string; message: string }[]> {
  const failure = await apiFailure(p);
  if (failure.code !== 'BAD_REQUEST') throw new Error(`expected BAD_REQUEST, got ${failure.code}: ${failure.message}`);
  return failure.problems;
}

export { itemStatus, nodeStatus, sampleSpec } from './fixtures.js';
