/**
 * tRPC set-up: the request context, the error formatter (typed codes, `data.problems` for config
 * problems, never a stack), and the base procedures every router builds on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { initTRPC, TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Coordinator } from '@hie/cluster';
import type { JobQueue } from '@hie/jobs';
import { createHostPolicy, type HostPolicy } from '@hie/policy';
import { formatProblems, problemsFromZodIssues, toTrpcCode, type ConfigProblem, type ItemTypeDescriptor } from '@hie/config';
import type { ConfigVersion, Deployment, MembershipRole, Store } from '@hie/store';
import { recordDenial } from './audit.js';
import { LoginRateLimiter } from './auth/rate-limit.js';
import { bearerApiToken, loadApiToken, type TokenScope } from './auth/api-token.js';
import { hashSessionToken, readCookie, SESSION_COOKIE, sessionCookie } from './auth/session.js';
import { loadSession, slidExpiry, type LiveSession } from './auth/session-lookup.js';
import { TtlCache } from './cache.js';
import { KeyedMutex } from './lock.js';
import { forwarded, isHttps, type TrustProxy } from './http-security.js';
import type { Sandbox } from './sandbox.js';
import type { AlertEvaluator } from './alerts/evaluator.js';
import { SecretBox } from './secrets.js';

/** The signed-in user, as procedures see it. */
export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  isAdmin: boolean;
}

/** A membership as the role cache keeps it. */
export interface CachedMembership {
  role: MembershipRole;
  phiReader: boolean;
}

/** Long-lived things every request shares. */
export interface ManagerServices {
  store: Store;
  coordinator: Coordinator;
  log: Logger;
  limiter: LoginRateLimiter;
  /** Serialises config saves per project. */
  locks: KeyedMutex;
  /** Encrypts secret settings at rest (see secrets.ts). */
  secrets: SecretBox;
  /** Session lifetime (sliding). */
  sessionTtlMs: number;
  /** Absolute session lifetime from sign-in, however active the session is. */
  sessionMaxMs: number;
  /** Add `Secure` to the session cookie (behind HTTPS). */
  secureCookies: boolean;
  /** Folders and hosts items may touch: checked on every spec save. */
  policy: HostPolicy;
  /** Any signed-in user may create a workspace; otherwise only global admins. */
  selfServiceWorkspaces: boolean;
  /** HIE_TRACE_URL: the tracing UI's link template (`{traceId}`), for the message viewer. */
  traceUrl?: string;
  /** Cluster mode: the cluster's job queue (retries, scheduled jobs); absent on a single node. */
  jobs?: JobQueue;
  /** The engine's sandbox (`production.test`, test cases); absent: those answer PRECONDITION_FAILED. */
  sandbox?: Sandbox;
  /** The alert evaluator (test notices of `alerts.test`), set by the manager server. */
  alerts?: AlertEvaluator;
  /** Item types from plugins this process loaded (HIE_PLUGINS): in the palette, validated with their zod schemas. */
  pluginItemTypes: readonly ItemTypeDescriptor[];
  /** Per-request look-ups, kept a few seconds (see {@link TtlCache}). */
  caches: {
    /** Session id → the session's user, expiry and creation time. */
    sessions: TtlCache<LiveSession>;
    /** `userId:workspaceId` → the membership's role and PHI reader flag (`none` when not a member). */
    roles: TtlCache<CachedMembership | 'none'>;
    /** User id → username (display only). */
    usernames: TtlCache<string>;
    /** `projectId:version` → config version: immutable rows, safe to keep. */
    versions: TtlCache<ConfigVersion>;
    /**
     * Every deployment by project, for the project views only (2 s; dropped when this process
     * deploys). Decisions (delete refused while running, start, stop) read the store.
     */
    deployments: TtlCache<Map<string, Deployment>>;
  };
}

