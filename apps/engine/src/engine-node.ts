import pino, { type Logger } from 'pino';
import type { Bus } from '@hie/bus';
import type { HostPolicy } from '@hie/policy';
import { builtinItemTypes } from './items/index';
import { registerBuiltinCodecs } from './runtime/codecs';
import { moduleUrl } from './runtime/module-url';
import { ProductionEngine } from './runtime/production-engine';
import { ItemTypeRegistry } from './runtime/registry';
import type { DeferredRetry } from './runtime/host';
import type { Tracker } from './runtime/tracker';
import type { EngineMetrics } from './telemetry/metrics';

export interface EngineNodeOptions {
  log?: Logger;
  logLevel?: string;
  bus?: Bus;
  tracker?: Tracker;
  /** Extra item types (user plugins), defined with `defineItemType`. */
  plugins?: Parameters<ItemTypeRegistry['register']>[0][];
  /** Folders and hosts items may touch (from HIE_FILE_ROOTS / HIE_EGRESS_ALLOW). @defaultValue the working folder, no allow list */
  policy?: HostPolicy;
  /** Cluster mode: operations' retries become delayed jobs (see `createClusterJobs`). */
  deferRetry?: (retry: DeferredRetry) => Promise<void>;
  /** Prometheus metrics the engine records into (the process's registry). */
  metrics?: EngineMetrics;
  /** The project id (metric labels, span attributes). @defaultValue the production's name */
  project?: string;
}

/** A registry with the built-in item types and any plugins. */
export function createRegistry(plugins: EngineNodeOptions['plugins'] = []): ItemTypeRegistry {
  const registry = new ItemTypeRegistry();
  for (const def of builtinItemTypes) registry.register(def, moduleUrl('./items/index.ts', import.meta.url).href);
  for (const def of plugins) registry.register(def);
  return registry;
}

/** Wire up one engine: codecs, registry, logger, production engine. */
export function createEngine(opts: EngineNodeOptions = {}): { engine: ProductionEngine; registry: ItemTypeRegistry; log: Logger } {
  registerBuiltinCodecs();
  const log = opts.log ?? pino({ level: opts.logLevel ?? 'info', base: { svc: 'hie-engine' } });
  const registry = createRegistry(opts.plugins);
  const engine = new ProductionEngine({ registry, log, bus: opts.bus, tracker: opts.tracker, policy: opts.policy, deferRetry: opts.deferRetry, metrics: opts.metrics, project: opts.project });
  return { engine, registry, log };
}
