import type { MessageEnvelope } from '@hie/envelope';
import { createHostPolicy, type HostPolicy } from '@hie/policy';
import type { CreateContext, SendOptions, SubmitResult } from './item-type';

/** What a handler did through its {@link createTestContext} context. */
export interface TestContextRecord {
  sent: { envelope: MessageEnvelope; opts?: SendOptions }[];
  submitted: MessageEnvelope[];
  discarded: string[];
  notes: Record<string, unknown>[];
  refused: { raw: Uint8Array; reason: string }[];
  exited: string[];
}

/**
 * A context for testing an item type without an engine: `create(settings, ctx)` and the
 * handler's hooks can be called directly, on real files and sockets. Everything the handler
 * sends, submits, discards, notes or refuses is recorded in `record`. Host policy: `roots`
 * (default: the working folder) and `egressAllow` as HIE_FILE_ROOTS / HIE_EGRESS_ALLOW.
 */
export function createTestContext(opts: { itemName?: string; production?: string; targets?: string[]; roots?: string[]; egressAllow?: string[]; policy?: HostPolicy } = {}): {
  ctx: CreateContext;
  record: TestContextRecord;
} {
  const record: TestContextRecord = { sent: [], submitted: [], discarded: [], notes: [], refused: [], exited: [] };
  const quiet = () => undefined;
  const ctx: CreateContext = {
    itemName: opts.itemName ?? 'test-item',
    production: opts.production ?? 'test',
    targets: opts.targets ?? [],
    log: { info: quiet, warn: quiet, error: quiet, debug: quiet } as unknown as CreateContext['log'],
    policy: opts.policy ?? createHostPolicy({ roots: opts.roots, egressAllow: opts.egressAllow }),
    hasStore: false,
    send: (envelope, o) => void record.sent.push({ envelope, opts: o }),
    discard: (reason) => void record.discarded.push(reason),
    note: (detail) => void record.notes.push(detail),
    submit: (envelope): Promise<SubmitResult> => {
      record.submitted.push(envelope);
      return Promise.resolve({ messageId: envelope.header.messageId });
    },
    refuse: (raw, refusal) => {
      record.refused.push({ raw, reason: refusal.reason });
      return Promise.resolve(undefined);
    },
    exit: (reason) => void record.exited.push(reason),
  };
  return { ctx, record };
}
