/**
 * The trace of a message, derived from its id: a UUID's 32 hex digits are a valid W3C / OpenTelemetry
 * trace id, so the engine, the manager and the portal agree on a message's trace id without
 * storing it. Its root span id is the id's last 16 hex digits (a resend links to it).
 * @see https://www.w3.org/TR/trace-context/#trace-id
 */
const HEX32 = /^[0-9a-f]{32}$/;
const ZERO16 = '0000000000000000';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of the trace a message id starts, or undefined when the id is no UUID-like hex. */
export function traceIdOf(messageId: string): string | undefined {
  const hex = messageId.replace(/-/g, '').toLowerCase();
  return HEX32.test(hex) && hex !== ZERO16 + ZERO16 ? hex : undefined;
}

/** The span id of the root span of the trace {@link traceIdOf} gives (`undefined` likewise). */
export function rootSpanIdOf(messageId: string): string | undefined {
  const hex = traceIdOf(messageId)?.slice(16);
  return hex && hex !== ZERO16 ? hex : undefined;
}

/** A W3C `traceparent` (version 00) taken apart; undefined when malformed or all-zero. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string; sampled: boolean } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || m[1] === ZERO16 + ZERO16 || m[2] === ZERO16) return undefined;
  return { traceId: m[1], spanId: m[2], sampled: (parseInt(m[3], 16) & 1) === 1 };
}
