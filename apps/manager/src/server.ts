/**
 * The manager's HTTP surface as a node:http request handler: `/api/trpc/*` (tRPC, batching and
 * SSE subscriptions), `/healthz`, `/readyz`, `/metrics`. Whatever else is asked is left to the
 * caller (the portal, `hie start`'s own routes): `handle` answers false.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { Logger } from 'pino';
import type { Coordinator } from '@hie/cluster';
import type { ItemTypeDescriptor } from '@hie/config';
import type { JobQueue } from '@hie/jobs';
import type { HostPolicy } from '@hie/policy';
import type { Store } from '@hie/store';
import { refuseBatch } from './auth/batch-guard.js';
import type { LoginRateLimiter } from './auth/rate-limit.js';
import { API_CONTENT_SECURITY_POLICY, bearerMatches, checkMutationRequest, isHttps, setSecurityHeaders } from './http-security.js';
import { AlertEvaluator, type AlertEvaluatorOptions } from './alerts/evaluator.js';
import { addStatusSource, registry } from './metrics.js';
import type { SecretBox } from './secrets.js';
import { appRouter } from './router.js';
import { freshNodes } from './status.js';
import type { Sandbox } from './sandbox.js';
import { createContextFactory, createServices, type ManagerServices } from './trpc.js';

export const TRPC_PREFIX = '/api/trpc/';

export interface ManagerServerOptions {
  store: Store;
  coordinator: Coordinator;
  log: Logger;
  /** Tried for every request the manager does not serve; answers whether it handled it. */
  portalHandler?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** @defaultValue 12 */
  sessionTtlHours?: number;
  /** Absolute session lifetime. @defaultValue 168 (7 days) */
  sessionMaxHours?: number;
  /** `Secure` session cookie (serve over HTTPS). @defaultValue false */
  secureCookies?: boolean;
  /** Trust `X-Forwarded-For` for the source address: `true` or the number of proxy hops. @defaultValue false */
  trustProxy?: boolean | number;
  /** Largest request body accepted, in bytes. @defaultValue 10 MiB */
  maxBodySize?: number;
  limiter?: LoginRateLimiter;
  /** What items may touch on the host; every save is checked against it. @defaultValue the working folder, no allow list */
  policy?: HostPolicy;
  /** Any signed-in user may create a workspace (`HIE_SELF_SERVICE_WORKSPACES=1`). @defaultValue false */
  selfServiceWorkspaces?: boolean;
  /** HIE_TRACE_URL: the message viewer links a message's trace id with it (`{traceId}`). */
  traceUrl?: string;
  /** When set, `/metrics` answers only `Authorization: Bearer <metricsToken>` (401 otherwise). */
  metricsToken?: string;
  /** The key of secret settings (`loadSecretKey`). @defaultValue a random one (tests) */
  secrets?: SecretBox;
  /** Cluster mode: the cluster's job queue (`@hie/jobs`), listed and acted on by `jobs.*`. */
  jobs?: JobQueue;
  /** Runs `production.test` and saved test cases (the engine's, passed in by bin/start.ts). */
  sandbox?: Sandbox;
  /**
   * Evaluate alert rules in this process, every `intervalMs` (`hie start` does; in a cluster every
   * control plane may: one evaluates at a time). Without it `alerts.test` still sends test notices.
   */
  alerts?: Pick<AlertEvaluatorOptions, 'intervalMs' | 'now' | 'notify'>;
  /** Item types from plugins (descriptors: type, kind, description, zod settings): palette, forms, checks at save. */
  pluginItemTypes?: readonly ItemTypeDescriptor[];
}

export interface ManagerServer {
  /** Serves the request if it is the manager's; resolves true when it did. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Ends open SSE streams and stops feeding metrics. The store and coordinator stay open. */
  close(): Promise<void>;
  readonly services: ManagerServices;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': API_CONTENT_SECURITY_POLICY,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function createManagerServer(opts: ManagerServerOptions): ManagerServer {
  const services = createServices({
    store: opts.store,
    coordinator: opts.coordinator,
    log: opts.log,
    sessionTtlHours: opts.sessionTtlHours,
    sessionMaxHours: opts.sessionMaxHours,
    secureCookies: opts.secureCookies,
    limiter: opts.limiter,
    policy: opts.policy,
    selfServiceWorkspaces: opts.selfServiceWorkspaces,
    traceUrl: opts.traceUrl,
    secrets: opts.secrets,
    jobs: opts.jobs,
    sandbox: opts.sandbox,
    pluginItemTypes: opts.pluginItemTypes,
  });
  services.alerts = new AlertEvaluator({ store: opts.store, coordinator: opts.coordinator, secrets: services.secrets, policy: services.policy, log: opts.log, ...opts.alerts });
  if (opts.alerts) services.alerts.start();
  const createContext = createContextFactory(services, { trustProxy: opts.trustProxy });
  const stopMetrics = addStatusSource(opts.coordinator);
  const open = new Set<ServerResponse>();
  const log = opts.log;
  // Behind a trusted proxy its `X-Forwarded-Proto`/`-Host` also count: `Secure` cookies, HSTS, the origin mutations must come from.
  const trustProxy = opts.trustProxy ?? false;
  // Expired sessions are useless rows: sweep them hourly (any manager process may; it is idempotent).
  const sweep = setInterval(() => {
    opts.store.sessions.deleteExpired().catch((e: unknown) => log.warn({ err: e }, 'could not delete expired sessions'));
  }, 3_600_000);
  sweep.unref();

