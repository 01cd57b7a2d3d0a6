import { applyOperations, hl7TransformSettings } from '@hie/config';
import type { MessageEnvelope } from '@hie/envelope';
import { parseMessage } from '@hie/hl7';
import { defineItemType } from '../item-type';

/**
 * Transform a copy of the message; the input envelope is never changed (the trace keeps both).
 * The output keeps the message's own charset (MSH-18, e.g. `8859/1`): ü stays 0xFC, it is not
 * re-encoded as UTF-8.
 */
export function transformEnvelope(envelope: MessageEnvelope, ops: Parameters<typeof applyOperations>[1]): MessageEnvelope {
  const msg = parseMessage(envelope.body.raw);
  applyOperations(msg, ops);
  const out = envelope.withBody(msg.toBytes());
  const version = msg.get('MSH-12');
  if (version) out.header.schemaVersion = version;
  return out;
}

/** `hl7.transform`: ordered operations (set, copy, delete, map, case, date, segments, version). */
export const hl7Transform = defineItemType({
  type: 'hl7.transform',
  version: 1,
  kind: 'process',
  description: 'Change HL7 v2 fields, segments and version',
  settings: hl7TransformSettings,
  module: import.meta.url,
  create(settings) {
    return {
      onMessage(envelope, ctx) {
        ctx.send(transformEnvelope(envelope, settings.operations));
      },
    };
  },
});
