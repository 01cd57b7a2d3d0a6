import type { PrioritySettings } from '@hie/config';
import { CONTENT_TYPES, type MessageEnvelope } from '@hie/envelope';
import type { Hl7Message } from '@hie/hl7';

const DIGIT = /^[0-9]$/;

/**
 * The priority an item's `priority` settings give a message it sends on, or `undefined` to leave
 * the message's own (`from: 'message'`). `from: 'field'`: the HL7 field's value looked up in `map`,
 * or taken as is when it is a single digit, else `value`.
 */
export function settingsPriority(settings: PrioritySettings, envelope: MessageEnvelope): number | undefined {
  if (settings.from === 'message') return undefined;
  if (settings.from === 'field' && envelope.header.contentType === CONTENT_TYPES.hl7v2) {
    let value: string | undefined;
    try {
      value = envelope.parse<Hl7Message>().get(settings.field);
    } catch (_e) {
      value = undefined; // an unreadable message keeps the fallback; its own item reports the parse error
    }
    if (value !== undefined) {
      const mapped = settings.map[value];
      if (mapped !== undefined) return mapped;
      if (DIGIT.test(value)) return Number(value);
    }
  }
  return settings.value;
}

/**
 * `envelope` with priority `priority` (or itself when unchanged). A message passed through as
 * received is copied first (same ids): the in-process bus shares it with the other branches.
 */
export function withPriority(envelope: MessageEnvelope, priority: number | undefined, shared: boolean): MessageEnvelope {
  if (priority === undefined || priority === envelope.header.priority) return envelope;
  const out = shared ? envelope.clone() : envelope;
  out.header.priority = priority;
  return out;
}
