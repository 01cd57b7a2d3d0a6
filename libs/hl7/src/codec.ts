import { parseMessage, type Hl7Message } from './message';
import { validateMessage } from './validate';

/**
 * The shape of a body codec (as the envelope lib's codec registry expects it, structurally:
 * this lib imports nothing of ours).
 */
export interface Hl7Codec {
  /** The content type this codec handles. */
  readonly contentType: 'application/hl7-v2+er7';
  /**
   * Parses a body. @throws Hl7Error `hl7.parse` when it is not HL7 v2
   */
  parse(bytes: Uint8Array): Hl7Message;
  /** Problems of severity `error` from {@link validateMessage}, as `"<path>: <message>"` lines; empty when valid. */
  validate(parsed: Hl7Message): string[];
}

/** Codec for HL7 v2 ER7 ("pipe and hat") bodies. */
export const hl7Codec: Hl7Codec = Object.freeze({
  contentType: 'application/hl7-v2+er7',
  parse(bytes: Uint8Array): Hl7Message {
    return parseMessage(bytes);
  },
  validate(parsed: Hl7Message): string[] {
    return validateMessage(parsed)
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.path}: ${p.message}`);
  },
});
