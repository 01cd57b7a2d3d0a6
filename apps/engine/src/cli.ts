import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clusterFromEnv, EtcdCoordinator, etcdCipher } from '@hie/cluster';
import { formatProblems } from '@hie/config';
import { hostPolicyFromEnv, validateProductionWithPolicy } from '@hie/policy';
import pino from 'pino';
import { createEngine, createRegistry } from './engine-node';
import { recoverUnfinished } from './runtime/recovery';
import { startRetention } from './runtime/retention';
import { StoreTracker } from './runtime/store-tracker';
import { readEnv } from './env';
import { readProductionFile } from './production-file';
import { codeOf, ensureError } from './runtime/errors';
import { sendFiles } from './send';
import { loadConfiguredPlugins, pluginDefinitions } from './plugins';
import { scaffoldItemType } from './scaffold';
import { hieVersion } from './version';
import { singletonTypes, startStoreNode } from './store-node';
import { redisStreamsBusFor } from './runtime/cluster-bus';
import { createClusterJobs } from './runtime/cluster-jobs';
import { startNodeTelemetry } from './telemetry/node-telemetry';

const HELP: Record<string, string> = {
  main: `hie — the HIE healthcare integration engine

Usage: hie <command> [options]

Commands:
  start                 run the product: portal + API + engine + store on one port (8080)
  engine                run one engine node of a cluster (DATABASE_URL, REDIS_URL, ETCD_ENDPOINTS)
  migrate               apply the store's database migrations
  audit verify          check the audit log's hash chain; reports the first broken entry
  run <production>      run a production file (JSON or YAML) until Ctrl-C, then drain and exit
  validate <production> check a production file; prints every problem with its path
  send [options] <files…>  send HL7 files over MLLP and print each ACK (batch files are split)
  export <project>      write a project as YAML files (GitOps; HIE_TOKEN)
  apply -f <dir|file>   save (and --deploy) a project from such files (GitOps; HIE_TOKEN)
  plugins               list the item-type plugins loaded (HIE_PLUGINS, hie.config.yaml) and from where
  new item-type <name>  scaffold an item-type plugin package (zod settings, a Vitest test, README)
  version               print the version (also: hie --version)

Run "hie <command> --help" for a command's options.`,
  run: `Usage: hie run <production.json|yaml>

Runs the production until SIGINT/SIGTERM, then drains every queue and exits 0.
Environment: HIE_LOG_LEVEL (info), DATABASE_URL (PostgreSQL store), HIE_DATA_DIR (./.hie/data),
HIE_FILE_ROOTS (folders items may use, ':'-separated; default: this folder), HIE_EGRESS_ALLOW
(hosts, host:port, CIDRs items may send to; default: any but link-local/metadata),
HIE_METRICS_PORT (serve Prometheus /metrics on this port; unset: none),
OTEL_EXPORTER_OTLP_ENDPOINT (send OpenTelemetry traces there over OTLP/HTTP; unset: tracing off),
OTEL_SERVICE_NAME (hie-engine) and the other standard OTEL_* variables,
HIE_PLUGINS (item-type plugins; see "hie plugins --help").`,
  start: `Usage: hie start [--no-engine]

The all-in-one product on one port (HIE_PORT, default 8080): the portal at /, the manager API at
/api/trpc, an engine node and the message store (embedded in HIE_DATA_DIR, or PostgreSQL with
DATABASE_URL). The first start creates the admin user (HIE_ADMIN_PASSWORD or a printed one-time
password) and deploys the demo production (examples/adt-feed.json, MLLP in on 2575). It
evaluates the projects' alert rules every HIE_ALERT_INTERVAL_MS (30000; 0: not in this process).
/healthz answers while it serves; /readyz answers 503 with reasons while the store is unreachable,
a migration is pending or no engine node reports.

Cluster mode: with DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS all set, desired state and node
status live in etcd and this process's engine is one node of the cluster (HIE_NODE_ID,
HIE_CLUSTER_PREFIX: see "hie engine --help").
Item-type plugins: HIE_PLUGINS or hie.config.yaml (see "hie plugins --help"); every node of a
cluster needs the same plugins.
  --no-engine   cluster mode only: run the control plane (portal + API) without an engine node`,
  engine: `Usage: hie engine

Runs one engine node of a cluster until SIGINT/SIGTERM, then drains and leaves the cluster. The
node registers in etcd under a lease (5 s), runs every deployed production, and runs a listener
or poller only while the cluster's leader assigns it to this node: when a node dies, its
listeners move to a live node within seconds and what they had received resumes there.
Start the control plane with "hie start --no-engine" (same variables) and any number of nodes.

Environment (all three required):
  DATABASE_URL        postgres://… the shared message and config store
  REDIS_URL           redis://… the cluster bus and jobs
  ETCD_ENDPOINTS      comma-separated etcd client URLs, e.g. http://127.0.0.1:2379
Optional:
  HIE_NODE_ID         this node's id (default: host name + a random suffix)
  HIE_CLUSTER_PREFIX  prefix of the cluster's etcd and Redis keys (hie)
  HIE_SECRET_KEY      the control plane's: desired state (with secret settings) is sealed in etcd with it
  HIE_METRICS_PORT    serve this node's Prometheus /metrics on this port (unset: none)
  HIE_LOG_LEVEL (info), HIE_FILE_ROOTS, HIE_EGRESS_ALLOW, HIE_PLUGINS, OTEL_* (as for "hie run")`,
  plugins: `Usage: hie plugins

Loads the configured item-type plugins and lists each one: where it was configured, the module
it resolved to, its package and version, and its item types. Exits 1 with the reason when one
cannot be loaded (not installed, a type clashing with a built-in or another plugin, settings that
are not a zod schema, another major item-type API version).

Plugins are packages or files exporting item types made with defineItemType from @hie/item-sdk
(scaffold one with "hie new item-type"). They load in "hie start", "hie run" and "hie engine",
and in their worker threads. Configure them with:
  HIE_PLUGINS          package names or paths, separated by "," or ":" (paths relative to the
                       working folder; packages resolved from its node_modules)
  hie.config.yaml      "plugins:" (a list; relative to the file) in the working folder, or the
                       file HIE_CONFIG names
  HIE_DEFAULT_PLUGINS  off: skip the plugins shipped in HIE's plugins/ folder (on)`,
  new: `Usage: hie new item-type <name> [--dir <folder>] [--kind service|process|operation]

Scaffolds an item-type plugin package in <folder>/<name> (default: ./<name>): src/index.ts with
the type (defineItemType and a zod settings schema), a Vitest test on a real socket and file,
README.md, and package.json depending on @hie/item-sdk (a file: dependency on this HIE, so
"npm install --offline" works). <name> is the package name, lower-case (e.g. hie-plugin-acme);
the item type is named after it (acme.out). --kind: operation (default), process or service.`,
  version: `Usage: hie version | hie --version

Prints HIE's version (the root package.json's "version"; CHANGELOG.md lists what changed).`,
  migrate: `Usage: hie migrate

Applies the store's SQL migrations (PostgreSQL with DATABASE_URL, else the embedded store in HIE_DATA_DIR).`,
  audit: `Usage: hie audit verify

Recomputes the audit log's hash chain (PostgreSQL with DATABASE_URL, else the embedded store in
HIE_DATA_DIR). Prints "audit log intact: N entries" and exits 0, or "audit log broken at entry
<id>" (the first entry edited, or the one after an entry removed) and exits 1. The embedded
store is single-process: stop "hie start" on that HIE_DATA_DIR first.`,
  validate: `Usage: hie validate <production.json|yaml>

Prints every problem with its path and exits 1 when there are any, 0 when the production is valid.
Folders, TLS files and target hosts are checked against HIE_FILE_ROOTS and HIE_EGRESS_ALLOW too.`,
  send: `Usage: hie send [--host 127.0.0.1] [--port 2575] [--timeout 30000] <files…>

Sends each message in each file over one MLLP connection, waits for each ACK and prints
"<file>#<n> <MSH-10> → <MSA-1> <MSA-2> [text]". Exits 1 if any message was not accepted (AA/CA).`,
};

