import { CONTENT_TYPES, MessageEnvelope } from '@hie/envelope';

/** Content types that mean HL7 v2 ER7 (the canonical one and the aliases senders use). */
const HL7_TYPES: ReadonlySet<string> = new Set([CONTENT_TYPES.hl7v2, 'application/hl7-v2', 'x-application/hl7-v2+er7', 'text/hl7']);

export function isHl7(contentType: string): boolean {
  return HL7_TYPES.has(contentType.toLowerCase());
}

/** An envelope for received bytes: HL7 fills its header from MSH, anything else keeps its type. */
export function envelopeFor(raw: Uint8Array, contentType: string, source: string): MessageEnvelope {
  return isHl7(contentType) ? MessageEnvelope.createHl7(raw, { source }) : MessageEnvelope.create({ raw, contentType, source });
}

/** The envelope of a message already in the store (recovery, resend): it keeps its stored id. */
export function storedEnvelope(id: string, raw: Uint8Array, contentType: string, source: string): MessageEnvelope {
  const env = envelopeFor(raw, contentType, source);
  env.header.messageId = id;
  env.header.sessionId = id;
  return env;
}