/** Options of {@link createServices}. */
export interface ServicesOptions {
  store: Store;
  coordinator: Coordinator;
  log: Logger;
  /** @defaultValue 12 */
  sessionTtlHours?: number;
  /** Absolute session lifetime. @defaultValue 168 (7 days) */
  sessionMaxHours?: number;
  /** @defaultValue false */
  secureCookies?: boolean;
  /** @defaultValue false */
  selfServiceWorkspaces?: boolean;
  /** HIE_TRACE_URL (see {@link Context.traceUrl}). */
  traceUrl?: string;
  limiter?: LoginRateLimiter;
  /** What items may touch on the host (HIE_FILE_ROOTS, HIE_EGRESS_ALLOW, own address). @defaultValue `createHostPolicy()`: the working folder, no allow list */
  policy?: HostPolicy;
  /**
   * The key secret settings are encrypted with (`loadSecretKey`).
   * @defaultValue a random key: secrets saved by this process do not decrypt after a restart
   *   (tests, benchmarks)
   */
  secrets?: SecretBox;
  /**
   * How long a session's user and a membership's role may be served from memory. Changes made
   * through this process apply at once; other manager processes see them after this long.
   * @defaultValue 5000 (0 disables)
   */
  authCacheMs?: number;
  /** Cluster mode: the cluster's job queue (`@hie/jobs`), for `jobs.*`. */
  jobs?: JobQueue;
  /** The engine's sandbox, for `production.test` and test cases. */
  sandbox?: Sandbox;
  /** Item types from plugins (their descriptors, passed in by the composition root). @defaultValue none */
  pluginItemTypes?: readonly ItemTypeDescriptor[];
}

export function createServices(opts: ServicesOptions): ManagerServices {
  return {
    store: opts.store,
    coordinator: opts.coordinator,
    log: opts.log,
    limiter: opts.limiter ?? new LoginRateLimiter(),
    locks: new KeyedMutex(),
    secrets: opts.secrets ?? SecretBox.random(),
    sessionTtlMs: (opts.sessionTtlHours ?? 12) * 3_600_000,
    sessionMaxMs: (opts.sessionMaxHours ?? 168) * 3_600_000,
    secureCookies: opts.secureCookies ?? false,
    policy: opts.policy ?? createHostPolicy(),
    selfServiceWorkspaces: opts.selfServiceWorkspaces ?? false,
    traceUrl: opts.traceUrl,
    jobs: opts.jobs,
    sandbox: opts.sandbox,
    pluginItemTypes: opts.pluginItemTypes ?? [],
    caches: {
      sessions: new TtlCache(opts.authCacheMs ?? 5000),
      roles: new TtlCache(opts.authCacheMs ?? 5000),
      usernames: new TtlCache(60_000),
      versions: new TtlCache(3_600_000, 500),
      deployments: new TtlCache(2000, 1),
    },
  };
}

/** The context of one request. */
export interface Ctx extends ManagerServices {
  user: SessionUser | null;
  /** The stored session id (hash of the token), when signed in. */
  sessionId: string | null;
  /** Set when the caller came with an API token (`Authorization: Bearer hie_…`): what it may do. */
  token: TokenScope | null;
  /** The caller's address (audit, login rate limit). */
  sourceAddress: string | null;
  /** Adds a `Set-Cookie` header to the response. */
  setCookie(value: string): void;
}

/** A context for `createCaller` (tests, scripts): no HTTP, the given user. */
export function callerContext(services: ManagerServices, user: SessionUser | null, sourceAddress = '127.0.0.1'): Ctx {
  return { ...services, user, sessionId: null, token: null, sourceAddress, setCookie: () => undefined };
}

/** Options of {@link createContextFactory}. */
export interface ContextOptions {
  /**
   * Take the source address from `X-Forwarded-For` (only behind a trusted proxy): `true` or a
   * number of trusted proxy hops in front of the manager (`true` = 1). @defaultValue false
   */
  trustProxy?: boolean | number;
}

/** Builds the context of an HTTP request: the session from the `hie_session` cookie. */
export function createContextFactory(shared: ManagerServices, opts: ContextOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<Ctx> => {
    const sourceAddress = sourceAddressOf(req, opts.trustProxy ?? false);
    // `Secure` whenever the browser came over HTTPS (our TLS, or a trusted proxy's), not only when configured.
    const services = { ...shared, secureCookies: shared.secureCookies || isHttps(req, opts.trustProxy ?? false) };
    const setCookie = (value: string) => {
      res.appendHeader('Set-Cookie', value);
    };
    // An API token (CI) stands instead of a session; a bad one is no session (UNAUTHORIZED).
    const apiToken = bearerApiToken(req.headers.authorization);
    if (apiToken) {
      const found = await loadApiToken(services, apiToken);
      return { ...services, user: found?.user ?? null, token: found?.scope ?? null, sessionId: null, sourceAddress, setCookie };
    }
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!token) return { ...services, user: null, sessionId: null, token: null, sourceAddress, setCookie };
    const sessionId = hashSessionToken(token);
    const now = Date.now();
    let session = await loadSession(services, sessionId, now);
    if (!session) return { ...services, user: null, sessionId: null, token: null, sourceAddress, setCookie };
    // Sliding expiry, capped by the absolute lifetime.
    const expiresAt = slidExpiry(services, session, now);
    if (expiresAt !== undefined) {
      await services.store.sessions.touch(sessionId, new Date(expiresAt));
      session = { ...session, expiresAt };
      services.caches.sessions.set(sessionId, session);
      // The browser's cookie must live as long as the session.
      setCookie(sessionCookie(token, (expiresAt - now) / 1000, services.secureCookies));
    }
    return { ...services, user: session.user, sessionId, token: null, sourceAddress, setCookie };
  };
}

