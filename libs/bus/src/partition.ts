import { CONTENT_TYPES, getCodec, type MessageEnvelope } from '@hie/envelope';
import { type Hl7Message, parseMessage } from '@hie/hl7';

/** Default partition key of ordered items: the patient identifier. */
export const DEFAULT_PARTITION_KEY = 'PID-3.1';

/**
 * 32-bit FNV-1a over the key's UTF-16 code units: cheap, stable on every node and in every
 * release (a partition must mean the same patients cluster-wide), and well spread for ids.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The value an ordered item partitions by: the HL7 path `path` of an HL7 v2 body, read with the
 * lazy parser (the envelope's cached parse when its codec is registered, so a router that already
 * parsed the message pays nothing). `''` when the body is not HL7 v2, cannot be parsed or lacks
 * the field: those messages all share one partition, so they keep their relative order too.
 */
export function partitionKeyOf(envelope: MessageEnvelope, path: string): string {
  if (envelope.header.contentType !== CONTENT_TYPES.hl7v2) return '';
  try {
    const message = getCodec(CONTENT_TYPES.hl7v2) ? envelope.parse<Hl7Message>() : parseMessage(envelope.body.raw);
    return message.get(path) ?? '';
  } catch {
    return '';
  }
}

/** The partition (0…partitions-1) of an envelope for an ordered item. */
export function partitionOf(envelope: MessageEnvelope, path: string, partitions: number): number {
  return hashKey(partitionKeyOf(envelope, path)) % partitions;
}

/** A well-formed W3C traceparent (lower-case hex). */
export const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The W3C `traceparent` an envelope carries (a header field, or the custom property of that
 * name), when well-formed; carried beside the envelope in a stream entry so a consumer can
 * continue the trace without decoding the body first.
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
export function traceparentOf(envelope: MessageEnvelope): string | undefined {
  const header: { traceparent?: unknown; customProperties: Record<string, unknown> } = envelope.header;
  const value = header.traceparent ?? header.customProperties['traceparent'];
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : undefined;
}
