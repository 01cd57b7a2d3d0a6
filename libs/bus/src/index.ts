export { type Bus, type BusReceiver, type DeliverOptions, type ReplyFn, BusError, type BusErrorCode, type ItemBusConfig } from './bus';
export { InProcessBus } from './in-process-bus';
export { RedisStreamsBus, type RedisStreamsBusOptions, type BusLogger, type StreamBranches, type BranchRelease } from './redis-streams-bus';
export { DEFAULT_PARTITION_KEY, hashKey, partitionKeyOf, partitionOf, traceparentOf } from './partition';