  /**
   * Ready to serve (Kubernetes readiness): the store answers, it has applied every committed
   * migration (a newer release may be migrating it), and an engine node reported recently.
   * `reasons` lists every check that failed; `/healthz` (liveness) checks none of them.
   */
  async function readiness(): Promise<{ ok: true } | { ok: false; reason: string; reasons: string[] }> {
    const reasons: string[] = [];
    try {
      const pending = await opts.store.pendingMigrations();
      if (pending.length > 0) reasons.push(`migrations pending: ${pending.join(', ')}`);
    } catch (e) {
      log.warn({ err: e }, 'readiness: store unreachable');
      reasons.push('store unreachable');
    }
    if (freshNodes(await opts.coordinator.listStatus()).length === 0) reasons.push('no engine node reported in the last 10 s');
    return reasons.length === 0 ? { ok: true } : { ok: false, reason: reasons[0], reasons };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q >= 0 ? url.slice(0, q) : url;
    setSecurityHeaders(res, isHttps(req, trustProxy));

    if (pathname.startsWith(TRPC_PREFIX)) {
      // Every API answer may carry patient data (SSE streams too): no browser or proxy keeps a copy.
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-security-policy', API_CONTENT_SECURITY_POLICY);
      // Oversized batches and batched sign-ins are refused before any procedure runs.
      if (refuseBatch(req, res, decodeURIComponent(pathname.slice(TRPC_PREFIX.length)))) return true;
      open.add(res);
      res.once('close', () => open.delete(res));
      await nodeHTTPRequestHandler({
        router: appRouter,
        req,
        res,
        path: decodeURIComponent(pathname.slice(TRPC_PREFIX.length)),
        maxBodySize: opts.maxBodySize ?? 10 * 1024 * 1024,
        // tRPC's own SSE headers say `no-cache` (a cache may still store it): add no-store.
        responseMeta: () => ({ headers: new Headers({ 'cache-control': 'no-store' }) }),
        createContext: ({ req: r, res: s }) => {
          if (r.method !== 'GET' && r.method !== 'HEAD') checkMutationRequest(r, trustProxy);
          return createContext(r, s);
        },
        onError({ error, path }) {
          // Inputs are never logged: they may hold passwords or message bodies.
          if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, path }, 'API call failed');
        },
      });
      return true;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      switch (pathname) {
        case '/healthz':
          sendJson(res, 200, { ok: true });
          return true;
        case '/readyz': {
          const r = await readiness();
          sendJson(res, r.ok ? 200 : 503, r);
          return true;
        }
        case '/metrics': {
          if (opts.metricsToken !== undefined && !bearerMatches(req.headers.authorization, opts.metricsToken)) {
            sendJson(res, 401, { ok: false, reason: 'a bearer token is required (HIE_METRICS_TOKEN)' }, { 'www-authenticate': 'Bearer realm="metrics"' });
            return true;
          }
          try {
            const text = await registry.metrics();
            res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store', 'content-security-policy': API_CONTENT_SECURITY_POLICY });
            res.end(text);
          } catch (e) {
            log.error({ err: e }, 'metrics collection failed');
            sendJson(res, 500, { ok: false, reason: 'metrics collection failed' });
          }
          return true;
        }
      }
    }
    return opts.portalHandler ? await opts.portalHandler(req, res) : false;
  }

  return {
    handle,
    services,
    async close() {
      clearInterval(sweep);
      await services.alerts?.stop();
      stopMetrics();
      for (const res of open) {
        const type = res.getHeader('content-type');
        if (typeof type === 'string' && type.startsWith('text/event-stream')) res.destroy();
      }
    },
  };
}
