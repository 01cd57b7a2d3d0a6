import type { MessageEnvelope } from '@hie/envelope';
import type { Hl7Message } from '@hie/hl7';
import { envelopeFor, isHl7 } from '@hie/item-sdk';

// In @hie/item-sdk: plugins read received bytes the same way.
export { envelopeFor, isHl7 };

/** The envelope of a message already in the store (recovery, resend): it keeps its stored id. */
export function storedEnvelope(id: string, raw: Uint8Array, contentType: string, source: string): MessageEnvelope {
  const env = envelopeFor(raw, contentType, source);
  env.header.messageId = id;
  env.header.sessionId = id;
  return env;
}

/** What the trace keeps of a downstream HL7 ACK: MSA-1 (code), MSA-2 (control id), MSA-3 and each ERR segment. */
export interface AckSummary {
  code: string;
  controlId?: string;
  text?: string;
  errors?: string[];
}

/** The {@link AckSummary} of an HL7 ACK, or undefined when the message has no MSA segment. */
export function ackSummary(ack: Hl7Message): AckSummary | undefined {
  if (ack.segments('MSA').length === 0) return undefined;
  const errors = ack.segments('ERR').map((s) => s.toString());
  return {
    code: (ack.get('MSA-1') ?? '').toUpperCase(),
    controlId: ack.get('MSA-2') || undefined,
    text: ack.get('MSA-3') || undefined,
    errors: errors.length > 0 ? errors : undefined,
  };
}

/**
 * The `ack` detail of a hop's event when its handler answered with an HL7 ACK (an MLLP sender
 * relays the downstream system's ACK), so the trace shows what the receiver said. Never throws.
 */
export function ackDetail(response: MessageEnvelope | undefined): { ack: AckSummary } | undefined {
  if (!response || !isHl7(response.header.contentType)) return undefined;
  try {
    const ack = ackSummary(response.parse<Hl7Message>());
    return ack ? { ack } : undefined;
  } catch (_e) {
    return undefined;
  }
}
