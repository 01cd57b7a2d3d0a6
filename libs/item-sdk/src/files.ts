import { CONTENT_TYPES, MessageEnvelope } from '@hie/envelope';
import { parseBatchBytes } from '@hie/hl7';
import type { ServiceContext } from './item-type';

/** Content types that mean HL7 v2 ER7 (the canonical one and the aliases senders use). */
const HL7_TYPES: ReadonlySet<string> = new Set([CONTENT_TYPES.hl7v2, 'application/hl7-v2', 'x-application/hl7-v2+er7', 'text/hl7']);

/** Whether a content type means HL7 v2 (ER7). */
export function isHl7(contentType: string): boolean {
  return HL7_TYPES.has(contentType.toLowerCase());
}

/** An envelope for received bytes: HL7 fills its header from MSH, anything else keeps its type. */
export function envelopeFor(raw: Uint8Array, contentType: string, source: string): MessageEnvelope {
  return isHl7(contentType) ? MessageEnvelope.createHl7(raw, { source }) : MessageEnvelope.create({ raw, contentType, source });
}

/** How a file poller reads a file (the `file.in` settings of the same names). */
export interface FileMessagesOptions {
  contentType: string;
  /** Split HL7 batch files (FHS/BHS) and multi-message files into one message each. */
  splitBatch: boolean;
  /** Most bytes kept of a file refused as holding no message. */
  refusedMaxBytes: number;
}

/**
 * What a file poller (`file.in`, `sftp.in`) does with one file's bytes: split on the bytes (a
 * Latin-1 file keeps them), then hand each message on and wait until it is stored (or queued,
 * without a store). A file with no HL7 message in it is stored as a `refused` message instead.
 * Resolves once every message is handed on: only then may the caller archive or delete the file
 * (a failure part-way leaves it for the next poll: at-least-once). Each envelope carries the file
 * name in `customProperties.file`.
 */
export async function submitFileMessages(
  ctx: ServiceContext,
  bytes: Uint8Array,
  file: string,
  o: FileMessagesOptions,
): Promise<{ kind: 'submitted'; messages: number } | { kind: 'refused' }> {
  const batch = isHl7(o.contentType) ? parseBatchBytes(bytes) : undefined;
  if (batch && batch.messages.length === 0) {
    await ctx.refuse(new Uint8Array(bytes), { reason: 'not_a_message', error: 'the file holds no HL7 message (no MSH segment)', contentType: o.contentType, maxBytes: o.refusedMaxBytes, detail: { file } });
    return { kind: 'refused' };
  }
  if (batch && batch.problems.length > 0) ctx.log.warn({ file, problems: batch.problems.map((p) => `${p.path}: ${p.message}`) }, 'batch file: trailer counts or lines do not match its messages');
  // Copies: a message handed on must not pin the whole file's buffer.
  const parts = batch && o.splitBatch ? batch.messages.map((m) => m.slice()) : [new Uint8Array(bytes)];
  for (const raw of parts) {
    const envelope = envelopeFor(raw, o.contentType, ctx.itemName);
    envelope.header.customProperties.file = file;
    await ctx.submit(envelope, { wait: ctx.hasStore ? 'stored' : 'queued' });
  }
  return { kind: 'submitted', messages: parts.length };
}
