/**
 * `hie start` — the all-in-one process: the manager API, an engine node (in-process coordinator
 * and bus), the embedded store (or PostgreSQL with DATABASE_URL) and the portal, on one port.
 * In cluster mode (DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS set) the coordinator is etcd and the
 * engine node is one node of the cluster; `--no-engine` runs the control plane alone.
 * This file is the composition root: the engine and the manager never import each other; they
 * meet here through @hie/cluster and @hie/store.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { clusterFromEnv, EtcdCoordinator, etcdCipher, InProcessCoordinator, type ClusterSettings, type Coordinator, type ReportedProduction } from '@hie/cluster';
import {
  createClusterJobs,
  createSandbox,
  loadConfiguredPlugins,
  pluginDefinitions,
  pluginDescriptors,
  readTelemetryEnv,
  readEngineEnv,
  redisStreamsBusFor,
  singletonTypes,
  startNodeTelemetry,
  startStoreNode,
  type LoadedPlugin,
  type StoreNode,
  type StoreTracker,
} from '@hie/engine';
import { JobQueue } from '@hie/jobs';
import { createManagerServer, ensureFirstAdmin, loadSecretKey, readEnv, registry, restoreDesiredState, SecretBox, seedDemo, sessionSettings } from '@hie/manager';
import { hostPolicyFromEnv } from '@hie/policy';
import { Gauge } from 'prom-client';
import { openStore, type MessageWriter } from '@hie/store';
import { portalBuildDecision } from './portal-build';

// The checkout: this file is bin/start.ts, or dist/bin/start.js when compiled (`npm run build`).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), import.meta.url.endsWith('.ts') ? '..' : '../..');
const portalDir = path.join(root, 'apps/portal');

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * Build the portal on the first start, and again when its sources changed after the last build
 * (a stale `.next` would serve yesterday's portal), showing next's own progress.
 */
async function portalHandler(log: pino.Logger): Promise<Handler | undefined> {
  if (process.env.HIE_PORTAL === 'off' || !existsSync(path.join(portalDir, 'src/app'))) return undefined;
  const decision = portalBuildDecision(root);
  if (decision.build) {
    process.stdout.write(
      decision.reason === 'missing'
        ? 'Building the portal for the first start (about a minute)…\n'
        : `Rebuilding the portal: ${path.relative(root, decision.changed.file)} changed after the last build (about a minute)…\n`,
    );
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build', portalDir], {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      });
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      log.error({ code }, 'portal build failed; the API still runs at /api/trpc');
      return undefined;
    }
  }
  const { default: next } = await import('next');
  // The manual at /docs reads docs/ of this checkout.
  process.env.HIE_DOCS_DIR ??= path.join(root, 'docs');
  const app = next({ dev: false, dir: portalDir, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  return (req, res) => handle(req, res);
}

/**
 * Prometheus gauges for the message store writers (batch sizes, rows, flush times), per project:
 * labelled by project id (production names are not unique across workspaces).
 */
function storeMetrics(list: () => { projectId: string; tracker: StoreTracker }[]): void {
  const figure = (name: string, help: string, pick: (m: ReturnType<MessageWriter['metrics']>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['project', 'writer'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { projectId, tracker } of list()) {
          const m = tracker.writerMetrics();
          this.set({ project: projectId, writer: 'raw' }, pick(m.raw));
          this.set({ project: projectId, writer: 'events' }, pick(m.events));
        }
      },
    });
  figure('hie_store_batches', 'Batches the message store writer has committed.', (m) => m.batches);
  figure('hie_store_rows', 'Entries (messages, events) the message store writer has committed.', (m) => m.rows);
  figure('hie_store_batch_size_avg', 'Mean entries per committed batch.', (m) => m.avgBatchSize);
  figure('hie_store_flush_ms_last', 'Duration of the last batch commit, in milliseconds.', (m) => m.lastFlushMs);
  figure('hie_store_pending', 'Entries waiting or in flight in the writer.', (m) => m.pending);
  figure('hie_store_failed_batches', 'Batches that failed to commit.', (m) => m.failedBatches);
}

/** The certificate and key for HTTPS (HIE_TLS_CERT, HIE_TLS_KEY), read before anything starts. */
function readTls(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!certFile || !keyFile) return undefined;
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${name}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
    }
  };
  const pair = { cert: read('HIE_TLS_CERT', certFile), key: read('HIE_TLS_KEY', keyFile) };
  try {
    // Parse now: not PEM, or a key that does not match the certificate, must stop the start with a clear message.
    tls.createSecureContext(pair);
  } catch (e) {
    throw new Error(`HIE_TLS_CERT/HIE_TLS_KEY: not a usable certificate and key (${(e as Error).message})`, { cause: e });
  }
  return pair;
}