function out(s: string) {
  process.stdout.write(`${s}\n`);
}

/** The store of `hie run` and the scope of its messages: no manager, no project, the production's local scope. */
async function openLocalStore(env: ReturnType<typeof readEnv>, production: string) {
  const { localScope, openStore } = await import('@hie/store');
  return { store: await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HIE_DATA_DIR, writerPipelines: env.HIE_STORE_PIPELINES }), scope: localScope(production) };
}

async function runProduction(file: string): Promise<number> {
  const env = readEnv();
  const log = pino({ level: env.HIE_LOG_LEVEL, base: { svc: 'hie-engine' } });
  const raw = await readProductionFile(file);
  const policy = hostPolicyFromEnv(env);
  const plugins = pluginDefinitions(await loadConfiguredPlugins(env));
  const checked = await validateProductionWithPolicy(raw, { itemTypes: createRegistry(plugins).lookup, policy });
  if (!checked.ok) {
    out(`${file}: invalid production\n${formatProblems(checked.problems)}`);
    return 1;
  }
  const spec = checked.value;
  // Raw-first store: PostgreSQL with DATABASE_URL, else embedded PGlite in HIE_DATA_DIR.
  const useStore = env.HIE_STORE !== 'off' && spec.storage !== 'none';
  // Loaded only when used: without a store, `hie run` never loads the database drivers.
  const stored = useStore ? await openLocalStore(env, spec.name) : undefined;
  const store = stored?.store;
  const telemetry = await startNodeTelemetry(env, log);
  const metrics = telemetry.metrics;
  const commits = metrics && { raw: metrics.storeCommits(spec.name, 'raw'), events: metrics.storeCommits(spec.name, 'events') };
  const tracker = stored ? StoreTracker.forProduction(stored.store.messages, { ...stored.scope, production: spec.name }, spec.storage, log, commits) : undefined;
  const { engine } = createEngine({ log, tracker, policy, metrics, plugins });
  await engine.apply(raw);
  if (stored) {
    const n = await recoverUnfinished(stored.store.messages, engine, stored.scope.projectId, log);
    if (n > 0) log.warn({ requeued: n }, 're-queued unfinished messages from the store');
  }
  const stopRetention = stored
    ? startRetention({ messages: stored.store.messages, targets: () => [{ projectId: stored.scope.projectId, production: spec.name, retentionDays: spec.retentionDays }], log })
    : () => undefined;
  log.info({ file, store: store ? store.backend : 'off' }, 'production running; Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping: draining queues');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  stopRetention();
  await engine.stop();
  if (tracker) log.info({ store: tracker.writerMetrics() }, 'message store writer figures');
  await tracker?.close();
  await store?.close();
  await telemetry.stop();
  log.info('stopped');
  return 0;
}

