import type { MessageEnvelope } from '@hie/envelope';
import type { Hl7Message } from '@hie/hl7';
import { isHl7 } from './files';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Compact UTC timestamp with milliseconds: 20261128T043652123Z. */
export function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds(), 3)}Z`;
}

/** Make a value safe inside a file name. */
function safe(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
}

/**
 * Fill a file name template: {id}, {controlId}, {messageType}, {timestamp}, {date}, {item}, or an
 * HL7 path like {PID-3.1}. Values are sanitised (no path separators can come from a message).
 */
export function fillTemplate(template: string, envelope: MessageEnvelope, item: string, now = Date.now()): string {
  let parsed: Hl7Message | undefined;
  const hl7 = (path: string) => {
    if (!isHl7(envelope.header.contentType)) return '';
    try {
      parsed ??= envelope.parse<Hl7Message>();
      return parsed.get(path) ?? '';
    } catch (_e) {
      return '';
    }
  };
  return template.replace(/\{([^}]+)\}/g, (_m, key: string) => {
    switch (key) {
      case 'id':
        return safe(envelope.header.messageId);
      case 'controlId':
        return safe(envelope.header.controlId ?? hl7('MSH-10'));
      case 'messageType':
        return safe((envelope.header.messageType ?? hl7('MSH-9')).replace(/\^/g, '_'));
      case 'timestamp':
        return stamp(now);
      case 'date':
        return stamp(now).slice(0, 8);
      case 'item':
        return safe(item);
      default:
        return /^[A-Z][A-Z0-9]{2}/.test(key) ? safe(hl7(key)) : '';
    }
  });
}
