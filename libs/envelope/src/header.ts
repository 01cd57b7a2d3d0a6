import { isEncoding, type Encoding } from './bytes';
import { EnvelopeError, type EnvelopeErrorCode } from './envelope-error';

/** A JSON value: what custom properties may hold (they cross threads, Redis and the store). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Lowest message priority. */
export const MIN_PRIORITY = 0;
/** Highest message priority (served first by `priority` queues). */
export const MAX_PRIORITY = 9;
/** Priority of a message unless given. */
export const DEFAULT_PRIORITY = 5;

/**
 * The envelope header: ids, routing and schema metadata. Plain data (it crosses worker threads
 * and the bus as bytes). Optional fields are absent, never present with `undefined`.
 */
export interface MessageHeader {
  /** Unique id of this message (a UUID v7: sorts by creation time). */
  messageId: string;
  /** Ties related messages together (for HL7, MSH-10 of the message received). @defaultValue the messageId */
  correlationId: string;
  /** When the message was created, in Unix milliseconds. */
  timestamp: number;
  /** Name of the item that created the message. */
  source: string;
  /** Name of the item it is for, or `''` when routing decides. @defaultValue `''` */
  destination: string;
  /** What the body holds, as a class-like name: `'hl7.v2'`, `'fhir.resource'`, `'json'`. */
  bodyClassName: string;
  /** MIME type of the body; selects the codec: `'application/hl7-v2+er7'`, `'application/fhir+json'`. */
  contentType: string;
  /** Version of the body's schema: `'2.5.1'`, `'R4'`, `'custom-v1'`, or `''`. */
  schemaVersion: string;
  /** How the body's bytes read as text. @defaultValue `'utf-8'` */
  encoding: Encoding;
  /** 0 (lowest) to 9 (highest). @defaultValue 5 */
  priority: number;
  /** Time to live in milliseconds from `timestamp`; absent = never expires. */
  ttl?: number;
  /** Delivery attempts so far beyond the first. @defaultValue 0 */
  retryCount: number;
  /** Free-form metadata (JSON values only). @defaultValue `{}` */
  customProperties: Record<string, JsonValue>;
  /** Id of the message this one was derived from. */
  parentId?: string;
  /** Id of the first message of the trace this message belongs to. */
  sessionId?: string;
  /** HL7 message control id (MSH-10), when the body is HL7 v2. */
  controlId?: string;
  /** HL7 message type (MSH-9.1^MSH-9.2, e.g. `'ADT^A01'`), when the body is HL7 v2. */
  messageType?: string;
}

/** True for a non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copies a record of JSON values deeply (fast path for the usual empty one). */
export function cloneJsonRecord(record: Record<string, JsonValue>): Record<string, JsonValue> {
  for (const _ in record) return structuredClone(record);
  return {};
}

function fail(code: EnvelopeErrorCode, message: string): never {
  throw new EnvelopeError(code, message);
}

/** Any object that may hold header fields (a header, a JSON object, a partial). */
export type HeaderLike = { [K in keyof MessageHeader]?: unknown };

function str(o: HeaderLike, key: keyof MessageHeader, code: EnvelopeErrorCode): string {
  const v = o[key];
  return typeof v === 'string' ? v : fail(code, `header.${key} must be a string`);
}

function optStr(o: HeaderLike, key: keyof MessageHeader, code: EnvelopeErrorCode): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : fail(code, `header.${key} must be a string when present`);
}

/**
 * Checks an untrusted object field by field and returns a well-formed header (optional fields
 * absent when `undefined` or `null`). `code` is the error code to throw with.
 *
 * @throws EnvelopeError with `code` naming the first bad field
 */
export function readHeader(o: HeaderLike, code: EnvelopeErrorCode): MessageHeader {
  const timestamp = o.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) fail(code, 'header.timestamp must be a finite number');
  const encoding = o.encoding;
  if (!isEncoding(encoding)) fail(code, `header.encoding must be one of utf-8, ascii, latin1, base64, binary`);
  const priority = o.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    fail(code, `header.priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}`);
  }
  const retryCount = o.retryCount;
  if (typeof retryCount !== 'number' || !Number.isInteger(retryCount) || retryCount < 0) {
    fail(code, 'header.retryCount must be a non-negative integer');
  }
  const customProperties = o.customProperties;
  if (!isPlainObject(customProperties)) fail(code, 'header.customProperties must be an object');
  const header: MessageHeader = {
    messageId: str(o, 'messageId', code),
    correlationId: str(o, 'correlationId', code),
    timestamp,
    source: str(o, 'source', code),
    destination: str(o, 'destination', code),
    bodyClassName: str(o, 'bodyClassName', code),
    contentType: str(o, 'contentType', code),
    schemaVersion: str(o, 'schemaVersion', code),
    encoding,
    priority,
    retryCount,
    // JSON.parse output or checked by the caller: values are JSON
    customProperties: customProperties as Record<string, JsonValue>,
  };
  const ttl = o.ttl;
  if (ttl !== undefined && ttl !== null) {
    if (typeof ttl !== 'number' || !(ttl >= 0) || !Number.isFinite(ttl)) fail(code, 'header.ttl must be a non-negative number');
    header.ttl = ttl;
  }
  const parentId = optStr(o, 'parentId', code);
  if (parentId !== undefined) header.parentId = parentId;
  const sessionId = optStr(o, 'sessionId', code);
  if (sessionId !== undefined) header.sessionId = sessionId;
  const controlId = optStr(o, 'controlId', code);
  if (controlId !== undefined) header.controlId = controlId;
  const messageType = optStr(o, 'messageType', code);
  if (messageType !== undefined) header.messageType = messageType;
  return header;
}