/**
 * The client's address. Behind `hops` trusted proxies, each appends the address it received
 * from to `X-Forwarded-For`, so the client is the `hops`-th entry from the right; entries further
 * left were written by the client and are never believed (they would let one client pose as
 * many and slip past the sign-in limits).
 */
export function sourceAddressOf(req: IncomingMessage, trustProxy: TrustProxy): string | null {
  // Fewer entries than proxies: the request did not come through all of them; the leftmost is the best we know.
  return forwarded(req.headers['x-forwarded-for'], trustProxy) ?? req.socket.remoteAddress ?? null;
}

// ── errors ───────────────────────────────────────────────────────────────────────────────────

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The config problems an error carries: zod input issues, or `config.invalid` details. */
function problemsOf(error: TRPCError): ConfigProblem[] | undefined {
  const cause = error.cause;
  if (cause instanceof z.ZodError) return problemsFromZodIssues(cause.issues);
  if (isRecord(cause) && isRecord(cause['details'])) {
    const problems = cause['details']['problems'];
    if (Array.isArray(problems)) return problems.filter(isProblem);
  }
  return undefined;
}

function isProblem(v: unknown): v is ConfigProblem {
  return isRecord(v) && Array.isArray(v['path']) && typeof v['pathText'] === 'string' && typeof v['message'] === 'string';
}

/** The stable HIE error code (`config.invalid`, `store.conflict`…) behind an error, if any. */
function hieCodeOf(error: TRPCError): string | undefined {
  const cause = error.cause;
  if (isRecord(cause) && typeof cause['code'] === 'string' && !(cause instanceof z.ZodError)) return cause['code'];
  return undefined;
}

const t = initTRPC.context<Ctx>().create({
  // Never a stack trace, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const problems = problemsOf(error);
    const hieCode = hieCodeOf(error);
    const { stack: _stack, ...data } = shape.data;
    const message = problems && error.cause instanceof z.ZodError ? `invalid input:\n${formatProblems(problems)}` : shape.message;
    return {
      ...shape,
      message,
      data: { ...data, ...(hieCode ? { hieCode } : {}), ...(problems ? { problems } : {}) },
    };
  },
  sse: {
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 30_000 },
  },
});

/**
 * Maps errors thrown by our code and libs (`HieError`, `StoreError`, `ClusterError`: anything
 * with a stable `code`) to tRPC codes through THE one mapping (`toTrpcCode` in @hie/config).
 * Unexpected errors keep `INTERNAL_SERVER_ERROR` and lose their message (it may hold SQL or
 * paths); the server logs them.
 */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (result.ok) return result;
  const error = result.error;
  const cause = error.cause;
  if (error.code !== 'INTERNAL_SERVER_ERROR' || !isRecord(cause) || cause instanceof TRPCError) return result;
  const code = typeof cause['code'] === 'string' ? cause['code'] : undefined;
  const kind = cause['kind'];
  if (!code || kind === 'unexpected' || code === 'store.query') {
    throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause });
  }
  const message = typeof cause['message'] === 'string' ? cause['message'] : error.message;
  throw new TRPCError({ code: toTrpcCode(cause), message, cause });
});

/** Every FORBIDDEN answer is audited as `access.denied` (after {@link mapErrors}, so mapped ones count too). */
const auditDenials = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'FORBIDDEN') await recordDenial(ctx, path, result.error);
  return result;
});

const requireUser = t.middleware(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
  return next({ ctx: { user: ctx.user } });
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
/** No session needed (`auth.login`, `health`). */
export const publicProcedure = t.procedure.use(auditDenials).use(mapErrors);
/** A signed-in user; `ctx.user` is set. */
export const authedProcedure = publicProcedure.use(requireUser);
/** The context inside an {@link authedProcedure}. */
export type AuthedCtx = Ctx & { user: SessionUser };
