import { utf8Decode } from './bytes';
import { EnvelopeError } from './envelope-error';
import { isPlainObject, readHeader, type HeaderLike, type JsonValue, type MessageHeader } from './header';

/**
 * Compact binary form of an envelope, for worker threads, the bus and the store:
 *
 * ```
 * offset 0   4 bytes  magic "HENV"
 *        4   1 byte   format version (1)
 *        5   u32 BE   M = length of the metadata block
 *        9   u32 BE   R = length of the raw body
 *       13   M bytes  metadata: UTF-8 JSON array, fields by position (see META_FIELDS)
 *     13+M   R bytes  raw body, as is (no base64)
 * ```
 *
 * Positional JSON is smaller and faster to parse than keyed JSON, and `JSON.parse` is the
 * fastest structured decoder a JS engine has; absent optional fields are `null` (no present
 * optional field can be `null`, so absence round-trips exactly).
 */
export const ENVELOPE_MAGIC = new Uint8Array([0x48, 0x45, 0x4e, 0x56]);
/** Current format version written by {@link encodeEnvelope}. */
export const ENVELOPE_FORMAT_VERSION = 1;
const PREFIX = 13;

/** Everything serialised: the header and the body's state (not its parse cache). */
export interface EnvelopeData {
  header: MessageHeader;
  schemaName: string;
  schemaNamespace: string;
  raw: Uint8Array;
  validated: boolean;
  validationErrors: string[];
  bodyProperties: Record<string, JsonValue>;
}

const encoder = new TextEncoder();
// Any char outside ASCII makes the UTF-8 length differ from the string length.
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Serialises an envelope's data. */
export function encodeEnvelope(d: EnvelopeData): Uint8Array {
  const h = d.header;
  const json = JSON.stringify([
    h.messageId,
    h.correlationId,
    h.timestamp,
    h.source,
    h.destination,
    h.bodyClassName,
    h.contentType,
    h.schemaVersion,
    h.encoding,
    h.priority,
    h.ttl ?? null,
    h.retryCount,
    h.customProperties,
    h.parentId ?? null,
    h.sessionId ?? null,
    h.controlId ?? null,
    h.messageType ?? null,
    d.schemaName,
    d.schemaNamespace,
    d.validated,
    d.validationErrors,
    d.bodyProperties,
  ]);
  const raw = d.raw;
  let out: Uint8Array;
  let metaLength: number;
  if (!NON_ASCII.test(json)) {
    // usual case: exact size known, encode straight into the output
    metaLength = json.length;
    out = new Uint8Array(PREFIX + metaLength + raw.length);
    encoder.encodeInto(json, out.subarray(PREFIX));
  } else {
    const meta = encoder.encode(json);
    metaLength = meta.length;
    out = new Uint8Array(PREFIX + metaLength + raw.length);
    out.set(meta, PREFIX);
  }
  out.set(ENVELOPE_MAGIC, 0);
  out[4] = ENVELOPE_FORMAT_VERSION;
  writeU32(out, 5, metaLength);
  writeU32(out, 9, raw.length);
  out.set(raw, PREFIX + metaLength);
  return out;
}

function corrupt(message: string, cause?: unknown): never {
  throw new EnvelopeError('envelope.decode', `not an envelope: ${message}`, cause === undefined ? {} : { cause });
}

const HEADER_KEYS = [
  'messageId',
  'correlationId',
  'timestamp',
  'source',
  'destination',
  'bodyClassName',
  'contentType',
  'schemaVersion',
  'encoding',
  'priority',
  'ttl',
  'retryCount',
  'customProperties',
  'parentId',
  'sessionId',
  'controlId',
  'messageType',
] as const;
const META_FIELDS = HEADER_KEYS.length + 5;

/**
 * Reads {@link encodeEnvelope}'s output. The raw body is copied out, so the input buffer may
 * be reused afterwards.
 *
 * @throws EnvelopeError `envelope.decode` for anything that is not a complete, well-formed envelope
 */
export function decodeEnvelope(bytes: Uint8Array): EnvelopeData {
  if (!(bytes instanceof Uint8Array)) corrupt('expected a Uint8Array');
  if (bytes.length < PREFIX) corrupt(`${bytes.length} bytes is too short`);
  for (let i = 0; i < ENVELOPE_MAGIC.length; i++) if (bytes[i] !== ENVELOPE_MAGIC[i]) corrupt('bad magic');
  if (bytes[4] !== ENVELOPE_FORMAT_VERSION) corrupt(`unsupported format version ${bytes[4]}`);
  const metaLength = readU32(bytes, 5);
  const rawLength = readU32(bytes, 9);
  if (PREFIX + metaLength + rawLength !== bytes.length) {
    corrupt(`lengths ${metaLength}+${rawLength} do not match ${bytes.length - PREFIX} bytes of data`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(utf8Decode(bytes.subarray(PREFIX, PREFIX + metaLength)));
  } catch (e) {
    corrupt('metadata is not JSON', e);
  }
  if (!Array.isArray(meta) || meta.length !== META_FIELDS) corrupt('metadata has the wrong shape');
  const fields: HeaderLike = {};
  for (let i = 0; i < HEADER_KEYS.length; i++) fields[HEADER_KEYS[i]] = meta[i];
  let header: MessageHeader;
  try {
    header = readHeader(fields, 'envelope.decode');
  } catch (e) {
    corrupt(e instanceof Error ? e.message : String(e));
  }
  const [schemaName, schemaNamespace, validated, validationErrors, bodyProperties] = meta.slice(HEADER_KEYS.length);
  if (typeof schemaName !== 'string' || typeof schemaNamespace !== 'string') corrupt('bad body schema fields');
  if (typeof validated !== 'boolean') corrupt('bad body.validated');
  if (!Array.isArray(validationErrors)) corrupt('bad body.validationErrors');
  for (const error of validationErrors) if (typeof error !== 'string') corrupt('bad body.validationErrors');
  if (!isPlainObject(bodyProperties)) corrupt('bad body.customProperties');
  return {
    header,
    schemaName,
    schemaNamespace,
    raw: bytes.slice(PREFIX + metaLength),
    validated,
    validationErrors,
    // values came out of JSON.parse
    bodyProperties: bodyProperties as Record<string, JsonValue>,
  };
}
