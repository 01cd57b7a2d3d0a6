export {
  ItemQueue,
  QUEUE_TYPES,
  OVERFLOW_STRATEGIES,
  MIN_PRIORITY,
  MAX_PRIORITY,
  DEFAULT_PRIORITY,
  DEFAULT_QUEUE_SIZE,
  type QueueType,
  type OverflowStrategy,
  type DropReason,
  type ItemQueueOptions,
  type QueueMetrics,
} from './item-queue';
export { QueueError, isQueueError, type QueueErrorCode, type QueueErrorKind, type QueueErrorJSON } from './errors';
export { WaitHistogram, WAIT_BUCKETS_MS, type WaitHistogramSnapshot } from './wait-histogram';