/** `hie engine`: one cluster node on etcd, PostgreSQL and Redis, until SIGINT/SIGTERM. */
async function runEngineNode(): Promise<number> {
  const env = readEnv();
  const cluster = clusterFromEnv(env);
  if (!cluster) {
    out(`hie engine runs a cluster node: set DATABASE_URL, REDIS_URL and ETCD_ENDPOINTS\n\n${HELP.engine}`);
    return 2;
  }
  const log = pino({ level: env.HIE_LOG_LEVEL, base: { svc: 'hie-engine' } });
  const plugins = pluginDefinitions(await loadConfiguredPlugins(env));
  const nodeId = cluster.nodeId ?? `${os.hostname()}-${randomUUID().slice(0, 8)}`;
  const { openStore } = await import('@hie/store');
  const store = await openStore({ databaseUrl: cluster.databaseUrl, dataDir: env.HIE_DATA_DIR, writerPipelines: env.HIE_STORE_PIPELINES });
  const coordinator = new EtcdCoordinator({
    endpoints: cluster.etcdEndpoints,
    prefix: cluster.prefix,
    log,
    node: { nodeId, isSingleton: singletonTypes(plugins) },
    cipher: env.HIE_SECRET_KEY ? etcdCipher(env.HIE_SECRET_KEY) : undefined,
  });
  try {
    await coordinator.start();
  } catch (e) {
    await coordinator.close();
    await store.close();
    throw e;
  }
  // Hand-offs between items travel over Redis Streams, one bus per project.
  const busFor = redisStreamsBusFor({ redis: cluster.redisUrl, clusterPrefix: cluster.prefix });
  // Retries and retention purges are BullMQ jobs: they outlive this node, and purges run once per cluster.
  const jobs = createClusterJobs({ redis: cluster.redisUrl, prefix: cluster.prefix, log, messages: store.messages });
  const telemetry = await startNodeTelemetry(env, log);
  const running = startStoreNode({ coordinator, store, log, nodeId, policy: hostPolicyFromEnv(env), busFor, jobs, metrics: telemetry.metrics, plugins });
  log.info({ node: nodeId, etcd: cluster.etcdEndpoints, prefix: cluster.prefix }, 'engine node running; Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  log.info('stopping: draining');
  await running.stop();
  await coordinator.close();
  await store.close();
  await telemetry.stop();
  log.info('stopped');
  return 0;
}

/** `hie plugins`: what is loaded and from where. */
async function listPlugins(): Promise<number> {
  const plugins = await loadConfiguredPlugins(readEnv());
  if (plugins.length === 0) {
    out('no plugins loaded (set HIE_PLUGINS, or "plugins:" in hie.config.yaml; see hie plugins --help)');
    return 0;
  }
  for (const p of plugins) {
    const pkg = p.packageName ? `${p.packageName}${p.packageVersion ? `@${p.packageVersion}` : ''}` : p.spec;
    out(`${pkg}  ${fileURLToPath(p.url)}  (${p.from === 'default' ? 'shipped with HIE' : `from ${p.from}`})`);
    for (const t of p.types) out(`  ${t.type}  ${t.kind}  api ${t.apiVersion}  ${t.description}`);
  }
  return 0;
}

/** CLI entry: returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || (command === 'version' && rest.length === 0)) {
    out(hieVersion());
    return 0;
  }
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(HELP.main);
    return command ? 0 : 1;
  }
  if (!HELP[command]) {
    out(`unknown command "${command}"\n\n${HELP.main}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(HELP[command]);
    return 0;
  }
  try {
    switch (command) {
      case 'start':
        out('hie start is handled by bin/hie.mjs');
        return 2;
      case 'engine':
        return await runEngineNode();
      case 'migrate': {
        const env = readEnv();
        const { openStore } = await import('@hie/store');
        const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HIE_DATA_DIR });
        await store.close();
        out(`migrations applied (${store.backend})`);
        return 0;
      }
      case 'audit': {
        if (rest[0] !== 'verify') {
          out(HELP.audit);
          return 2;
        }
        const env = readEnv();
        const { openStore } = await import('@hie/store');
        const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HIE_DATA_DIR });
        try {
          const r = await store.audit.verify();
          out(r.ok ? `audit log intact: ${r.rows} entries` : `audit log broken at entry ${r.firstBrokenId} (${r.rows} entries)`);
          return r.ok ? 0 : 1;
        } finally {
          await store.close();
        }
      }
      case 'run': {
        if (!rest[0]) {
          out(HELP.run);
          return 2;
        }
        return await runProduction(rest[0]);
      }
      case 'validate': {
        if (!rest[0]) {
          out(HELP.validate);
          return 2;
        }
        const spec = await readProductionFile(rest[0]);
        const env = readEnv();
        const plugins = pluginDefinitions(await loadConfiguredPlugins(env));
        const r = await validateProductionWithPolicy(spec, { itemTypes: createRegistry(plugins).lookup, policy: hostPolicyFromEnv(env) });
        if (r.ok) {
          out(`${rest[0]}: valid (${r.value.items.length} items, ${r.value.connections.length} connections)`);
          return 0;
        }
        out(`${rest[0]}: ${r.problems.length} problem(s)\n${formatProblems(r.problems)}`);
        return 1;
      }
      case 'plugins':
        return await listPlugins();
      case 'version':
        out(hieVersion());
        return 0;
      case 'new': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { dir: { type: 'string', default: '.' }, kind: { type: 'string', default: 'operation' } },
        });
        if (positionals[0] !== 'item-type' || !positionals[1] || positionals.length > 2) {
          out(HELP.new);
          return 2;
        }
        const made = await scaffoldItemType({ name: positionals[1], dir: values.dir!, kind: values.kind! });
        out(`created ${made.dir} (item type ${made.type})\nnext: cd ${made.dir} && npm install --offline && npx vitest run`);
        return 0;
      }
      case 'send': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '2575' }, timeout: { type: 'string', default: '30000' } },
        });
        if (positionals.length === 0) {
          out(HELP.send);
          return 2;
        }
        const port = Number(values.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) {
          out(`--port must be 1-65535, got "${values.port}"`);
          return 2;
        }
        let bad = 0;
        await sendFiles({ host: values.host!, port, files: positionals, timeoutMs: Number(values.timeout) }, (r) => {
          const ok = r.ackCode === 'AA' || r.ackCode === 'CA';
          if (!ok) bad++;
          out(`${r.file}#${r.index} ${r.controlId ?? '?'} → ${r.error ? `ERROR ${r.error}` : `${r.ackCode} ${r.ackControlId ?? ''}${r.text ? ` ${r.text}` : ''}`}`);
        });
        return bad ? 1 : 0;
      }
    }
  } catch (e) {
    const err = ensureError(e);
    const problems = (err as { details?: { problems?: Parameters<typeof formatProblems>[0] } }).details?.problems;
    out(`error [${codeOf(err)}]: ${problems ? `invalid production\n${formatProblems(problems)}` : err.message}`);
    return 1;
  }
  return 0;
}
