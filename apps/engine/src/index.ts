/** @hie/engine public surface: the runtime, the item-type API and the node. */
export { defineItemType, type ItemTypeDefinition, type ItemHandler, type ItemContext, type ServiceContext, type ItemKind } from './item-type';
export { createEngine, createRegistry } from './engine-node';
export { EngineNode, type EngineNodeConfig } from './node';
export { ProductionEngine, type ProductionStatus, type ApplyReport } from './runtime/production-engine';
export { MemoryTracker, type Tracker, type MessageEvent } from './runtime/tracker';
export type { ItemStatus } from './runtime/host';
export { builtinItemTypes } from './items/index';
export { compileV2FhirMap, runV2FhirMap, type CompiledV2FhirMap, type V2FhirResult } from './items/v2-fhir-map';
export { readProductionFile } from './production-file';
export { StoreTracker } from './runtime/store-tracker';
export { redisStreamsBusFor, type BusFactory, type BusContext, type RedisBusSettings } from './runtime/cluster-bus';
export { recoverUnfinished } from './runtime/recovery';
export { main as cliMain } from './cli';
export { startRetention, type RetentionTarget } from './runtime/retention';
export { createClusterJobs, type ClusterJobs, type ClusterJobsOptions } from './runtime/cluster-jobs';
export { startStoreNode, singletonTypes, type StoreNode, type StoreNodeOptions } from './store-node';
export { isSingletonType } from './item-type';
