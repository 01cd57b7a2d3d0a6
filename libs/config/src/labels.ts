/**
 * Words a person reads for the enum values of the settings schemas (`sync_reliable` →
 * "Synchronous, reliable"). The values stay what the schemas, the API and the files use; the
 * portal shows these labels. A value missing here is humanised (`drop_oldest` → "Drop oldest").
 */
export const ENUM_LABELS: Readonly<Record<string, string>> = {
  // execution.mode
  async: 'Asynchronous (event loop)',
  multiprocess: 'Multiprocess (own worker threads)',
  thread_pool: 'Thread pool (shared workers)',
  single_process: 'Single process (one at a time, debugging)',
  // queue.type / queue.overflow
  fifo: 'First in, first out',
  priority: 'By priority (9 first)',
  lifo: 'Last in, first out',
  unordered: 'Unordered',
  block: 'Block the sender',
  drop_oldest: 'Drop the oldest message',
  reject_new: 'Reject the new message',
  // restart.policy
  never: 'Never',
  on_failure: 'On failure',
  always: 'Always',
  // messaging.pattern
  async_reliable: 'Asynchronous, reliable',
  sync_reliable: 'Synchronous, reliable',
  concurrent_async: 'Concurrent, asynchronous',
  concurrent_sync: 'Concurrent, synchronous',
  // circuitBreaker.whenOpen
  wait: 'Wait until it closes',
  fail: 'Fail the message',
  // priority.from
  message: "The message's own priority",
  value: 'A fixed value',
  field: 'An HL7 field',
  // storage
  full: 'Full (header and body)',
  metadata: 'Metadata only (no body)',
  none: 'None',
  // hl7.mllp.in ackMode
  immediate: 'Immediately (once queued)',
  after_store: 'Once stored',
  application: "Relay the downstream system's ACK",
  AE: 'AE (application error)',
  AR: 'AR (application reject)',
  // hl7.router
  first_match: 'First matching rule only',
  all_match: 'Every matching rule',
  discard: 'Discard',
  send_all: 'Send to every connected item',
  // file.in afterProcess
  delete: 'Delete the file',
  archive: 'Move it to the archive',
  // http.in respond
  accepted: '202 Accepted once stored',
  sync: "Wait for the downstream response",
  // hl7.mllp.out replies
  success: 'Success',
  retry: 'Retry',
};

/** The label of an enum value: {@link ENUM_LABELS}, else the value humanised (`drop_oldest` → "Drop oldest"). */
export function enumLabel(value: unknown): string {
  const text = String(value);
  const known = ENUM_LABELS[text];
  if (known !== undefined) return known;
  if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(text)) return text;
  const words = text.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
