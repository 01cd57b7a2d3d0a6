export { type Bus, type BusReceiver, type DeliverOptions, type ReplyFn, BusError } from './bus';
export { InProcessBus } from './in-process-bus';