/**
 * Waits until the engine has applied every production that should run (at most `timeoutMs`), and
 * returns those it reports failed, e.g. a listener whose port is taken (EADDRINUSE), and those
 * still starting: the banner must never call them running.
 */
async function productionOutcomes(coordinator: Coordinator, timeoutMs: number): Promise<{ failed: ReportedProduction[]; pending: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wanted = (await coordinator.listDesired()).filter((d) => d.state === 'running');
    const reported = (await coordinator.listStatus()).flatMap((n) => n.productions);
    const outcome = wanted.map((d) => ({
      production: d.production,
      report: reported.find((p) => p.projectId === d.projectId && p.version === d.version && (p.state === 'running' || p.state === 'failed')),
    }));
    const pending = outcome.filter((o) => !o.report).map((o) => o.production);
    if (pending.length === 0 || Date.now() > deadline) {
      return { failed: outcome.flatMap((o) => (o.report?.state === 'failed' ? [o.report] : [])), pending };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The coordinator: etcd in cluster mode (a node's when this process runs an engine), else in-process. */
async function openCoordinator(
  cluster: ClusterSettings | undefined,
  withEngine: boolean,
  secretKey: string | undefined,
  log: pino.Logger,
  plugins: ReturnType<typeof pluginDefinitions>,
): Promise<{ coordinator: Coordinator; nodeId: string }> {
  if (!cluster) return { coordinator: new InProcessCoordinator(), nodeId: 'local' };
  const nodeId = cluster.nodeId ?? `${os.hostname()}-${randomUUID().slice(0, 8)}`;
  // Desired state carries secret settings in clear for the engines: sealed in etcd with HIE_SECRET_KEY.
  if (!secretKey) log.warn('cluster mode without HIE_SECRET_KEY: desired state (with secret settings) is stored in clear in etcd');
  const coordinator = new EtcdCoordinator({
    endpoints: cluster.etcdEndpoints,
    prefix: cluster.prefix,
    log,
    cipher: secretKey ? etcdCipher(secretKey) : undefined,
    ...(withEngine ? { node: { nodeId, isSingleton: singletonTypes(plugins) } } : {}),
  });
  try {
    await coordinator.start();
  } catch (e) {
    await coordinator.close();
    throw e;
  }
  return { coordinator, nodeId };
}

export async function start(argv: string[] = process.argv.slice(3)): Promise<number> {
  const env = readEnv();
  const log = pino({ level: env.HIE_LOG_LEVEL, base: { svc: 'hie' } });
  const withEngine = !argv.includes('--no-engine');
  let tlsPair: ReturnType<typeof readTls>;
  let cluster: ClusterSettings | undefined;
  let loaded: LoadedPlugin[];
  try {
    tlsPair = readTls(env.HIE_TLS_CERT, env.HIE_TLS_KEY);
    // Item-type plugins (HIE_PLUGINS, hie.config.yaml): the engine runs them, the manager shows and checks them.
    loaded = await loadConfiguredPlugins(readEngineEnv());
    cluster = clusterFromEnv(env);
    if (!cluster && !withEngine) throw new Error('--no-engine runs the control plane of a cluster: set DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS');
  } catch (e) {
    process.stderr.write(`hie start: ${(e as Error).message}\n`);
    return 1;
  }
  const secretKey = loadSecretKey({ key: env.HIE_SECRET_KEY, dataDir: env.HIE_DATA_DIR });
  if (secretKey.source === 'generated') log.warn({ file: secretKey.file }, 'generated the key of secret settings; back it up (or set HIE_SECRET_KEY): without it they cannot be decrypted');
  const secrets = new SecretBox(secretKey.key);
  const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HIE_DATA_DIR, writerPipelines: env.HIE_STORE_PIPELINES });
  const plugins = pluginDefinitions(loaded);
  const { coordinator, nodeId } = await openCoordinator(cluster, withEngine, env.HIE_SECRET_KEY, log, plugins);
  // One policy for saves (manager) and starts (engine); the manager's own address is never an egress target.
  const policy = hostPolicyFromEnv(env, [{ host: env.HIE_HOST, port: env.HIE_PORT }]);
  // Cluster: hand-offs between items travel over Redis Streams, one bus per project.
  const busFor = cluster ? redisStreamsBusFor({ redis: cluster.redisUrl, clusterPrefix: cluster.prefix }) : undefined;
  // Cluster: retries and retention purges are BullMQ jobs (outlive a node; purges once per cluster).
  const jobs = cluster && withEngine ? createClusterJobs({ redis: cluster.redisUrl, prefix: cluster.prefix, log, messages: store.messages }) : undefined;
  // Traces (OTEL_*) and the engine's metrics, recorded into the manager's registry: one /metrics.
  const telemetry = withEngine ? await startNodeTelemetry(readTelemetryEnv(), log, registry) : undefined;
  const engine: StoreNode | undefined = withEngine ? startStoreNode({ coordinator, store, log, nodeId, policy, busFor, jobs, metrics: telemetry?.metrics }) : undefined;
  // The control plane lists and acts on the cluster's jobs (the Jobs page).
  const jobQueue = cluster ? (jobs?.queue ?? new JobQueue({ redis: cluster.redisUrl, prefix: cluster.prefix, onError: (err) => log.warn({ err }, 'job queue: Redis connection error') })) : undefined;
  const trackers: { projectId: string; tracker: StoreTracker }[] = engine?.trackers ?? [];

  storeMetrics(() => trackers);

  const admin = await ensureFirstAdmin(store, env.HIE_ADMIN_PASSWORD);
  const demoSpec = JSON.parse(readFileSync(path.join(root, 'examples/adt-feed.json'), 'utf8')) as unknown;
  const restored = await restoreDesiredState({
    store,
    coordinator,
    secrets,
    // An environment lost a variable the deployed version needs: that project stays down, said why.
    onError: (projectId, err) => log.error({ err, projectId }, 'deployment not restored'),
  });
  // HIE_DEMO=0: no demo project (servers, clusters: nothing binds 127.0.0.1:2575 uninvited).
  const demo = env.HIE_DEMO ? await seedDemo({ store, coordinator, spec: demoSpec }) : undefined;

  const portal = await portalHandler(log);
  const manager = createManagerServer({
    ...sessionSettings(env),
    store,
    coordinator,
    log,
    secrets,
    policy,
    selfServiceWorkspaces: env.HIE_SELF_SERVICE_WORKSPACES,
    traceUrl: env.HIE_TRACE_URL,
    metricsToken: env.HIE_METRICS_TOKEN,
    jobs: jobQueue,
    // `production.test` and saved test cases: the engine's item code, run in a sandbox that delivers nothing.
    sandbox: createSandbox({ policy, log }),
    // Alert rules are evaluated by the control plane (one at a time in a cluster: a store lock).
    alerts: env.HIE_ALERT_INTERVAL_MS > 0 ? { intervalMs: env.HIE_ALERT_INTERVAL_MS } : undefined,
    pluginItemTypes: pluginDescriptors(loaded),
    portalHandler: portal ? async (req, res) => (await portal(req, res), true) : undefined,
  });
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    manager.handle(req, res).then(
      (handled) => {
        if (!handled && !res.headersSent) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end(portal ? 'not found' : 'The portal is not built; the API is at /api/trpc');
        }
      },
      (e: unknown) => {
        log.error({ err: e }, 'request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  };
  // Under TLS the session cookie is Secure and HSTS is sent: the manager sees the TLS socket.
  const server = tlsPair ? https.createServer(tlsPair, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.HIE_PORT, env.HIE_HOST, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  if (port !== env.HIE_PORT) policy.ownAddresses.push({ host: env.HIE_HOST, port }); // HIE_PORT=0: known only now
  const url = `${tlsPair ? 'https' : 'http'}://localhost:${port}/`;
  // Without an engine here the nodes report when they come: do not hold the banner for them.
  const { failed, pending } = await productionOutcomes(coordinator, engine ? 15_000 : 3_000);
  const demoFailed = demo !== undefined && failed.some((p) => p.projectId === demo.projectId);
  const lines = [
    '',
    `HIE is running: ${url}${failed.length > 0 ? `   (${failed.length} production${failed.length > 1 ? 's' : ''} FAILED to start: see below)` : ''}`,
    `  store: ${store.backend === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded, in ${env.HIE_DATA_DIR}`}`,
    ...(cluster ? [`  cluster: etcd ${cluster.etcdEndpoints.join(',')} (prefix ${cluster.prefix}), ${engine ? `engine node ${nodeId}` : 'control plane only (--no-engine)'}`] : []),
    admin.created
      ? `  login: admin / ${admin.generatedPassword ?? '(the password in HIE_ADMIN_PASSWORD)'}${admin.generatedPassword ? '   ← shown once; change it after logging in' : ''}`
      : '  login: your existing users',
    demo?.created ? `  demo: workspace "Demo", project "adt-feed" deployed${demoFailed ? ' but FAILED to start' : ' (MLLP in on 127.0.0.1:2575)'}` : `  productions restored: ${restored}`,
    ...failed.map((p) => `  FAILED: production "${p.production}": ${p.error?.message ?? 'did not start'}`),
    ...pending.map((name) => `  still starting: production "${name}"`),
    ...(demoFailed || !demo ? [] : ['  try:  npx hie send --port 2575 examples/messages/adt-a01.hl7']),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  log.info('shutting down: draining');
  // End live (SSE) streams first, or they would hold the HTTP server open.
  await manager.close();
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
  await engine?.stop();
  await telemetry?.stop();
  if (jobQueue && !jobs) await jobQueue.close();
  await coordinator.close();
  await store.close();
  return 0;
}
